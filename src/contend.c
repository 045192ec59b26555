// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "contend.h"
#include "ksyms.h"
#include "util.h"
#include "contend.skel.h"
/* The programs of each source of waits, by the wait they see. */
static void programs(struct contend_bpf *sk, struct bpf_program **tp, struct bpf_program **slow,
		     struct bpf_program **folio, struct bpf_program **page)
{
	tp[0] = sk->progs.contention_begin;
	tp[1] = sk->progs.contention_end;
	slow[0] = sk->progs.rwsem_read_slow_e;
	slow[1] = sk->progs.rwsem_read_slow_x;
	slow[2] = sk->progs.rwsem_write_slow_e;
	slow[3] = sk->progs.rwsem_write_slow_x;
	slow[4] = sk->progs.mutex_slow_e;
	slow[5] = sk->progs.mutex_slow_x;
	slow[6] = sk->progs.mutex_killable_slow_e;
	slow[7] = sk->progs.mutex_killable_slow_x;
	slow[8] = sk->progs.mutex_intr_slow_e;
	slow[9] = sk->progs.mutex_intr_slow_x;
	folio[0] = sk->progs.folio_lock_e;
	folio[1] = sk->progs.folio_lock_x;
	folio[2] = sk->progs.folio_lock_killable_e;
	folio[3] = sk->progs.folio_lock_killable_x;
	page[0] = sk->progs.lock_page_e;
	page[1] = sk->progs.lock_page_x;
	page[2] = sk->progs.lock_page_killable_e;
	page[3] = sk->progs.lock_page_killable_x;
}

static void autoload(struct bpf_program **p, int n, bool on)
{
	int i;

	for (i = 0; i < n; i++)
		bpf_program__set_autoload(p[i], on);
}

static int open_load(struct vl_contend *c, const struct vl_caps *caps, bool folio,
		     size_t ring_bytes, char *err, size_t errlen)
{
	struct bpf_program *tp[2], *slow[10], *fl[4], *pg[4];
	bool use_tp = caps->cap[CAP_CONTENTION_TP].ok;
	uint64_t rl;
	int ret;

	c->skel = contend_bpf__open();
	if (!c->skel) {
		snprintf(err, errlen, "opening the contention programs: %s", strerror(errno));
		return -errno;
	}
	c->skel->rodata->self_tgid = getpid();
	/* dcache's rename_lock: a seqlock_t, whose spinlock is what waiters contend on */
	kallsyms_addrs(NULL, (const char *const[]){ "rename_lock" }, &rl, 1);
	if (rl) {
		c->skel->rodata->rename_lock_addr = rl;
		c->skel->rodata->rename_lock_size = 16;	/* sizeof(seqlock_t), with lock debugging off */
	}
	if (caps->rwsem_read_slow_nargs > 0)
		c->skel->rodata->rwsem_read_slow_nargs = caps->rwsem_read_slow_nargs;
	bpf_map__set_max_entries(c->skel->maps.cevents, ring_bytes);
	c->skel->rodata->wakeup_bytes = ring_bytes / 16;

	programs(c->skel, tp, slow, fl, pg);
	autoload(tp, 2, use_tp);
	autoload(slow, 10, !use_tp);
	autoload(fl, 4, folio && !strcmp(caps->folio_lock_fn, "__folio_lock"));
	autoload(pg, 4, folio && !strcmp(caps->folio_lock_fn, "__lock_page"));
	snprintf(c->source, sizeof(c->source), "%s", caps_contention_source(caps));

	ret = contend_bpf__load(c->skel);
	if (ret) {
		snprintf(err, errlen, "loading the contention programs (%s): %s", c->source,
			 strerror(-ret));
		contend_bpf__destroy(c->skel);
		c->skel = NULL;
	}
	return ret;
}

int contend_open(struct vl_contend *c, const struct vl_caps *caps, size_t ring_bytes, char *err,
		 size_t errlen)
{
	bool fentry = caps->cap[CAP_FENTRY].ok && caps->cap[CAP_FEXIT].ok;
	int ret;

	memset(c, 0, sizeof(*c));
	if (!caps_contention(caps)) {
		char why[256];

		snprintf(err, errlen, "no source of lock waits: %s",
			 cap_reason(caps_contention_missing(caps), why, sizeof(why)));
		return -ENOTSUP;
	}
	c->folio = fentry && caps->folio_lock_fn[0];
	if (!fentry)
		snprintf(c->folio_why, sizeof(c->folio_why),
			 "folio lock waits need fentry, which this kernel refuses");
	else if (!caps->folio_lock_fn[0])
		snprintf(c->folio_why, sizeof(c->folio_why),
			 "folio lock waits: neither __folio_lock() nor __lock_page() in BTF");
	ret = open_load(c, caps, c->folio, ring_bytes, err, errlen);
	if (ret && c->folio) {
		/* the folio functions not traceable: contention alone still works */
		c->folio = false;
		ret = open_load(c, caps, false, ring_bytes, err, errlen);
		if (!ret)
			snprintf(c->folio_why, sizeof(c->folio_why),
				 "folio lock waits: %s() not traceable", caps->folio_lock_fn);
	}
	return ret;
}

int contend_attach(struct vl_contend *c, char *err, size_t errlen)
{
	int ret = contend_bpf__attach(c->skel);

	if (ret)
		snprintf(err, errlen, "attaching the contention programs (%s): %s", c->source,
			 strerror(-ret));
	return ret;
}

int contend_ring_fd(const struct vl_contend *c)
{
	return bpf_map__fd(c->skel->maps.cevents);
}

void contend_stats(const struct vl_contend *c, uint64_t out[VL_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(c->skel->maps.cstats);
	uint64_t *v = xcalloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
	__u32 k;
	int i;

	memset(out, 0, VL_STAT_MAX * sizeof(out[0]));
	for (k = 0; k < VL_STAT_MAX && ncpu > 0; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (i = 0; i < ncpu; i++)
			out[k] += v[i];
	}
	free(v);
	{
		struct bpf_program *p;

		bpf_object__for_each_program(p, c->skel->obj) {
			struct bpf_prog_info info = { 0 };
			__u32 len = sizeof(info);
			int pfd = bpf_program__fd(p);

			if (pfd >= 0 && !bpf_obj_get_info_by_fd(pfd, &info, &len))
				out[VL_STAT_SKIPPED] += info.recursion_misses;
		}
	}
}

void contend_close(struct vl_contend *c)
{
	if (c->skel)
		contend_bpf__destroy(c->skel);
	c->skel = NULL;
}
