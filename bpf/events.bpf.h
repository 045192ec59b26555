/* SPDX-License-Identifier: GPL-2.0 */
/* What every BPF object of vfslock writes the same way into its records. */
#ifndef VFSLOCK_EVENTS_BPF_H
#define VFSLOCK_EVENTS_BPF_H

static __always_inline void fill_hdr(struct vl_ev_hdr *h, __u16 type, __u16 size,
				     __u64 pid_tgid)
{
	h->ts = bpf_ktime_get_ns();
	h->task = bpf_get_current_task();
	h->tid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
}

#endif
