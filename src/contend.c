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

int contend_open(struct vl_contend *c, bool fentry, size_t ring_bytes, char *err, size_t errlen)
{
	struct bpf_program *folio[4];
	uint64_t rl;
	int i, ret;

	memset(c, 0, sizeof(*c));
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
	bpf_map__set_max_entries(c->skel->maps.cevents, ring_bytes);
	c->skel->rodata->wakeup_bytes = ring_bytes / 16;

	folio[0] = c->skel->progs.folio_lock_e;
	folio[1] = c->skel->progs.folio_lock_x;
	folio[2] = c->skel->progs.folio_lock_killable_e;
	folio[3] = c->skel->progs.folio_lock_killable_x;
	c->folio = fentry;
	if (!fentry)
		snprintf(c->folio_why, sizeof(c->folio_why),
			 "folio lock waits need fentry, which this kernel refuses");
	for (i = 0; i < 4; i++)
		bpf_program__set_autoload(folio[i], fentry);

	ret = contend_bpf__load(c->skel);
	if (ret && fentry) {
		/* a kernel without one of the folio functions: contention alone still works */
		contend_bpf__destroy(c->skel);
		c->skel = NULL;
		ret = contend_open(c, false, ring_bytes, err, errlen);
		if (!ret)
			snprintf(c->folio_why, sizeof(c->folio_why),
				 "folio lock waits: __folio_lock()/__folio_lock_killable() not traceable");
		return ret;
	}
	if (ret) {
		snprintf(err, errlen, "loading the contention programs: %s", strerror(-ret));
		contend_bpf__destroy(c->skel);
		c->skel = NULL;
		return ret;
	}
	return 0;
}

int contend_attach(struct vl_contend *c, char *err, size_t errlen)
{
	int ret = contend_bpf__attach(c->skel);

	if (ret)
		snprintf(err, errlen, "attaching contention_begin/contention_end: %s",
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
}

void contend_close(struct vl_contend *c)
{
	if (c->skel)
		contend_bpf__destroy(c->skel);
	c->skel = NULL;
}
