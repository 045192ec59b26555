// SPDX-License-Identifier: GPL-2.0
/* vfslock probe: what this kernel lets vfslock attach, and which modes follow. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cmds.h"
#include "probe.h"
#include "util.h"

/*
 * Which subcommands can run here, named by what they lack: "available"
 * only once their programs loaded (caps_probe_loads()).
 */
static const char *mode_check(const struct vl_caps *c, char *buf, size_t len)
{
	char why[256];

	if (!c->cap[CAP_BTF].ok || !c->cap[CAP_RINGBUF].ok)
		return "unavailable: needs BTF and ring buffers";
	if (!c->cap[CAP_FENTRY].ok || !c->cap[CAP_FEXIT].ok)
		return "unavailable: needs fentry/fexit to see method calls and lock holds";
	if (!c->cap[CAP_ITER].ok)
		return "unavailable: needs BPF iterators to find filesystem methods";
	if (!c->cap[CAP_CHECK_LOAD].ok) {
		snprintf(buf, len, "unavailable: its programs do not load here: %s",
			 cap_reason(&c->cap[CAP_CHECK_LOAD], why, sizeof(why)));
		return buf;
	}
	if (c->cap[CAP_CHECK_LOAD].detail[0]) {
		snprintf(buf, len, "available, %s%s", c->cap[CAP_CHECK_LOAD].detail,
			 c->cap[CAP_MODULE_BTF].ok ? "" : "; not for filesystems built as modules "
			 "(no module BTF)");
		return buf;
	}
	if (!c->cap[CAP_MODULE_BTF].ok)
		return "available, but not for filesystems built as modules (no module BTF)";
	return "available";
}

static const char *mode_contention(const struct vl_caps *c, char *buf, size_t len)
{
	char why[256];

	if (!caps_contention(c)) {
		snprintf(buf, len, "unavailable: needs the contention_begin/end tracepoints "
			 "(5.19+) or fentry on the lock slow paths: %s",
			 cap_reason(caps_contention_missing(c), why, sizeof(why)));
		return buf;
	}
	if (!c->cap[CAP_CONTENTION_LOAD].ok) {
		snprintf(buf, len, "unavailable: its programs do not load here: %s",
			 cap_reason(&c->cap[CAP_CONTENTION_LOAD], why, sizeof(why)));
		return buf;
	}
	snprintf(buf, len, "available (waits from the %s)", caps_contention_source(c));
	return buf;
}

int do_probe(int argc, char **argv)
{
	char buf[256], mc[640], mt[640];
	struct vl_caps c;
	int i;

	if (argc > 1) {
		fprintf(stderr, "Usage: vfslock probe\n");
		return EXIT_TOOL;
	}
	caps_probe(&c);
	caps_probe_loads(&c);
	mode_check(&c, mc, sizeof(mc));
	mode_contention(&c, mt, sizeof(mt));
	if (json_output) {
		json_object *o = json_object_new_object(), *caps = json_object_new_object();
		json_object *modes = json_object_new_object();

		json_object_object_add(o, "kernel", json_object_new_string(c.kernel));
		json_object_object_add(o, "lockdown", json_object_new_string(c.lockdown));
		for (i = 0; i < CAP_MAX; i++) {
			json_object *k = json_object_new_object();

			json_object_object_add(k, "ok", json_object_new_boolean(c.cap[i].ok));
			json_object_object_add(k, "for", json_object_new_string(c.cap[i].what));
			if (c.cap[i].ok && c.cap[i].detail[0])
				json_object_object_add(k, "note",
						       json_object_new_string(c.cap[i].detail));
			if (!c.cap[i].ok) {
				json_object_object_add(k, "step", json_object_new_string(
					c.cap[i].step ? c.cap[i].step : ""));
				json_object_object_add(k, "errno", json_object_new_int(c.cap[i].err));
				json_object_object_add(k, "error", json_object_new_string(
					c.cap[i].detail[0] ? c.cap[i].detail :
					strerror(c.cap[i].err)));
			}
			json_object_object_add(caps, c.cap[i].name, k);
		}
		json_object_object_add(o, "capabilities", caps);
		json_object_object_add(modes, "check",
				       json_object_new_string(mode_check(&c, mc, sizeof(mc))));
		json_object_object_add(modes, "contention",
				       json_object_new_string(mode_contention(&c, mt, sizeof(mt))));
		json_object_object_add(o, "modes", modes);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return EXIT_OK;
	}
	printf("kernel    %s (lockdown: %s)\n", c.kernel, c.lockdown);
	for (i = 0; i < CAP_MAX; i++)
		printf("  %-16s %-4s %s%s%s\n", c.cap[i].name, c.cap[i].ok ? "yes" : "no",
		       c.cap[i].what, c.cap[i].ok ? "" : "\n                        -> ",
		       c.cap[i].ok ? "" : cap_reason(&c.cap[i], buf, sizeof(buf)));
	printf("modes\n  check            %s\n  contention       %s\n", mode_check(&c, mc, sizeof(mc)),
	       mode_contention(&c, mt, sizeof(mt)));
	return EXIT_OK;
}
