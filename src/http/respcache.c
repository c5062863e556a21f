/* respcache.c: a worker's kept answers to reads (see respcache.h) */
#include "http/respcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/req.h"
#include "util/arena.h"
#include "util/keyhash.h"
#include "util/strbuf.h"

/* One kept answer; everything it points to is one malloc'd block (mem). */
struct kept {
	char *mem;                 /* NULL: a free slot */
	uint64_t hash;
	const char *key;
	size_t key_len;
	long long version;
	int role;                  /* the caller's role when it was kept (enum role) */
	unsigned long used;        /* the use clock when last given or kept */
	const char *headers;       /* "Name: value\r\n" lines its handler added */
	size_t headers_len;
	const char *body;          /* NULL: no body */
	size_t body_len;
	const char *type;          /* NULL: JSON */
};

static struct {
	struct kept slot[RESPCACHE_SLOTS];
	unsigned long clock;
} kept;

/* Appends s and its terminating NUL, so that no two keys run together. */
static void add_part(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s != NULL ? s : "", strlen(s != NULL ? s : "") + 1);
}

/*
 * Who asks and what: tenant, user, method, path, then every query parameter
 * in the order given (the role, known only once the user check came back,
 * is kept beside the answer). NULL when it does not fit (nothing kept).
 */
static const char *key_of(const struct req *r, size_t *len)
{
	struct strbuf sb;
	int i;

	strbuf_init(&sb, r->arena, 8 * 1024);
	add_part(&sb, r->who.tenant_id);
	add_part(&sb, r->who.user_id);
	add_part(&sb, r->method);
	add_part(&sb, r->path);
	for (i = 0; i < r->nquery; i++) {
		add_part(&sb, r->query[i].name);
		add_part(&sb, r->query[i].value);
	}
	*len = sb.len;
	return strbuf_cstr(&sb);
}

static struct kept *find(const char *key, size_t len, uint64_t h)
{
	size_t i;

	for (i = 0; i < RESPCACHE_SLOTS; i++) {
		struct kept *k = &kept.slot[i];

		if (k->mem != NULL && k->hash == h && k->key_len == len &&
		    memcmp(k->key, key, len) == 0)
			return k;
	}
	return NULL;
}

static void forget(struct kept *k)
{
	free(k->mem);
	memset(k, 0, sizeof(*k));
}

/* A free slot, or the one given or kept longest ago. */
static struct kept *slot_to_fill(void)
{
	struct kept *oldest = &kept.slot[0];
	size_t i;

	for (i = 0; i < RESPCACHE_SLOTS; i++) {
		if (kept.slot[i].mem == NULL)
			return &kept.slot[i];
		if (kept.slot[i].used < oldest->used)
			oldest = &kept.slot[i];
	}
	forget(oldest);
	return oldest;
}

int respcache_holds(const struct req *r)
{
	size_t len;
	const char *key = key_of(r, &len);

	return key != NULL && find(key, len, key_hash(key, len)) != NULL;
}

int respcache_answer(struct req *r, long long version)
{
	size_t len;
	const char *key = key_of(r, &len);
	struct kept *k;

	if (key == NULL || (k = find(key, len, key_hash(key, len))) == NULL)
		return 0;
	if (k->version != version || k->role != (int)r->who.role) {
		forget(k);   /* the tenant's rows moved on, or the caller's role did */
		return 0;
	}
	if (strbuf_add(&r->headers, k->headers, k->headers_len) < 0)
		return 0;   /* the handler answers instead */
	/* the body stays where it is kept: nothing is kept or forgotten before
	 * this request's answer is written (the router keeps nothing it gave) */
	r->body_out = k->body;
	r->type_out = k->type;
	r->body_out_len = k->body_len;
	r->status = 200;
	k->used = ++kept.clock;
	return 1;
}

/* Copies n bytes of s (or nothing for NULL) to *at, NUL-terminated; returns where they went. */
static const char *put(char **at, const char *s, size_t n)
{
	char *dst = *at;

	if (s == NULL)
		return NULL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	*at += n + 1;
	return dst;
}

void respcache_keep(const struct req *r, long long version, size_t headers_from)
{
	size_t key_len, hlen, tlen;
	const char *key = key_of(r, &key_len);
	const char *headers = strbuf_cstr(&r->headers);
	struct kept *k;
	char *at;

	if (r->status != 200 || version < 0 || key == NULL || headers == NULL ||
	    headers_from > r->headers.len)
		return;
	hlen = r->headers.len - headers_from;
	tlen = r->type_out != NULL ? strlen(r->type_out) : 0;
	if (key_len + hlen + r->body_out_len + tlen > RESPCACHE_MAX_BYTES)
		return;
	k = find(key, key_len, key_hash(key, key_len));
	if (k != NULL)
		forget(k);
	else
		k = slot_to_fill();
	if ((at = k->mem = malloc(key_len + hlen + r->body_out_len + tlen + 4)) == NULL)
		return;
	k->key = put(&at, key, key_len);
	k->key_len = key_len;
	k->hash = key_hash(key, key_len);
	k->headers = put(&at, headers + headers_from, hlen);
	k->headers_len = hlen;
	k->body = put(&at, r->body_out, r->body_out_len);
	k->body_len = r->body_out != NULL ? r->body_out_len : 0;
	k->type = put(&at, r->type_out, tlen);
	k->version = version;
	k->role = (int)r->who.role;
	k->used = ++kept.clock;
}

void respcache_clear(void)
{
	size_t i;

	for (i = 0; i < RESPCACHE_SLOTS; i++)
		forget(&kept.slot[i]);
	kept.clock = 0;
}
