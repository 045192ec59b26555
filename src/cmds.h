/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VFSLOCK_CMDS_H
#define VFSLOCK_CMDS_H

#define VFSLOCK_VERSION "0.1.0"

/* Exit statuses, documented in docs/usage.md. */
enum {
	EXIT_OK		= 0,	/* no deviation */
	EXIT_DEVIATION	= 1,	/* the rules were broken */
	EXIT_TOOL	= 2,	/* vfslock could not do its job; the reason was printed */
	EXIT_UNSUPPORTED = 3,	/* this kernel cannot be checked (no fentry, BTF...) */
};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* Run the entry of @table named by argv[0]. */
int cmd_select(const struct cmd *table, int argc, char **argv, int (*help)(int, char **));

int do_check(int argc, char **argv);
int do_methods(int argc, char **argv);
int do_probe(int argc, char **argv);
int do_rules(int argc, char **argv);
int do_top(int argc, char **argv);
int do_record(int argc, char **argv);
int do_report(int argc, char **argv);
int do_export(int argc, char **argv);
int do_daemon(int argc, char **argv);

#endif
