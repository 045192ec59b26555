// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"
#include "util.h"

#define ENTRY_FORMAT "RULE [at SYMBOL] [drift|filesystem|module]: REASON"

/* The attributions an entry may name; "drift" is what attrib.h calls core. */
static const struct {
	const char *word;
	enum vl_attrib attrib;
} attrib_words[] = {
	{ "drift",	VL_ATTR_CORE },
	{ "filesystem",	VL_ATTR_FILESYSTEM },
	{ "module",	VL_ATTR_MODULE },
};

static int attrib_word(const char *w)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(attrib_words); i++)
		if (!strcmp(w, attrib_words[i].word))
			return i;
	return -1;
}

static int bad(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int bad(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* fnmatch() takes an unclosed '[' literally: here it is a typo. */
static bool brackets_closed(const char *p)
{
	for (; *p; p++) {
		if (*p != '[')
			continue;
		p++;
		if (*p == '!' || *p == '^')
			p++;
		if (*p == ']')
			p++;	/* first in the set: a literal ']' */
		while (*p && *p != ']')
			p++;
		if (!*p)
			return false;
	}
	return true;
}

/* Rule ids are letters, digits, '_' and '.' (docs/rules.md); the rest is glob. */
static bool rule_pattern_chars(const char *p)
{
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.*?[]!^-", *p))
			return false;
	return true;
}

/* One line, comments and blanks included; @l is modified. */
static int parse_line(struct vl_supps *s, const char *file, int line, char *l,
		      char *err, size_t errlen)
{
	char *colon, *reason, *tok, *save = NULL, *rule, *at = NULL, *text;
	int attrib = -1, w;
	struct vl_supp *e;

	l = strtrim(l);
	if (!*l || *l == '#')
		return 0;
	text = xstrdup(l);
	colon = strchr(l, ':');
	if (!colon) {
		free(text);
		return bad(err, errlen, file, line, "no reason: an entry is '" ENTRY_FORMAT "'");
	}
	*colon = '\0';
	reason = strtrim(colon + 1);
	rule = strtok_r(l, " \t", &save);
	if (!rule)
		goto no_rule;
	if (!strcmp(rule, "at") || attrib_word(rule) >= 0)
		goto no_rule;
	if (!rule_pattern_chars(rule)) {
		bad(err, errlen, file, line, "'%s' is not a rule id pattern: rule ids are letters, "
		    "digits, '_' and '.', and * ? [...] match several", rule);
		goto fail;
	}
	if (!brackets_closed(rule))
		goto unclosed;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (!strcmp(tok, "at")) {
			if (at) {
				bad(err, errlen, file, line, "'at' given twice: an entry names one "
				    "symbol pattern");
				goto fail;
			}
			at = strtok_r(NULL, " \t", &save);
			if (!at) {
				bad(err, errlen, file, line, "'at' without a symbol pattern");
				goto fail;
			}
			if (!brackets_closed(at)) {
				rule = at;
				goto unclosed;
			}
			continue;
		}
		w = attrib_word(tok);
		if (w < 0) {
			bad(err, errlen, file, line, "'%s' is neither 'at SYMBOL' nor an attribution "
			    "(drift, filesystem, module)", tok);
			goto fail;
		}
		if (attrib >= 0) {
			bad(err, errlen, file, line, "two attributions, '%s' and '%s': an entry names "
			    "one", attrib_words[attrib].word, tok);
			goto fail;
		}
		attrib = w;
	}
	if (!*reason) {
		bad(err, errlen, file, line, "empty reason after ':': say why the deviation is "
		    "accepted");
		goto fail;
	}

	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->file = xstrdup(file);
	e->line = line;
	e->text = text;
	e->rule = xstrdup(rule);
	e->at = at ? xstrdup(at) : NULL;
	e->by_attrib = attrib >= 0;
	e->attrib = attrib >= 0 ? attrib_words[attrib].attrib : VL_ATTR_UNKNOWN;
	e->reason = xstrdup(reason);
	return 0;

no_rule:
	bad(err, errlen, file, line, "no rule id pattern: an entry is '" ENTRY_FORMAT "'");
	goto fail;
unclosed:
	bad(err, errlen, file, line, "unclosed '[' in '%s'", rule);
fail:
	free(text);
	return -1;
}

int supp_parse(struct vl_supps *s, const char *file, const char *text, char *err, size_t errlen)
{
	char *copy = xstrdup(text), *l = copy, *nl;
	int line = 0, ret = 0;

	while (l && !ret) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		ret = parse_line(s, file, ++line, l, err, errlen);
		l = nl ? nl + 1 : NULL;
	}
	free(copy);
	return ret;
}

int supp_load(struct vl_supps *s, const char *path, char *err, size_t errlen)
{
	char *text = read_file(path, NULL);
	int ret;

	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = supp_parse(s, path, text, err, errlen);
	free(text);
	return ret;
}

void supp_free(struct vl_supps *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].file);
		free(s->v[i].text);
		free(s->v[i].rule);
		free(s->v[i].at);
		free(s->v[i].reason);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool some_frame(const char *pattern, const struct ksym *const *syms, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (syms[i] && !fnmatch(pattern, syms[i]->name, 0))
			return true;
	return false;
}

int supp_match(const struct vl_supps *s, const char *rule_id, const struct ksym *const *syms,
	       int n, enum vl_attrib a)
{
	int i;

	for (i = 0; s && i < s->n; i++) {
		const struct vl_supp *e = &s->v[i];

		if (fnmatch(e->rule, rule_id, 0))
			continue;
		if (e->by_attrib && e->attrib != a)
			continue;
		if (e->at && !some_frame(e->at, syms, n))
			continue;
		return i;
	}
	return -1;
}
