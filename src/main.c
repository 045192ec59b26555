// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock: checks the VFS locking rules of Documentation/filesystems/locking.rst
 * on a live kernel, and measures lock contention.
 *
 * One file per subcommand, dispatched from cmds[] as bpftool does.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cmds.h"
#include "util.h"

static int do_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "check",	do_check,	"run a command and check the locking rules it exercises" },
	{ "methods",	do_methods,	"list the method implementations of the mounted filesystems" },
	{ "probe",	do_probe,	"say what this kernel lets vfslock attach" },
	{ "rules",	do_rules,	"list, dump and compare the rules of locking.rst" },
	{ "top",	do_top,		"live view of lock contention: locks, tasks, call sites" },
	{ "record",	do_record,	"record events into a trace for offline analysis" },
	{ "report",	do_report,	"what a recorded trace shows: deviations, contention" },
	{ "daemon",	do_daemon,	"load the probes once, record and serve viewers and metrics" },
	{ "export",	do_export,	"a recorded trace as a timeline (Perfetto)" },
	{ "help",	do_help,	"this text" },
	{ NULL, NULL, NULL },
};

static int do_help(int argc, char **argv)
{
	const struct cmd *c;

	fprintf(stderr,
		"Usage: vfslock [-j] [-v] COMMAND [ARGS]\n\n"
		"Options:\n"
		"  -j, --json     machine-readable JSON output\n"
		"  -v, --verbose  say more (repeat for debug output)\n"
		"  -V, --version  print the version\n\n"
		"Commands:\n");
	for (c = cmds; c->name; c++)
		fprintf(stderr, "  %-8s %s\n", c->name, c->help);
	fprintf(stderr, "\n'vfslock COMMAND --help' describes a command.\n");
	return 0;
}

/* libbpf's messages: warnings always, its information with -v, its debug with -vv. */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument, NULL, 'j' },
		{ "verbose",	no_argument, NULL, 'v' },
		{ "version",	no_argument, NULL, 'V' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	/* '+': stop at the command, its options are its own */
	while ((opt = getopt_long(argc, argv, "+jvVh", opts, NULL)) >= 0) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("vfslock %s\n", VFSLOCK_VERSION);
			return 0;
		case 'h':
			return do_help(argc, argv);
		default:
			do_help(argc, argv);
			return EXIT_TOOL;
		}
	}
	argc -= optind;
	argv += optind;
	libbpf_set_print(libbpf_quiet);
	if (argc < 1) {
		do_help(argc, argv);
		return EXIT_TOOL;
	}
	return cmd_select(cmds, argc, argv, do_help);
}
