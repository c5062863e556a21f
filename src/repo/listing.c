/* listing.c: a models directory's file list as bytes, kept in the parse store by tree id */
#include <stdint.h>
#include <string.h>

#include "repo/repo_int.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

/*
 * A tree's listing is the same for every commit that has the tree, so a
 * warm run reads the list instead of inflating every tree object again.
 * Layout: u32 count, then per file u32 length, the path below the models
 * directory, the 20-byte blob id. Read back as untrusted bytes.
 */
#define LISTING_MAX_PATH 4096

void repo__listing_key(unsigned char key[REPO_LISTING_KEY],
		       const unsigned char *tree_id)
{
	key[0] = 'T';    /* blob keys are 20 bytes: never the same key */
	memcpy(key + 1, tree_id, GIT_OID_RAWSZ);
}

static void put_u32(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static size_t get_u32(const unsigned char *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 |
	       (size_t)p[3] << 24;
}

int repo__listing_encode(void **out, size_t *len, struct arena *a,
			 const struct model_file *files, size_t n,
			 size_t dir_len)
{
	size_t i, total = 4, k;
	unsigned char *p;

	for (i = 0; i < n; i++)
		total += 4 + strlen(files[i].path) - dir_len - 1 + GIT_OID_RAWSZ;
	if ((p = arena_alloc(a, total)) == NULL)
		return IL_ENOMEM;
	*out = p;
	*len = total;
	put_u32(p, n);
	p += 4;
	for (i = 0; i < n; i++) {
		const char *rel = files[i].path + dir_len + 1;

		k = strlen(rel);
		put_u32(p, k);
		memcpy(p + 4, rel, k);
		memcpy(p + 4 + k, files[i].id, GIT_OID_RAWSZ);
		p += 4 + k + GIT_OID_RAWSZ;
	}
	return 0;
}

/* "dir/rel" in a. */
static const char *join(struct arena *a, const char *dir, size_t dn,
			const unsigned char *rel, size_t k)
{
	char *path = arena_alloc(a, dn + 1 + k + 1);

	if (path == NULL)
		return NULL;
	memcpy(path, dir, dn);
	path[dn] = '/';
	memcpy(path + dn + 1, rel, k);
	path[dn + 1 + k] = '\0';
	return path;
}

int repo__listing_decode(struct model_file **files, size_t *n_out,
			 struct arena *a, const char *dir, const void *data,
			 size_t len)
{
	const unsigned char *p = data, *end = p + len;
	size_t n, i, k, dn = strlen(dir);
	struct model_file *f;

	if (len < 4 || (n = get_u32(p)) > IL_MAX_MODELS ||
	    n > (len - 4) / (4 + GIT_OID_RAWSZ))
		return IL_EINVALID;
	if ((f = arena_alloc(a, (n + 1) * sizeof(*f))) == NULL)
		return IL_ENOMEM;
	for (p += 4, i = 0; i < n; i++) {
		if ((size_t)(end - p) < 4)
			return IL_EINVALID;
		k = get_u32(p);
		if (k == 0 || k > LISTING_MAX_PATH ||
		    (size_t)(end - p - 4) < k + GIT_OID_RAWSZ ||
		    memchr(p + 4, '\0', k) != NULL)
			return IL_EINVALID;
		if ((f[i].path = join(a, dir, dn, p + 4, k)) == NULL)
			return IL_ENOMEM;
		memcpy(f[i].id, p + 4 + k, GIT_OID_RAWSZ);
		f[i].too_big = 0;
		p += 4 + k + GIT_OID_RAWSZ;
	}
	if (p != end)
		return IL_EINVALID;
	*files = f;
	*n_out = n;
	return 0;
}
