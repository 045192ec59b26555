// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock methods [--fs LIST] [--rules FILE] [--kernel X.Y]
 *
 * The method implementations discovery finds in the mounted filesystems,
 * and how many rules of the document in force each is checked against:
 * what `vfslock check` would trace. Needs BTF, BPF iterators and
 * kallsyms only, so it runs on hosts that refuse fentry too.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "catalog.h"
#include "cmds.h"
#include "discover.h"
#include "engine.h"
#include "kbtf.h"
#include "ksyms.h"
#include "rules.h"
#include "util.h"

static int methods_help(void)
{
	fprintf(stderr,
		"Usage: vfslock methods [--fs LIST] [--rules FILE] [--kernel X.Y]\n\n"
		"List the method implementations of the mounted filesystems, as discovery\n"
		"finds them in the kernel's operation tables, with the rules each is checked\n"
		"against.\n\n"
		"  --fs LIST        filesystem types, comma separated (default: all mounted)\n"
		"  --rules FILE     locking.rst to bind against (default: the running kernel's)\n"
		"  --kernel X.Y     use the embedded locking.rst of kernel X.Y\n");
	return EXIT_TOOL;
}

static const char *kind_name(uint8_t k)
{
	static const char *const n[] = {
		[VL_ARG_SCALAR] = "scalar", [VL_ARG_INODE] = "inode", [VL_ARG_DENTRY] = "dentry",
		[VL_ARG_FILE] = "file", [VL_ARG_PATH] = "path", [VL_ARG_SB] = "super_block",
		[VL_ARG_MAPPING] = "address_space", [VL_ARG_FOLIO] = "folio",
		[VL_ARG_PAGE] = "page", [VL_ARG_RAC] = "readahead_control",
		[VL_ARG_FOLIO_OUT] = "folio_out", [VL_ARG_PAGE_OUT] = "page_out",
		[VL_ARG_VMF] = "vm_fault", [VL_ARG_VMA] = "vm_area_struct",
		[VL_ARG_FILE_LOCK] = "file_lock",
	};

	return k < ARRAY_SIZE(n) && n[k] ? n[k] : "?";
}

static json_object *fn_json(struct vl_engine *eng, const struct vl_fn *f)
{
	json_object *o = json_object_new_object(), *roles = json_object_new_array();
	json_object *kinds = json_object_new_array();
	int k;

	json_object_object_add(o, "function", json_object_new_string(f->name));
	json_object_object_add(o, "module", json_object_new_string(f->module));
	json_object_object_add(o, "fstypes", json_object_new_string(f->fstypes));
	for (k = 0; k < f->nroles; k++) {
		char buf[160];

		snprintf(buf, sizeof(buf), "%s.%s", f->roles[k].ops_struct, f->roles[k].method);
		json_object_array_add(roles, json_object_new_string(buf));
	}
	json_object_object_add(o, "roles", roles);
	for (k = 0; k < f->nargs && k < VL_MAX_ARGS; k++)
		json_object_array_add(kinds, json_object_new_string(kind_name(f->arg_kind[k])));
	json_object_object_add(o, "args", kinds);
	json_object_object_add(o, "traceable", json_object_new_boolean(f->nargs >= 0));
	json_object_object_add(o, "checked", json_object_new_boolean(engine_fn_checked(eng, f)));
	return o;
}

int do_methods(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fs",		required_argument, NULL, 'f' },
		{ "rules",	required_argument, NULL, 'r' },
		{ "kernel",	required_argument, NULL, 'k' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *fslist = NULL, *path = NULL, *kver = NULL;
	struct vl_catalog cat = { 0 };
	struct vl_discovery disc = { 0 };
	struct vl_mounts mounts = { 0 };
	struct vl_ruleset *rs = NULL;
	struct vl_engine *eng = NULL;
	struct ksyms *ks = NULL;
	struct kbtf *kb = NULL;
	int opt, i, k, ret = EXIT_TOOL, err;
	char msg[512];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:r:k:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'f':
			fslist = optarg;
			break;
		case 'r':
			path = optarg;
			break;
		case 'k':
			kver = optarg;
			break;
		default:
			return methods_help();
		}
	}
	if (optind != argc)
		return methods_help();

	rs = rules_load(path, kver, msg, sizeof(msg));
	if (!rs) {
		p_err("%s", msg);
		return EXIT_TOOL;
	}
	kb = kbtf__open();
	if (!kb) {
		p_err("reading the kernel's BTF: %s", strerror(errno));
		goto out;
	}
	ks = ksyms__load(NULL);
	if (!ks) {
		p_err("reading /proc/kallsyms: %s", strerror(errno));
		goto out;
	}
	if (discover_mounts(NULL, fslist, &mounts) || !mounts.n) {
		p_err("no mounted filesystem of type %s", fslist ? fslist : "any");
		goto out;
	}
	err = discover_methods(&mounts, kb, ks, &cat, &disc);
	if (err) {
		p_err("reading the filesystems' operation tables: %s", strerror(-err));
		goto out;
	}
	eng = engine_new(rs, &cat, ks);

	if (json_output) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(o, "rules", json_object_new_string(rs->source));
		for (i = 0; i < cat.nfns; i++)
			json_object_array_add(arr, fn_json(eng, &cat.fns[i]));
		json_object_object_add(o, "methods", arr);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		printf("rules from %s; %d implementations\n", rs->source, cat.nfns);
		for (i = 0; i < cat.nfns; i++) {
			const struct vl_fn *f = &cat.fns[i];

			printf("%-32s %-8s %-20s", f->name, engine_fn_checked(eng, f) ? "checked" :
			       f->nargs < 0 ? "no BTF" : "-", f->fstypes);
			for (k = 0; k < f->nroles; k++)
				printf(" %s.%s", f->roles[k].ops_struct, f->roles[k].method);
			printf("\n");
		}
	}
	ret = EXIT_OK;
out:
	engine_free(eng);
	discovery_free(&disc);
	catalog_free(&cat);
	mounts_free(&mounts);
	ksyms__free(ks);
	kbtf__free(kb);
	rules_free(rs);
	return ret;
}
