// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
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

void mounts_add(struct vl_mounts *m, const char *mnt, const char *fstype, uint32_t dev)
{
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	m->v[m->n].mnt = xstrdup(mnt);
	m->v[m->n].fstype = xstrdup(fstype);
	m->v[m->n].dev = dev;
	m->n++;
}

int discover_new_mounts(const char *mountinfo, const char *fslist, struct vl_mounts *known,
			struct vl_mounts *fresh)
{
	struct vl_mounts now;
	int i, k, err;

	memset(fresh, 0, sizeof(*fresh));
	err = discover_mounts(mountinfo, fslist, &now);
	if (err)
		return err;
	for (i = 0; i < now.n; i++) {
		for (k = 0; k < known->n && known->v[k].dev != now.v[i].dev; k++)
			;
		if (k < known->n)
			continue;
		mounts_add(known, now.v[i].mnt, now.v[i].fstype, now.v[i].dev);
		fresh->v = xrealloc(fresh->v, (fresh->n + 1) * sizeof(*fresh->v));
		fresh->v[fresh->n] = now.v[i];
		now.v[i].mnt = now.v[i].fstype = NULL;
		fresh->n++;
	}
	mounts_free(&now);
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
	struct stat st, root_st;
	DIR *d;
	int root, fd, budget = 256;
	struct dirent *de;

	root = open(m->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	if (fstat(root, &root_st)) {
		close(root);
		return;
	}
	fdset_add(s, root);
	fd = open(m->mnt, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/*
		 * A lease on it shows the lease methods; nobody else can open
		 * an unnamed file, so no one's access is broken. Closing ends it.
		 */
		fcntl(fd, F_SETLEASE, F_WRLCK);
		fdset_add(s, fd);
	}
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
		/* a mount point leads to another filesystem: not this one's sample */
		if (fd >= 0 && (fstat(fd, &st) || st.st_dev != root_st.st_dev)) {
			close(fd);
			fd = -1;
		}
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
	[VL_OPS_VM] = "vm_operations_struct",
	/*
	 * The lease methods: struct lease_manager_operations since 6.9,
	 * described by locking.rst under lock_manager_operations, as they
	 * were before (see btf_struct_of()).
	 */
	[VL_OPS_LM] = "lock_manager_operations",
	[VL_OPS_FSTYPE] = "file_system_type",
};

/* The struct whose BTF describes the table of @kind on this kernel. */
static const char *btf_struct_of(struct kbtf *kb, int kind)
{
	if (kind == VL_OPS_LM && kbtf__has_type(kb, "lease_manager_operations", BTF_KIND_STRUCT))
		return "lease_manager_operations";
	return ops_struct_name[kind];
}

/* One table to decode: its bytes, and what its methods are called. */
struct decode_ctx {
	const __u8 *bytes;
	__u32 size;
	const char *ops_struct;	/* the role, as locking.rst names the struct */
	const char *fstype;
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

	if (off + sizeof(addr) > c->size)
		return;
	memcpy(&addr, c->bytes + off, sizeof(addr));
	if (!addr)
		return;
	fn = catalog_by_addr(c->cat, addr);
	if (!fn) {
		sym = ksyms__find(c->ks, addr);
		if (!sym || sym->addr != addr)
			return;	/* not the start of a known function */
		fn = catalog_add(c->cat, addr, sym->name, sym->module);
		if (!fn)
			return;
		fn->size = ksyms__size(c->ks, sym);
		if (kbtf__find_func(c->kb, sym->name, sym->module, &kf) == 0)
			kbtf__func_shape(&kf, fn->arg_kind, &fn->nargs, &fn->returns_void);
		else
			fn->nargs = -1;	/* no BTF: cannot be traced */
	}
	catalog_add_role(fn, c->ops_struct, member);
	catalog_add_fstype(fn, c->fstype);
}

static void add_sb(struct vl_discovery *out, uint64_t sb, uint32_t dev)
{
	int i;

	for (i = 0; i < out->nsbs; i++)
		if (out->sbs[i].sb == sb)
			return;
	out->sbs = xrealloc(out->sbs, (out->nsbs + 1) * sizeof(*out->sbs));
	out->sbs[out->nsbs].sb = sb;
	out->sbs[out->nsbs].dev = dev;
	out->nsbs++;
}

static void add_type(struct vl_discovery *out, const char *name, uint64_t s_type)
{
	int i;

	for (i = 0; i < out->ntypes; i++)
		if (out->types[i].s_type == s_type)
			return;
	out->types = xrealloc(out->types, (out->ntypes + 1) * sizeof(*out->types));
	snprintf(out->types[out->ntypes].name, sizeof(out->types[0].name), "%s", name);
	out->types[out->ntypes].s_type = s_type;
	out->ntypes++;
}

static void note_fstype(struct vl_discovery *out, const struct vl_disc_rec *r)
{
	add_sb(out, r->sb, r->dev);
	add_type(out, r->fstype, r->s_type);
}

/*
 * Map each sample regular file, one page, shared and read-only: its
 * ->mmap sets the vm_operations a real mapping gets. Nothing is touched,
 * so no page is read; the mappings go when discovery is done.
 */
static void map_samples(const struct fdset *s, void *maps[])
{
	struct stat st;
	int i;

	for (i = 0; i < s->n; i++) {
		maps[i] = MAP_FAILED;
		if (fstat(s->fd[i], &st) || !S_ISREG(st.st_mode))
			continue;
		maps[i] = mmap(NULL, 4096, PROT_READ, MAP_SHARED, s->fd[i], 0);
	}
}

/* One pass of an iterator: records to @cb until the end. */
static int read_iter(struct bpf_program *prog, void (*cb)(const struct vl_disc_rec *, void *),
		     void *arg)
{
	struct bpf_link *link;
	struct vl_disc_rec *rec;
	int fd, err = 0;
	ssize_t got;

	link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		bpf_link__destroy(link);
		return err;
	}
	rec = xmalloc(sizeof(*rec));
	for (;;) {
		size_t have = 0;

		while (have < sizeof(*rec)) {
			got = read(fd, (char *)rec + have, sizeof(*rec) - have);
			if (got < 0 && errno == EINTR)
				continue;
			/* an error ends the walk early: say so, nothing is skipped silently */
			if (got < 0)
				err = -errno;
			if (got <= 0)
				break;
			have += got;
		}
		if (have < sizeof(*rec))
			break;
		cb(rec, arg);
	}
	free(rec);
	close(fd);
	bpf_link__destroy(link);
	return err;
}

struct disc_pass {
	const struct fdset *fds;
	struct kbtf *kb;
	const struct ksyms *ks;
	struct vl_catalog *cat;
	struct vl_discovery *out;
	int nfiles;
	struct {
		uint64_t file;
		char fstype[32];
	} files[64];
};

static void decode_tables(struct disc_pass *p, const struct vl_disc_rec *rec, const char *fstype)
{
	struct decode_ctx c = { .fstype = fstype, .kb = p->kb, .ks = p->ks, .cat = p->cat };
	__u32 i;
	int k;

	for (k = 0; k < VL_OPS_MAX; k++) {
		if (!rec->ops_size[k])
			continue;
		c.bytes = rec->ops[k];
		c.size = rec->ops_size[k];
		c.ops_struct = ops_struct_name[k];
		kbtf__fnptr_members(p->kb, btf_struct_of(p->kb, k), add_method, &c);
	}
	c.ops_struct = "xattr_handler";
	c.size = rec->xattr_size;
	for (i = 0; i < rec->nxattr && i < VL_DISC_MAX_XATTR; i++) {
		c.bytes = rec->xattr[i];
		kbtf__fnptr_members(p->kb, "xattr_handler", add_method, &c);
	}
}

static void on_file(const struct vl_disc_rec *rec, void *arg)
{
	struct disc_pass *p = arg;
	int i;

	for (i = 0; i < p->fds->n && p->fds->fd[i] != (int)rec->fd; i++)
		;
	if (i == p->fds->n)
		return;	/* one of our other files */
	if (p->nfiles < (int)ARRAY_SIZE(p->files)) {
		p->files[p->nfiles].file = rec->file;
		snprintf(p->files[p->nfiles].fstype, sizeof(p->files[0].fstype), "%s",
			 rec->fstype);
		p->nfiles++;
	}
	note_fstype(p->out, rec);
	decode_tables(p, rec, rec->fstype);
}

static void on_vma(const struct vl_disc_rec *rec, void *arg)
{
	struct disc_pass *p = arg;
	int i;

	for (i = 0; i < p->nfiles && p->files[i].file != rec->file; i++)
		;
	if (i == p->nfiles)
		return;	/* a mapping of some other file: a library, say */
	/* the record carries only vm_ops; the file's pass named its type */
	decode_tables(p, rec, p->files[i].fstype);
}

/*
 * The discovery programs for this kernel; @vmas: the one that walks the
 * mappings, the task_vma iterator (5.12+) or the vma list it replaced
 * (gone in 6.1).
 */
static struct discover_bpf *open_skel(struct kbtf *kb, struct bpf_program **vmas)
{
	struct discover_bpf *skel = discover_bpf__open();
	struct kbtf_func kf;
	bool vma_iter;

	if (!skel)
		return NULL;
	skel->rodata->target_tgid = getpid();
	vma_iter = kbtf__find_func(kb, "bpf_iter_task_vma", "", &kf) == 0;
	*vmas = vma_iter ? skel->progs.dump_vm_ops : skel->progs.dump_vm_ops_list;
	bpf_program__set_autoload(skel->progs.dump_vm_ops, vma_iter);
	bpf_program__set_autoload(skel->progs.dump_vm_ops_list, !vma_iter);
	return skel;
}

int discover_dry_load(struct kbtf *kb, char *err, size_t errlen)
{
	struct bpf_program *vmas;
	struct discover_bpf *skel = open_skel(kb, &vmas);
	int ret;

	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "opening the discovery programs: %s", strerror(-ret));
		return ret;
	}
	ret = discover_bpf__load(skel);
	if (ret)
		snprintf(err, errlen, "loading the discovery programs (%s): %s",
			 bpf_program__name(vmas), strerror(-ret));
	discover_bpf__destroy(skel);
	return ret;
}

int discover_methods(const struct vl_mounts *m, struct kbtf *kb, const struct ksyms *ks,
		     struct vl_catalog *cat, struct vl_discovery *out)
{
	struct discover_bpf *skel = NULL;
	struct fdset fds = { 0 };
	void *maps[ARRAY_SIZE(fds.fd)];
	struct bpf_program *vmas;
	struct disc_pass *pass;
	int i, err = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < m->n; i++) {
		int before = fds.n;

		sample_mount(&m->v[i], &fds);
		if (fds.n == before)
			out->nfailed++;
	}
	map_samples(&fds, maps);

	pass = xcalloc(1, sizeof(*pass));
	*pass = (struct disc_pass){ .fds = &fds, .kb = kb, .ks = ks, .cat = cat, .out = out };
	skel = open_skel(kb, &vmas);
	if (!skel) {
		err = -errno;
		goto out;
	}
	err = discover_bpf__load(skel);
	if (err)
		goto out;
	err = read_iter(skel->progs.dump_ops, on_file, pass);
	if (!err)
		read_iter(vmas, on_vma, pass);
out:
	free(pass);
	discover_bpf__destroy(skel);
	for (i = 0; i < fds.n; i++) {
		if (maps[i] != MAP_FAILED)
			munmap(maps[i], 4096);
		close(fds.fd[i]);
	}
	return err;
}

void discovery_merge(struct vl_discovery *d, const struct vl_discovery *more)
{
	int i;

	for (i = 0; i < more->nsbs; i++)
		add_sb(d, more->sbs[i].sb, more->sbs[i].dev);
	for (i = 0; i < more->ntypes; i++)
		add_type(d, more->types[i].name, more->types[i].s_type);
	d->nfailed += more->nfailed;
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
