"""What the Python judges of the VM suites share: one "ok - ..." or
"not ok - ..." line per check, a closing "N passed, M failed", and the
files a guest script left in the share directory (NAME.json, NAME.rc)."""
import json
import os
import sys


class Tap:
    def __init__(self, share):
        self.share = share
        self.tag = ""  # put before the name of a report that cannot be read
        self.passed = 0
        self.failed = 0

    def check(self, cond, name):
        print(("ok - " if cond else "not ok - ") + name)
        if cond:
            self.passed += 1
        else:
            self.failed += 1

    def load(self, name):
        """NAME.json, the report of `vfslock check --json`, or None (a failed check)"""
        try:
            with open(os.path.join(self.share, name + ".json")) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            self.check(False, f"{self.tag}{name}: report readable ({e})")
            return None

    def rc(self, name):
        """NAME.rc, the exit status the guest wrote, or None"""
        try:
            with open(os.path.join(self.share, name + ".rc")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
