// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "contend.h"
#include "discover.h"
#include "kbtf.h"
#include "ksyms.h"
#include "live.h"
#include "probe.h"
#include "util.h"

/* r0 = 0; exit: the smallest program every attach type accepts */
static const struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static void set(struct vl_cap *c, const char *name, const char *what)
{
	c->name = name;
	c->what = what;
	c->ok = false;
	c->err = 0;
	c->step = NULL;
	c->detail[0] = '\0';
}

static void fail(struct vl_cap *c, const char *step, int err)
{
	c->ok = false;
	c->step = step;
	c->err = err < 0 ? -err : err;
}

/* Load, and optionally attach, a trivial tracing program on @btf_id. */
static void try_tracing(struct vl_cap *c, enum bpf_attach_type type, int btf_id, bool attach)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type, .attach_btf_id = btf_id);
	int fd, link;

	if (btf_id <= 0) {
		fail(c, "find BTF id", ENOENT);
		return;
	}
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "vl_probe", "GPL", ret0, ARRAY_SIZE(ret0), &opts);
	if (fd < 0) {
		fail(c, "load", errno);
		return;
	}
	if (attach) {
		link = bpf_raw_tracepoint_open(NULL, fd);
		if (link < 0) {
			fail(c, "attach", errno);
			close(fd);
			return;
		}
		close(link);
	}
	close(fd);
	c->ok = true;
}

void caps_probe(struct vl_caps *c)
{
	struct btf *vmlinux;
	struct utsname u;
	struct ksyms *ks;
	FILE *f;
	int fd;

	memset(c, 0, sizeof(*c));
	if (uname(&u) == 0)
		snprintf(c->kernel, sizeof(c->kernel), "%s", u.release);
	snprintf(c->lockdown, sizeof(c->lockdown), "unknown");
	f = fopen("/sys/kernel/security/lockdown", "r");
	if (f) {
		char line[128], *a, *b;

		if (fgets(line, sizeof(line), f) && (a = strchr(line, '[')) && (b = strchr(a, ']')))
			snprintf(c->lockdown, sizeof(c->lockdown), "%.*s", (int)(b - a - 1), a + 1);
		fclose(f);
	}

	set(&c->cap[CAP_BTF], "btf", "kernel types: CO-RE and method discovery");
	set(&c->cap[CAP_RINGBUF], "ringbuf", "event stream to the daemon");
	set(&c->cap[CAP_FENTRY], "fentry", "VFS method entry and lock releases");
	set(&c->cap[CAP_FEXIT], "fexit", "lock acquisitions and method returns");
	set(&c->cap[CAP_TP_BTF], "tp_btf", "task and contention tracepoints");
	set(&c->cap[CAP_ITER], "iter", "reading operation tables of mounted filesystems");
	set(&c->cap[CAP_CONTENTION_TP], "contention_tp", "lock wait times (contention_begin/end)");
	set(&c->cap[CAP_CONTENTION_SLOW], "contention_slow",
	    "lock wait times before 5.19: fentry on the rwsem and mutex slow paths");
	set(&c->cap[CAP_MODULE_BTF], "module_btf", "methods of filesystems built as modules");
	set(&c->cap[CAP_KALLSYMS], "kallsyms", "symbolized stacks, method addresses");
	set(&c->cap[CAP_CHECK_LOAD], "check_load", "check's programs load (a dry load)");
	set(&c->cap[CAP_CONTENTION_LOAD], "contention_load",
	    "top's programs load (a dry load)");
	fail(&c->cap[CAP_CHECK_LOAD], "not tried", 0);
	fail(&c->cap[CAP_CONTENTION_LOAD], "not tried", 0);

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		fail(&c->cap[CAP_BTF], "open /sys/kernel/btf/vmlinux", errno);
	else
		c->cap[CAP_BTF].ok = true;

	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "vl_probe", 0, 0, 4096, NULL);
	if (fd < 0) {
		fail(&c->cap[CAP_RINGBUF], "create", errno);
	} else {
		c->cap[CAP_RINGBUF].ok = true;
		close(fd);
	}

	if (vmlinux) {
		int down_write = btf__find_by_name_kind(vmlinux, "down_write", BTF_KIND_FUNC);
		int sw = btf__find_by_name_kind(vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
		int it = btf__find_by_name_kind(vmlinux, "bpf_iter_task_file", BTF_KIND_FUNC);
		int ct = btf__find_by_name_kind(vmlinux, "btf_trace_contention_begin",
						BTF_KIND_TYPEDEF);
		int slow = btf__find_by_name_kind(vmlinux, "rwsem_down_write_slowpath",
						  BTF_KIND_FUNC);
		int rd = btf__find_by_name_kind(vmlinux, "rwsem_down_read_slowpath", BTF_KIND_FUNC);

		try_tracing(&c->cap[CAP_FENTRY], BPF_TRACE_FENTRY, down_write, true);
		try_tracing(&c->cap[CAP_FEXIT], BPF_TRACE_FEXIT, down_write, true);
		try_tracing(&c->cap[CAP_TP_BTF], BPF_TRACE_RAW_TP, sw, true);
		try_tracing(&c->cap[CAP_ITER], BPF_TRACE_ITER, it, false);
		if (ct > 0)
			try_tracing(&c->cap[CAP_CONTENTION_TP], BPF_TRACE_RAW_TP, ct, true);
		else
			fail(&c->cap[CAP_CONTENTION_TP], "find tracepoint (kernel older than 5.19)",
			     ENOENT);
		try_tracing(&c->cap[CAP_CONTENTION_SLOW], BPF_TRACE_FENTRY, slow, true);
		if (rd > 0) {
			const struct btf_type *fn = btf__type_by_id(vmlinux, rd);
			const struct btf_type *proto = btf__type_by_id(vmlinux, fn->type);

			c->rwsem_read_slow_nargs = btf_vlen(proto);
		}
		if (btf__find_by_name_kind(vmlinux, "__folio_lock", BTF_KIND_FUNC) > 0)
			snprintf(c->folio_lock_fn, sizeof(c->folio_lock_fn), "__folio_lock");
		else if (btf__find_by_name_kind(vmlinux, "__lock_page", BTF_KIND_FUNC) > 0)
			snprintf(c->folio_lock_fn, sizeof(c->folio_lock_fn), "__lock_page");
		/* "bpf: Load and verify kernel module BTFs" (v5.11) brought struct btf_module */
		if (btf__find_by_name_kind(vmlinux, "btf_module", BTF_KIND_STRUCT) > 0)
			c->cap[CAP_MODULE_BTF].ok = true;
		else
			fail(&c->cap[CAP_MODULE_BTF], "find struct btf_module (no module BTF: before 5.11, or built without)",
			     ENOENT);
		btf__free(vmlinux);
	} else {
		fail(&c->cap[CAP_FENTRY], "no BTF", ENOENT);
		fail(&c->cap[CAP_FEXIT], "no BTF", ENOENT);
		fail(&c->cap[CAP_TP_BTF], "no BTF", ENOENT);
		fail(&c->cap[CAP_ITER], "no BTF", ENOENT);
		fail(&c->cap[CAP_CONTENTION_TP], "no BTF", ENOENT);
		fail(&c->cap[CAP_CONTENTION_SLOW], "no BTF", ENOENT);
		fail(&c->cap[CAP_MODULE_BTF], "no BTF", ENOENT);
	}
	if (c->cap[CAP_MODULE_BTF].ok && access("/proc/modules", R_OK) != 0)
		fail(&c->cap[CAP_MODULE_BTF], "no loadable modules", ENOENT);

	ks = ksyms__load(NULL);
	if (!ks) {
		fail(&c->cap[CAP_KALLSYMS], "read /proc/kallsyms", errno);
	} else {
		c->cap[CAP_KALLSYMS].ok = true;
		ksyms__free(ks);
	}
}

bool caps_contention(const struct vl_caps *c)
{
	return c->cap[CAP_RINGBUF].ok &&
	       (c->cap[CAP_CONTENTION_TP].ok || c->cap[CAP_CONTENTION_SLOW].ok);
}

const struct vl_cap *caps_contention_missing(const struct vl_caps *c)
{
	if (!c->cap[CAP_RINGBUF].ok)
		return &c->cap[CAP_RINGBUF];
	/* the tracepoint's absence says the most: the slow paths stand in for it */
	if (!c->cap[CAP_CONTENTION_TP].ok && c->cap[CAP_CONTENTION_TP].err != ENOENT)
		return &c->cap[CAP_CONTENTION_TP];
	return &c->cap[CAP_CONTENTION_SLOW];
}

const char *caps_contention_source(const struct vl_caps *c)
{
	if (c->cap[CAP_CONTENTION_TP].ok)
		return "contention tracepoints";
	if (c->cap[CAP_CONTENTION_SLOW].ok)
		return "rwsem/mutex slow paths (fentry)";
	return "none";
}

static void dry_load(struct vl_cap *cap, int ret, const char *err)
{
	if (!ret) {
		cap->ok = true;
		cap->step = NULL;
		return;
	}
	fail(cap, "dry load", ret);
	snprintf(cap->detail, sizeof(cap->detail), "%.191s", err);
}

void caps_probe_loads(struct vl_caps *c)
{
	struct vl_contend ct;
	struct kbtf *kb;
	char err[256];
	int ret;

	if (!c->cap[CAP_FENTRY].ok || !c->cap[CAP_FEXIT].ok || !c->cap[CAP_ITER].ok) {
		fail(&c->cap[CAP_CHECK_LOAD], "needs fentry, fexit and iterators", ENOTSUP);
	} else if (!(kb = kbtf__open())) {
		fail(&c->cap[CAP_CHECK_LOAD], "open BTF", errno);
	} else {
		char without[sizeof(c->cap[0].detail)];

		ret = live_dry_load(kb, err, sizeof(err), without, sizeof(without));
		if (!ret)
			ret = discover_dry_load(kb, err, sizeof(err));
		dry_load(&c->cap[CAP_CHECK_LOAD], ret, err);
		/* loaded, less what the kernel refused: said in the detail */
		if (!ret && without[0])
			snprintf(c->cap[CAP_CHECK_LOAD].detail, sizeof(c->cap[0].detail), "without %.180s",
				 without);
		kbtf__free(kb);
	}
	if (!caps_contention(c)) {
		fail(&c->cap[CAP_CONTENTION_LOAD], "needs the contention tracepoints or fentry",
		     ENOTSUP);
		return;
	}
	ret = contend_open(&ct, c, 1 << 20, err, sizeof(err));
	if (!ret)
		contend_close(&ct);
	dry_load(&c->cap[CAP_CONTENTION_LOAD], ret, err);
}

const char *cap_reason(const struct vl_cap *c, char *buf, size_t len)
{
	if (c->ok && c->detail[0])
		snprintf(buf, len, "%s: available, %s", c->name, c->detail);
	else if (c->ok)
		snprintf(buf, len, "%s: available", c->name);
	else if (c->detail[0])
		snprintf(buf, len, "%s: %s: %s", c->name, c->step ? c->step : "probe", c->detail);
	else if (c->err == EPERM || c->err == EACCES)
		snprintf(buf, len, "%s: %s refused by the kernel: %s", c->name, c->step,
			 strerror(c->err));
	else
		snprintf(buf, len, "%s: %s: %s", c->name, c->step ? c->step : "probe",
			 strerror(c->err));
	return buf;
}
