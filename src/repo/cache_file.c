/* cache_file.c: the CLI's parse cache on disk: read, atomic write, directory, eviction */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int parse_store_read_file(struct parse_store *s, const char *path)
{
	struct stat st;
	unsigned char *img = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return IL_ENOTFOUND;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CACHE_FILE_MAX ||
	    (img = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return IL_EINVALID;
	}
	while (got < (size_t)st.st_size &&
	       ((n = read(fd, img + got, (size_t)st.st_size - got)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(fd);
	/* a file that changed size under us is refused by the checksum */
	return parse_store_load(s, img, got);
}

static int put_file(void *ctx, const void *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

/* The payload streamed out after room for the header, then the header. */
static int write_image(const struct parse_store *s, int fd)
{
	unsigned char header[STORE_HEADER_BYTES] = { 0 };
	FILE *f = fdopen(fd, "wb");
	int rc;

	if (f == NULL) {
		close(fd);
		return IL_ERR;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	rc = fwrite(header, 1, sizeof(header), f) == sizeof(header) ? 0 : IL_ERR;
	if (rc == 0)
		rc = parse_store_write(s, put_file, f, header);
	if (rc == 0 && (fseek(f, 0, SEEK_SET) != 0 ||
			fwrite(header, 1, sizeof(header), f) != sizeof(header)))
		rc = IL_ERR;
	if (fclose(f) != 0 && rc == 0)
		rc = IL_ERR;
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
