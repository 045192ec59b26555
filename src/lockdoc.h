/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Documentation/filesystems/locking.rst, as a document: sections, the
 * prototypes they declare, their tables cell by cell, their whole-section
 * statements and their prose. No interpretation happens here; rules.c gives
 * the cells and sentences their meaning.
 */
#ifndef VFSLOCK_LOCKDOC_H
#define VFSLOCK_LOCKDOC_H

#include <stdbool.h>
#include <stddef.h>

struct ld_arg {
	char *type;		/* "struct inode *", "unsigned int", "const char *" */
	char *name;		/* NULL when the prototype gives none */
	char *tag;		/* struct/enum/union tag ("inode"), NULL for scalars */
	int ptr;		/* levels of indirection */
};

struct ld_proto {
	int line;
	char *name;		/* "rename" */
	char *text;		/* the declaration, white space collapsed */
	char *ret;		/* "int", "struct dentry *" */
	int nargs;
	struct ld_arg *args;
};

struct ld_row {
	int line;
	char *op;		/* first cell without its trailing colon */
	char **cells;		/* ncols - 1 values, "" when empty */
};

struct ld_table {
	int line;		/* of the top border */
	int ncols;
	char **head;		/* ncols header cells; head[0] is "ops" */
	int nrows;
	struct ld_row *rows;
};

struct ld_para {
	int line;		/* first line */
	int end_line;		/* last line */
	char *text;		/* lines joined with single spaces */
};

struct ld_section {
	int line;
	char *title;		/* heading as written: "xattr_handler operations" */
	int nprotos;
	struct ld_proto *protos;
	int ntables;
	struct ld_table *tables;
	int nstmts;		/* whole-section statements under "locking rules:" */
	struct ld_para *stmts;
	int nparas;		/* prose paragraphs, footnotes included */
	struct ld_para *paras;
};

struct ld_doc {
	char *name;		/* file name or "embedded:6.12" */
	int nlines;
	int nsections;
	struct ld_section *sections;
};

/* Parse @len bytes of @text; @name is used in messages and kept. */
int ld_parse(const char *name, const char *text, size_t len, struct ld_doc **out,
	     char *err, size_t errlen);
int ld_parse_file(const char *path, struct ld_doc **out, char *err, size_t errlen);
void ld_free(struct ld_doc *doc);

const struct ld_section *ld_section_find(const struct ld_doc *doc, const char *title);
const struct ld_proto *ld_proto_find(const struct ld_section *s, const char *name);

/* @len bytes of @s with runs of white space made one space, ends trimmed. */
char *ld_collapse(const char *s, size_t len);

/* Split and normalise one prototype; exposed for the unit tests. */
int ld_proto_parse(const char *text, int line, struct ld_proto *p);
void ld_proto_free(struct ld_proto *p);

#endif
