// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "util.h"

int cmd_select(const struct cmd *table, int argc, char **argv, int (*help)(int, char **))
{
	const struct cmd *c;

	if (argc < 1)
		return help ? help(argc, argv) : EXIT_TOOL;
	for (c = table; c->name; c++)
		if (!strcmp(argv[0], c->name))
			return c->fn(argc, argv);
	p_err("unknown command '%s'", argv[0]);
	if (help)
		help(argc, argv);
	return EXIT_TOOL;
}
