// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "discover.skel.h"
#include "discover.h"
#include "util.h"

/* ---- mounts ---------------------------------------------------------------- */

static bool in_fslist(const char *fslist, const char *fstype)
{
	size_t n = strlen(fstype);
	const char *p;

	if (!fslist)
		return true;
	for (p = fslist; (p = strstr(p, fstype)); p += n)
		if ((p == fslist || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static char *unescape(const char *s)
{
	char *d = xstrdup(s), *o = d;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return d;
}

int discover_mounts(const char *mountinfo, const char *fslist, struct vl_mounts *out)
{
	char line[4096];
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		char mnt[2048], fstype[64], *sep;
		int i;

		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		if (sscanf(line, "%*u %*u %u:%u %*s %2047s", &maj, &min, mnt) != 3)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!in_fslist(fslist, fstype))
			continue;
		/* one entry per superblock is enough for discovery */
		for (i = 0; i < out->n; i++)
			if (out->v[i].dev == ((maj << 20) | min))
				break;
		if (i < out->n)
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n].mnt = unescape(mnt);
		out->v[out->n].fstype = xstrdup(fstype);
		out->v[out->n].dev = (maj << 20) | min;
		out->n++;
	}
	fclose(f);
	return 0;
}

void mounts_free(struct vl_mounts *m)
{
	int i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].mnt);
		free(m->v[i].fstype);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* ---- sample files ---------------------------------------------------------------- */

struct fdset {
	int n;
	int fd[64];
};

static void fdset_add(struct fdset *s, int fd)
{
	if (fd < 0)
		return;
	if (s->n == (int)ARRAY_SIZE(s->fd)) {
		close(fd);
		return;
	}
	s->fd[s->n++] = fd;
}

/*
 * Files that show a filesystem's operation tables: its root, an unnamed
 * O_TMPFILE regular file where the filesystem supports one (nothing is
 * created in the namespace), and the first entry of each type found near
 * the root: named dentries may carry dentry operations that the root and
 * an unnamed file lack (simple_lookup() gives libfs ones to children only).
 * O_PATH keeps device nodes and FIFOs from being opened.
 */
static void sample_mount(const struct vl_mount *m, struct fdset *s)
{
	bool seen[16] = { false };
	DIR *d;
	int root, fd, budget = 256;
	struct dirent *de;

	root = open(m->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	fdset_add(s, root);
	fd = open(m->mnt, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		fdset_add(s, fd);
	fd = dup(root);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) && budget--) {
		int flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (de->d_type >= ARRAY_SIZE(seen) || seen[de->d_type])
			continue;
		if (de->d_type == DT_REG)
			flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC;
		else if (de->d_type == DT_DIR)
			flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
		fd = openat(dirfd(d), de->d_name, flags);
		if (fd >= 0) {
			seen[de->d_type] = true;
			fdset_add(s, fd);
		}
	}
	closedir(d);
}

/* ---- reading the tables ------------------------------------------------------------ */

static const char *const ops_struct_name[VL_OPS_MAX] = {
	[VL_OPS_INODE] = "inode_operations",
	[VL_OPS_FILE] = "file_operations",
	[VL_OPS_SUPER] = "super_operations",
	[VL_OPS_DENTRY] = "dentry_operations",
	[VL_OPS_AOPS] = "address_space_operations",
};

struct decode_ctx {
	const struct vl_disc_rec *rec;
	int kind;
	struct kbtf *kb;
	const struct ksyms *ks;
	struct vl_catalog *cat;
};

static void add_method(void *arg, const char *member, unsigned int off)
{
	struct decode_ctx *c = arg;
	const struct ksym *sym;
	struct kbtf_func kf;
	struct vl_fn *fn;
	uint64_t addr;

	if (off + sizeof(addr) > c->rec->ops_size[c->kind])
		return;
	memcpy(&addr, c->rec->ops[c->kind] + off, sizeof(addr));
	if (!addr)
		return;
	fn = catalog_by_addr(c->cat, addr);
	if (!fn) {
		sym = ksyms__find(c->ks, addr);
		if (!sym || sym->addr != addr)
			return;	/* not the start of a known function */
		fn = catalog_add(c->cat, addr, sym->name, sym->module);
		if (kbtf__find_func(c->kb, sym->name, sym->module, &kf) == 0)
			kbtf__func_shape(&kf, fn->arg_kind, &fn->nargs, &fn->returns_void);
		else
			fn->nargs = -1;	/* no BTF: cannot be traced */
	}
	catalog_add_role(fn, ops_struct_name[c->kind], member);
	catalog_add_fstype(fn, c->rec->fstype);
}

static void note_fstype(struct vl_discovery *out, const struct vl_disc_rec *r)
{
	int i;

	for (i = 0; i < out->nsbs && out->sbs[i].sb != r->sb; i++)
		;
	if (i == out->nsbs) {
		out->sbs = xrealloc(out->sbs, (out->nsbs + 1) * sizeof(*out->sbs));
		out->sbs[out->nsbs].sb = r->sb;
		out->sbs[out->nsbs].dev = r->dev;
		out->nsbs++;
	}

	for (i = 0; i < out->ntypes; i++)
		if (out->types[i].s_type == r->s_type)
			return;
	out->types = xrealloc(out->types, (out->ntypes + 1) * sizeof(*out->types));
	snprintf(out->types[out->ntypes].name, sizeof(out->types[0].name), "%s", r->fstype);
	out->types[out->ntypes].s_type = r->s_type;
	out->ntypes++;
}

int discover_methods(const struct vl_mounts *m, struct kbtf *kb, const struct ksyms *ks,
		     struct vl_catalog *cat, struct vl_discovery *out)
{
	struct discover_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct vl_disc_rec *rec;
	struct fdset fds = { 0 };
	int i, k, iter_fd = -1, err = 0;
	ssize_t got;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < m->n; i++) {
		int before = fds.n;

		sample_mount(&m->v[i], &fds);
		if (fds.n == before)
			out->nfailed++;
	}

	skel = discover_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->target_tgid = getpid();
	err = discover_bpf__load(skel);
	if (err)
		goto out;
	link = bpf_program__attach_iter(skel->progs.dump_ops, NULL);
	if (!link) {
		err = -errno;
		goto out;
	}
	iter_fd = bpf_iter_create(bpf_link__fd(link));
	if (iter_fd < 0) {
		err = -errno;
		goto out;
	}
	rec = xmalloc(sizeof(*rec));
	for (;;) {
		size_t have = 0;

		while (have < sizeof(*rec)) {
			got = read(iter_fd, (char *)rec + have, sizeof(*rec) - have);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			have += got;
		}
		if (have < sizeof(*rec))
			break;
		for (i = 0; i < fds.n && fds.fd[i] != (int)rec->fd; i++)
			;
		if (i == fds.n)
			continue;	/* one of our other files */
		note_fstype(out, rec);
		for (k = 0; k < VL_OPS_MAX; k++) {
			struct decode_ctx c = { rec, k, kb, ks, cat };

			if (rec->ops_size[k])
				kbtf__fnptr_members(kb, ops_struct_name[k], add_method, &c);
		}
	}
	free(rec);
out:
	if (iter_fd >= 0)
		close(iter_fd);
	bpf_link__destroy(link);
	discover_bpf__destroy(skel);
	for (i = 0; i < fds.n; i++)
		close(fds.fd[i]);
	return err;
}

void discovery_free(struct vl_discovery *d)
{
	free(d->sbs);
	d->sbs = NULL;
	d->nsbs = 0;
	free(d->types);
	d->types = NULL;
	d->ntypes = 0;
}
