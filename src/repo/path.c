/* path.c: where a tenant's repo_path may point, and what to tell it when it may not */
#include "repo/repo.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/config.h"
#include "util/error.h"

/*
 * Writes the absolute path in as a plain one into out: "//" and "." gone,
 * ".." taking away the name before it (as written: no symlink is read).
 * Returns 0, or -1 for a relative or too long path.
 */
static int lexical_path(char out[PATH_MAX], const char *in)
{
	size_t n = 0;

	if (in[0] != '/')
		return -1;
	while (*in != '\0') {
		size_t len;

		while (*in == '/')
			in++;
		len = strcspn(in, "/");
		if (len == 0 || (len == 1 && in[0] == '.')) {
			/* nothing */
		} else if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (n > 0 && out[--n] != '/')
				;
		} else {
			if (n + 1 + len >= PATH_MAX)
				return -1;
			out[n++] = '/';
			memcpy(out + n, in, len);
			n += len;
		}
		in += len;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return 0;
}

/* 1 when path is dir, or below dir (both plain absolute paths). */
static int path_under(const char *path, const char *dir)
{
	size_t n = strcmp(dir, "/") == 0 ? 0 : strlen(dir);   /* "/" + "/x" is not "//x" */

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* 1 when path is root/sub or below it (sub NULL: root itself), root as written or resolved. */
static int under_root(const char *path, const char *root, const char *sub)
{
	char plain[PATH_MAX], want[PATH_MAX];
	int i;

	for (i = 0; i < 2; i++) {
		if (i == 0 ? lexical_path(plain, root) < 0 : realpath(root, plain) == NULL)
			continue;
		if (sub == NULL)
			snprintf(want, sizeof(want), "%s", plain);
		else if ((size_t)snprintf(want, sizeof(want), "%s/%s",
					  strcmp(plain, "/") == 0 ? "" : plain,
					  sub) >= sizeof(want))
			continue;
		if (path_under(path, want))
			return 1;
	}
	return 0;
}

/* 1 when path lies in the tenant's own directory of a root or in a shared root. */
static int in_tenant_roots(const char *path, const struct il_config *cfg, const char *tenant_id)
{
	int i;

	for (i = 0; i < cfg->n_repo_roots; i++)
		if (under_root(path, cfg->repo_root[i], tenant_id))
			return 1;
	for (i = 0; i < cfg->n_shared_repo_roots; i++)
		if (under_root(path, cfg->shared_repo_root[i], NULL))
			return 1;
	return 0;
}

/* A tenant id is a directory name of its own: no separators, no dots. */
static int tenant_id_ok(const char *id)
{
	size_t n;

	for (n = 0; id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'z') ||
		      (id[n] >= 'A' && id[n] <= 'Z') || id[n] == '-'))
			return 0;
	return n > 0 && n <= 64;
}

/*
 * For a plain path that does not resolve: 1 when where it would be is still
 * in the tenant's roots. The longest part of it that exists is resolved
 * (symlinks followed) and the missing rest appended: a symlink in the
 * tenant's directory to elsewhere leads elsewhere, whether or not its
 * target exists; a dangling one leads nowhere we can vouch for.
 */
static int missing_in_roots(const char *plain, const struct il_config *cfg,
			    const char *tenant_id)
{
	char prefix[PATH_MAX], real[PATH_MAX], where[PATH_MAX];
	struct stat st;

	snprintf(prefix, sizeof(prefix), "%s", plain);
	while (lstat(prefix, &st) != 0) {
		char *slash;

		if ((slash = strrchr(prefix, '/')) == NULL || strcmp(prefix, "/") == 0)
			return 0;
		slash[slash == prefix ? 1 : 0] = '\0';
	}
	if (S_ISLNK(st.st_mode) && stat(prefix, &st) != 0)
		return 0;
	if (realpath(prefix, real) == NULL ||
	    (size_t)snprintf(where, sizeof(where), "%s%s", strcmp(real, "/") == 0 ? "" : real,
			     plain + (strcmp(prefix, "/") == 0 ? 0 : strlen(prefix))) >=
	    sizeof(where))
		return 0;
	return in_tenant_roots(where, cfg, tenant_id);
}

int repo_path_resolve(char out[PATH_MAX], const struct il_config *cfg,
		      const char *tenant_id, const char *given)
{
	char plain[PATH_MAX];

	out[0] = '\0';
	/* what is not written inside the tenant's roots is refused before any file
	 * system call: its answer cannot depend on what exists out there */
	if (!tenant_id_ok(tenant_id) || lexical_path(plain, given) < 0 ||
	    !in_tenant_roots(plain, cfg, tenant_id))
		return IL_EINVALID;
	if (realpath(plain, out) != NULL) {
		if (in_tenant_roots(out, cfg, tenant_id))
			return 0;
		out[0] = '\0';
		return IL_EINVALID;
	}
	out[0] = '\0';
	return missing_in_roots(plain, cfg, tenant_id) ? IL_ENOTFOUND : IL_EINVALID;
}
