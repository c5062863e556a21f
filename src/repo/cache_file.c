/* cache_file.c: the CLI's parse cache on disk: read, atomic write, directory, eviction */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "repo/store.h"
#include "util/error.h"

#define CACHE_SUFFIX ".parse"
#define TMP_MARK ".tmp."
/* A temporary file older than this was left by a run that died. */
#define STALE_TMP_SECONDS 3600
/* No cache file is read past this (the store's bound keeps them smaller). */
#define CACHE_FILE_MAX ((off_t)1 << 31)

/*
 * The image is mapped, not read: a read copies tens of MiB into fresh
 * memory that the kernel zeroes first, and a warm plan spent a fifth of
 * its time on that. The file is only ever replaced by rename (see
 * parse_store_write_file), so the mapped inode keeps its bytes while the
 * process runs; only truncating the file in place (something no run of
 * ours does, in a directory only its owner may write) could end this
 * process with SIGBUS: it cannot make it read other bytes than the
 * checksum accepted, which is checked over the mapped bytes themselves.
 */
int parse_store_read_file(struct parse_store *s, const char *path)
{
	struct stat st;
	void *img;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return IL_ENOTFOUND;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < STORE_HEADER_BYTES || st.st_size > CACHE_FILE_MAX) {
		close(fd);
		return IL_EINVALID;
	}
	/* MAP_POPULATE: the pages are all read (checksum, entries) */
	img = mmap(NULL, (size_t)st.st_size, PROT_READ,
		   MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return IL_EINVALID;
	return parse_store_load_mapped(s, img, (size_t)st.st_size);
}

/*
 * The image goes out with writev: small pieces (entry prefixes) are copied
 * into a buffer, entries' bytes are written from where the store keeps
 * them (they stay put while it writes), so the 40 MiB of a large project
 * are not copied once more on the way.
 */
#define SINK_IOV 256
#define SINK_BUF (64 * 1024)
#define SINK_DIRECT 256        /* pieces this big are not copied */

struct sink {
	int fd;
	int failed;
	struct iovec v[SINK_IOV];
	int n;
	unsigned char buf[SINK_BUF];
	size_t used;
};

static int sink_flush(struct sink *k)
{
	int i = 0;

	while (i < k->n && !k->failed) {
		ssize_t w = writev(k->fd, k->v + i, k->n - i);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			k->failed = 1;
			break;
		}
		/* past what was written, whole pieces then part of one */
		while (i < k->n && (size_t)w >= k->v[i].iov_len)
			w -= (ssize_t)k->v[i++].iov_len;
		if (i < k->n) {
			k->v[i].iov_base = (char *)k->v[i].iov_base + w;
			k->v[i].iov_len -= (size_t)w;
		}
	}
	k->n = 0;
	k->used = 0;
	return k->failed ? -1 : 0;
}

static int put_file(void *ctx, const void *p, size_t n)
{
	struct sink *k = ctx;
	struct iovec *last = k->n ? &k->v[k->n - 1] : NULL;

	if (k->n == SINK_IOV || (n < SINK_DIRECT && k->used + n > SINK_BUF))
		if (sink_flush(k) < 0)
			return -1;
	last = k->n ? &k->v[k->n - 1] : NULL;
	if (n >= SINK_DIRECT) {
		k->v[k->n].iov_base = (void *)p;
		k->v[k->n++].iov_len = n;
		return 0;
	}
	memcpy(k->buf + k->used, p, n);
	/* next to the last piece in the buffer: one piece */
	if (last && (unsigned char *)last->iov_base + last->iov_len ==
	    k->buf + k->used)
		last->iov_len += n;
	else {
		k->v[k->n].iov_base = k->buf + k->used;
		k->v[k->n++].iov_len = n;
	}
	k->used += n;
	return 0;
}

/* The payload streamed out after room for the header, then the header. */
static int write_image(const struct parse_store *s, int fd)
{
	unsigned char header[STORE_HEADER_BYTES] = { 0 };
	struct sink *k = malloc(sizeof(*k));
	int rc = IL_ERR;

	if (k == NULL) {
		close(fd);
		return IL_ENOMEM;
	}
	k->fd = fd;
	k->failed = 0;
	k->n = 0;
	k->used = 0;
	if (lseek(fd, STORE_HEADER_BYTES, SEEK_SET) == STORE_HEADER_BYTES)
		rc = parse_store_write(s, put_file, k, header);
	if (rc == 0 && sink_flush(k) < 0)
		rc = IL_ERR;
	if (rc == 0 && pwrite(fd, header, sizeof(header), 0) !=
	    (ssize_t)sizeof(header))
		rc = IL_ERR;
	if (close(fd) < 0 && rc == 0)
		rc = IL_ERR;
	free(k);
	return rc;
}

int parse_store_write_file(const struct parse_store *s, const char *path)
{
	char tmp[4096];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s" TMP_MARK "XXXXXX", path) >=
	    (int)sizeof(tmp))
		return IL_EINVALID;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return IL_ERR;
	rc = write_image(s, fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = IL_ERR;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* mkdir -p for an absolute path, each new directory 0700. */
static int make_dirs(char *path)
{
	char *p;
	struct stat st;

	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				*p = c;
				return -1;
			}
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

int cache_dir_open(char *out, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	/* the XDG spec: a relative XDG_CACHE_HOME is ignored */
	if (xdg && xdg[0] == '/')
		n = snprintf(out, size, "%s/ironlayer", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, size, "%s/.cache/ironlayer", home);
	else
		return -1;
	if (n < 0 || (size_t)n >= size)
		return -1;
	return make_dirs(out);
}

struct cache_file {
	char name[256];
	off_t size;
	time_t mtime;
};

static int oldest_first(const void *pa, const void *pb)
{
	const struct cache_file *a = pa, *b = pb;

	if (a->mtime != b->mtime)
		return a->mtime < b->mtime ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Unlinks name in dir; a file another run removed first is no problem. */
static void remove_in(int dfd, const char *name)
{
	unlinkat(dfd, name, 0);
}

/* The cache files of dir (malloc'd), stale temporary files removed. */
static struct cache_file *list_files(DIR *d, size_t *n_out)
{
	struct cache_file *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);

	while ((de = readdir(d)) != NULL) {
		int tmp = strstr(de->d_name, TMP_MARK) != NULL;

		if ((!tmp && !has_suffix(de->d_name, CACHE_SUFFIX)) ||
		    strlen(de->d_name) >= sizeof(v->name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (tmp) {
			if (now - st.st_mtime > STALE_TMP_SECONDS)
				remove_in(dirfd(d), de->d_name);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].size = st.st_size;
		v[n++].mtime = st.st_mtime;
	}
	*n_out = n;
	return v;
}

void cache_dir_evict(const char *dir, size_t max_total)
{
	DIR *d = opendir(dir);
	struct cache_file *v;
	size_t n, i;
	off_t total = 0;

	if (d == NULL)
		return;
	v = list_files(d, &n);
	for (i = 0; i < n; i++)
		total += v[i].size;
	if (n > 1)
		qsort(v, n, sizeof(*v), oldest_first);
	/* the newest file (this run's) always stays */
	for (i = 0; i + 1 < n && total > (off_t)max_total; i++) {
		remove_in(dirfd(d), v[i].name);
		total -= v[i].size;
	}
	free(v);
	closedir(d);
}
