#!/usr/bin/env bash
# tests/fuzz/run.sh: a bounded run of the trace reader's fuzz target (make
# fuzz, FUZZ_SECONDS default 60 here): passes when libFuzzer finds no crash,
# sanitizer report, leak or timeout. The corpus grows across runs in
# build/fuzz/corpus.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make -C "$ROOT" --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" > "$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
cov=$(grep -o 'DONE *cov: [0-9]*' "$log" | grep -o '[0-9]*$')
if [ "$rc" -eq 0 ] && [ -n "$runs" ] && [ "$runs" -gt 1000 ]; then
	echo "ok - fuzz_trace: ${runs} inputs in ${FUZZ_SECONDS:-60} s, no crash or sanitizer report (coverage ${cov:-?})"
	echo "1 passed, 0 failed"
	exit 0
fi
grep -E 'ERROR|SUMMARY|Test unit written|error:' "$log" | head -20 | sed 's/^/#   /'
echo "not ok - fuzz_trace: make fuzz exited $rc after ${runs:-0} inputs"
echo "0 passed, 1 failed"
exit 1
