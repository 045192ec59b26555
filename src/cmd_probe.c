// SPDX-License-Identifier: GPL-2.0
/* vfslock probe: what this kernel lets vfslock attach, and which modes follow. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cmds.h"
#include "probe.h"
#include "util.h"

/* Which subcommands can run here, named by what they lack. */
static const char *mode_check(const struct vl_caps *c)
{
	if (!c->cap[CAP_BTF].ok || !c->cap[CAP_RINGBUF].ok)
		return "unavailable: needs BTF and ring buffers";
	if (!c->cap[CAP_FENTRY].ok || !c->cap[CAP_FEXIT].ok)
		return "unavailable: needs fentry/fexit to see method calls and lock holds";
	if (!c->cap[CAP_ITER].ok)
		return "unavailable: needs BPF iterators to find filesystem methods";
	return "available";
}

static const char *mode_contention(const struct vl_caps *c)
{
	if (!c->cap[CAP_CONTENTION_TP].ok || !c->cap[CAP_RINGBUF].ok)
		return "unavailable: needs the contention_begin/end tracepoints";
	return "available";
}

int do_probe(int argc, char **argv)
{
	struct vl_caps c;
	char buf[256];
	int i;

	if (argc > 1) {
		fprintf(stderr, "Usage: vfslock probe\n");
		return EXIT_TOOL;
	}
	caps_probe(&c);
	if (json_output) {
		json_object *o = json_object_new_object(), *caps = json_object_new_object();
		json_object *modes = json_object_new_object();

		json_object_object_add(o, "kernel", json_object_new_string(c.kernel));
		json_object_object_add(o, "lockdown", json_object_new_string(c.lockdown));
		for (i = 0; i < CAP_MAX; i++) {
			json_object *k = json_object_new_object();

			json_object_object_add(k, "ok", json_object_new_boolean(c.cap[i].ok));
			json_object_object_add(k, "for", json_object_new_string(c.cap[i].what));
			if (!c.cap[i].ok) {
				json_object_object_add(k, "step", json_object_new_string(
					c.cap[i].step ? c.cap[i].step : ""));
				json_object_object_add(k, "errno", json_object_new_int(c.cap[i].err));
				json_object_object_add(k, "error", json_object_new_string(
					strerror(c.cap[i].err)));
			}
			json_object_object_add(caps, c.cap[i].name, k);
		}
		json_object_object_add(o, "capabilities", caps);
		json_object_object_add(modes, "check", json_object_new_string(mode_check(&c)));
		json_object_object_add(modes, "contention",
				       json_object_new_string(mode_contention(&c)));
		json_object_object_add(o, "modes", modes);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return EXIT_OK;
	}
	printf("kernel    %s (lockdown: %s)\n", c.kernel, c.lockdown);
	for (i = 0; i < CAP_MAX; i++)
		printf("  %-14s %-4s %s%s%s\n", c.cap[i].name, c.cap[i].ok ? "yes" : "no",
		       c.cap[i].what, c.cap[i].ok ? "" : "\n                      -> ",
		       c.cap[i].ok ? "" : cap_reason(&c.cap[i], buf, sizeof(buf)));
	printf("modes\n  check          %s\n  contention     %s\n", mode_check(&c),
	       mode_contention(&c));
	return EXIT_OK;
}
