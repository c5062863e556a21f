/* store.c: parsed model files kept beyond one request: a bounded table and its file image */
#include "repo/store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/keyhash.h"

/* Accounted per entry besides its bytes: the slot and malloc's overhead. */
#define ENTRY_OVERHEAD 64
/* A trim goes a little under the bound so the next request does not trim
 * again at once. */
#define TRIM_TO(max) ((max) / 10 * 9)

/*
 * Image: a header, then per entry u8 key length, the key, u64 generation
 * last used, u32 data length, the data. Header: "ILPARSE\n", u32 format,
 * u32 PARSE_CACHE_VERSION, u64 generation, u64 entry count, u64 payload
 * length, u64 checksum of the payload, u64 checksum of the header before
 * it. Little-endian. The checksums find a truncated or damaged file; a
 * cache file is the user's own, so nothing here guards against a forger.
 */
#define IMAGE_MAGIC "ILPARSE\n"
#define IMAGE_FORMAT 1
#define IMAGE_HEADER STORE_HEADER_BYTES   /* 8 + 4 + 4 + 8 * 5 */
#define IMAGE_ENTRY_MIN (1 + 1 + 8 + 4)

struct store_entry {
	unsigned char key[PARSE_CACHE_MAX_KEY];
	size_t key_len;          /* 0: an empty slot */
	uint64_t generation;     /* last get or put */
	const unsigned char *data;
	size_t len;
	int owned;               /* malloc'd, else inside the loaded image */
};

/* An arena the store took over; the node lives in the arena itself. */
struct adopted {
	struct adopted *next;
	struct arena *a;
};

struct parse_store {
	struct store_entry *slots;   /* open addressing, power-of-two size */
	size_t cap;
	size_t n;
	size_t bytes;
	size_t max_bytes;
	uint64_t generation;
	unsigned char *image;        /* the loaded file */
	size_t image_len;
	int image_mapped;            /* mmap'd (munmap), else malloc'd */
	void **graveyard;            /* replaced data, freed at the next trim */
	size_t n_graves;
	size_t graves_cap;
	struct adopted *adopted;     /* arenas entries point into */
	int keep_all;
	int changed;
};

struct parse_store *parse_store_new(size_t max_bytes)
{
	struct parse_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cap = 1024;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	if (s->slots == NULL) {
		free(s);
		return NULL;
	}
	s->max_bytes = max_bytes;
	s->generation = 1;
	return s;
}

static void drop_entries(struct parse_store *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		if (s->slots[i].key_len && s->slots[i].owned)
			free((void *)s->slots[i].data);
	memset(s->slots, 0, s->cap * sizeof(*s->slots));
	s->n = 0;
	s->bytes = 0;
}

static void bury(struct parse_store *s)
{
	size_t i;

	for (i = 0; i < s->n_graves; i++)
		free(s->graveyard[i]);
	s->n_graves = 0;
}

static void release_image(void *image, size_t len, int mapped)
{
	if (mapped)
		munmap(image, len ? len : 1);
	else
		free(image);
}

void parse_store_free(struct parse_store *s)
{
	if (s == NULL)
		return;
	drop_entries(s);
	bury(s);
	while (s->adopted) {
		struct arena *a = s->adopted->a;

		s->adopted = s->adopted->next;
		arena_free(a);
	}
	free(s->graveyard);
	free(s->slots);
	release_image(s->image, s->image_len, s->image_mapped);
	free(s);
}

/* Data models of the running request may point into: freed at the next
 * trim instead of now. -1 when there is no room to remember it. */
static int retire(struct parse_store *s, const unsigned char *data)
{
	void **g;

	if (s->n_graves == s->graves_cap) {
		size_t cap = s->graves_cap ? s->graves_cap * 2 : 64;

		if ((g = realloc(s->graveyard, cap * sizeof(*g))) == NULL)
			return -1;
		s->graveyard = g;
		s->graves_cap = cap;
	}
	s->graveyard[s->n_graves++] = (void *)data;
	return 0;
}

static struct store_entry *find(struct store_entry *slots, size_t cap,
				const void *key, size_t n)
{
	size_t i = key_hash(key, n) & (cap - 1);

	while (slots[i].key_len && (slots[i].key_len != n ||
				    memcmp(slots[i].key, key, n) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* The table at cap slots (a power of two, above the count). */
static int resize(struct parse_store *s, size_t cap)
{
	struct store_entry *slots = calloc(cap, sizeof(*slots));
	size_t i;

	if (slots == NULL)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (s->slots[i].key_len)
			*find(slots, cap, s->slots[i].key,
			      s->slots[i].key_len) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

static int grow(struct parse_store *s)
{
	return resize(s, s->cap * 2);
}

/* At least twice the slots of n + more entries, in one step. */
static int make_room(struct parse_store *s, size_t more)
{
	size_t cap = s->cap;

	while (cap < 2 * (s->n + more))
		cap *= 2;
	return cap == s->cap ? 0 : resize(s, cap);
}

/* Sets key's entry to data (owned or in the image); replaces any old one. */
static int set(struct parse_store *s, const void *key, size_t key_len,
	       const unsigned char *data, size_t len, int owned,
	       uint64_t generation)
{
	struct store_entry *e;

	if (key_len == 0 || key_len > PARSE_CACHE_MAX_KEY)
		return -1;
	if (s->n * 2 >= s->cap && grow(s) < 0)
		return -1;
	e = find(s->slots, s->cap, key, key_len);
	if (e->key_len && e->owned && retire(s, e->data) < 0)
		return -1;
	if (e->key_len)
		s->bytes -= e->len + ENTRY_OVERHEAD;
	else
		s->n++;
	memcpy(e->key, key, key_len);
	e->key_len = key_len;
	e->generation = generation;
	e->data = data;
	e->len = len;
	e->owned = owned;
	s->bytes += len + ENTRY_OVERHEAD;
	return 0;
}

static const void *store_get(void *store, const void *key, size_t key_len,
			     size_t *len)
{
	struct parse_store *s = store;
	struct store_entry *e;

	if (key_len == 0 || key_len > PARSE_CACHE_MAX_KEY)
		return NULL;
	e = find(s->slots, s->cap, key, key_len);
	if (e->key_len == 0)
		return NULL;
	e->generation = s->generation;
	*len = e->len;
	return e->data;
}

static int store_put(void *store, const void *key, size_t key_len,
		     const void *data, size_t len)
{
	struct parse_store *s = store;
	unsigned char *copy = malloc(len ? len : 1);

	if (copy == NULL)
		return -1;
	memcpy(copy, data, len);
	if (set(s, key, key_len, copy, len, 1, s->generation) < 0) {
		free(copy);
		return -1;
	}
	s->changed = 1;
	return 0;
}

const struct parse_store_ops parse_store_ops = { store_get, store_put };

void parse_store_keep_all(struct parse_store *s)
{
	s->keep_all = 1;
}

int parse_store_keeps_all(const struct parse_store *s)
{
	return s->keep_all;
}

int parse_store_adopt(struct parse_store *s, struct arena *a)
{
	struct adopted *node;

	if (a == NULL)
		return 0;
	if (!s->keep_all)
		return -1;
	/* out of memory here, a stays allocated to the end: entries point
	 * into it and the process is about to end anyway */
	if ((node = arena_alloc(a, sizeof(*node))) != NULL) {
		node->a = a;
		node->next = s->adopted;
		s->adopted = node;
	}
	return 0;
}

int parse_store_reserve(struct parse_store *s, size_t more)
{
	return make_room(s, more);
}

int parse_store_put_kept(struct parse_store *s, const void *key,
			 size_t key_len, const void *data, size_t len)
{
	if (!s->keep_all)
		return store_put(s, key, key_len, data, len);
	if (set(s, key, key_len, data, len, 0, s->generation) < 0)
		return -1;
	s->changed = 1;
	return 0;
}

void parse_store_get_info(const struct parse_store *s,
			  struct parse_store_info *out)
{
	out->entries = s->n;
	out->bytes = s->bytes;
	out->generation = s->generation;
	out->changed = s->changed;
}

/* Most recently used first; ties by key, so a saved image is the same
 * bytes for the same entries. */
static int recent_first(const void *pa, const void *pb)
{
	const struct store_entry *a = *(const struct store_entry *const *)pa;
	const struct store_entry *b = *(const struct store_entry *const *)pb;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c;

	if (a->generation != b->generation)
		return a->generation > b->generation ? -1 : 1;
	if ((c = memcmp(a->key, b->key, n)) != 0)
		return c;
	return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* The live entries in eviction order (malloc'd). */
static struct store_entry **by_recency(const struct parse_store *s)
{
	struct store_entry **v = malloc((s->n + 1) * sizeof(*v));
	size_t i, k = 0;

	if (v == NULL)
		return NULL;
	for (i = 0; i < s->cap; i++)
		if (s->slots[i].key_len)
			v[k++] = &s->slots[i];
	qsort(v, k, sizeof(*v), recent_first);
	return v;
}

void parse_store_trim(struct parse_store *s)
{
	struct store_entry **v, *slots;
	size_t i, keep = 0, bytes = 0;

	s->generation++;
	bury(s);
	if (s->bytes <= s->max_bytes || (v = by_recency(s)) == NULL)
		return;
	while (keep < s->n &&
	       bytes + v[keep]->len + ENTRY_OVERHEAD <= TRIM_TO(s->max_bytes))
		bytes += v[keep++]->len + ENTRY_OVERHEAD;
	if ((slots = calloc(s->cap, sizeof(*slots))) == NULL) {
		free(v);
		return;
	}
	for (i = 0; i < s->n; i++) {
		if (i < keep)
			*find(slots, s->cap, v[i]->key, v[i]->key_len) = *v[i];
		else if (v[i]->owned)
			free((void *)v[i]->data);
	}
	free(v);
	free(s->slots);
	s->slots = slots;
	s->n = keep;
	s->bytes = bytes;
}

/* --- the image ------------------------------------------------------ */

static void put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * A 64-bit checksum fed in pieces: four lanes over 32-byte stripes, each
 * word multiplied, rotated and multiplied again (the mixing of xxHash64,
 * several bytes a cycle where SHA-256 takes two cycles a byte), the tail
 * folded in word by word and byte by byte.
 */
#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

struct sum {
	uint64_t lane[4];
	unsigned char tail[32];
	size_t n_tail;
	uint64_t total;
};

static uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static uint64_t round64(uint64_t acc, uint64_t w)
{
	return rotl(acc + w * P2, 31) * P1;
}

static void sum_init(struct sum *h)
{
	memset(h, 0, sizeof(*h));
	h->lane[0] = P1 + P2;
	h->lane[1] = P2;
	h->lane[2] = 0;
	h->lane[3] = 0 - P1;
}

/* A little-endian word at p, in one load where the machine is little-endian. */
static uint64_t word(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static void stripe(struct sum *h, const unsigned char *p)
{
	h->lane[0] = round64(h->lane[0], word(p));
	h->lane[1] = round64(h->lane[1], word(p + 8));
	h->lane[2] = round64(h->lane[2], word(p + 16));
	h->lane[3] = round64(h->lane[3], word(p + 24));
}

static void sum_add(struct sum *h, const void *data, size_t n)
{
	const unsigned char *p = data;

	h->total += n;
	if (h->n_tail) {
		size_t k = 32 - h->n_tail < n ? 32 - h->n_tail : n;

		memcpy(h->tail + h->n_tail, p, k);
		h->n_tail += k;
		p += k;
		n -= k;
		if (h->n_tail < 32)
			return;
		stripe(h, h->tail);
		h->n_tail = 0;
	}
	for (; n >= 32; p += 32, n -= 32)
		stripe(h, p);
	memcpy(h->tail, p, n);
	h->n_tail = n;
}

static uint64_t sum_end(const struct sum *h)
{
	uint64_t v = rotl(h->lane[0], 1) + rotl(h->lane[1], 7) +
		rotl(h->lane[2], 12) + rotl(h->lane[3], 18) + h->total;
	size_t i = 0;
	int k;

	for (k = 0; k < 4; k++)
		v = (v ^ round64(0, h->lane[k])) * P1 + P3;
	for (; i + 8 <= h->n_tail; i += 8)
		v = rotl(v ^ round64(0, word(h->tail + i)), 27) * P1 + P3;
	for (; i < h->n_tail; i++)
		v = rotl(v ^ h->tail[i] * P3, 11) * P1;
	v ^= v >> 33;
	v *= P2;
	v ^= v >> 29;
	v *= P3;
	return v ^ v >> 32;
}

uint64_t parse_store_checksum(const void *data, size_t n)
{
	struct sum h;

	sum_init(&h);
	sum_add(&h, data, n);
	return sum_end(&h);
}

static void fill_header(unsigned char *hdr, uint64_t generation,
			uint64_t count, uint64_t payload, uint64_t sum)
{
	memcpy(hdr, IMAGE_MAGIC, 8);
	put_le(hdr + 8, IMAGE_FORMAT, 4);
	put_le(hdr + 12, PARSE_CACHE_VERSION, 4);
	put_le(hdr + 16, generation, 8);
	put_le(hdr + 24, count, 8);
	put_le(hdr + 32, payload, 8);
	put_le(hdr + 40, sum, 8);
	put_le(hdr + 48, parse_store_checksum(hdr, 48), 8);
}

/* How many of the entries (in order) fit in the bound. */
static size_t fitting(struct store_entry *const *v, size_t n, size_t max)
{
	size_t k, used = 0;

	for (k = 0; k < n && used + v[k]->len + ENTRY_OVERHEAD <= max; k++)
		used += v[k]->len + ENTRY_OVERHEAD;
	return k;
}

/* Entry i's prefix (key length, key, generation, data length). */
static size_t entry_prefix(unsigned char *p, const struct store_entry *e)
{
	p[0] = (unsigned char)e->key_len;
	memcpy(p + 1, e->key, e->key_len);
	put_le(p + 1 + e->key_len, e->generation, 8);
	put_le(p + 1 + e->key_len + 8, e->len, 4);
	return 1 + e->key_len + 12;
}

int parse_store_write(const struct parse_store *s,
		      int (*out)(void *ctx, const void *p, size_t n),
		      void *ctx, unsigned char header[STORE_HEADER_BYTES])
{
	struct store_entry **v = by_recency(s);
	unsigned char pre[1 + PARSE_CACHE_MAX_KEY + 12];
	size_t n, i, k, payload = 0;
	struct sum h;
	int rc = 0;

	if (v == NULL)
		return IL_ENOMEM;
	n = fitting(v, s->n, s->max_bytes);
	sum_init(&h);
	for (i = 0; i < n && rc == 0; i++) {
		k = entry_prefix(pre, v[i]);
		sum_add(&h, pre, k);
		sum_add(&h, v[i]->data, v[i]->len);
		payload += k + v[i]->len;
		if (out(ctx, pre, k) < 0 || out(ctx, v[i]->data, v[i]->len) < 0)
			rc = IL_ERR;
	}
	free(v);
	fill_header(header, s->generation, n, payload, sum_end(&h));
	return rc;
}

/* The header of an image this version can read; its entry count. */
static int header_ok(const unsigned char *img, size_t len, uint64_t *count)
{
	uint64_t payload;

	if (len < IMAGE_HEADER || memcmp(img, IMAGE_MAGIC, 8) != 0 ||
	    get_le(img + 48, 8) != parse_store_checksum(img, 48) ||
	    get_le(img + 8, 4) != IMAGE_FORMAT ||
	    get_le(img + 12, 4) != PARSE_CACHE_VERSION)
		return 0;
	payload = get_le(img + 32, 8);
	*count = get_le(img + 24, 8);
	if (payload != len - IMAGE_HEADER ||
	    *count > payload / IMAGE_ENTRY_MIN)
		return 0;
	return get_le(img + 40, 8) ==
		parse_store_checksum(img + IMAGE_HEADER, (size_t)payload);
}

/* Every entry of the payload into the store; 0, or -1 when one is out of
 * bounds (or memory runs out). */
static int load_entries(struct parse_store *s, const unsigned char *p,
			size_t left, uint64_t count)
{
	uint64_t i;

	/* the table at its final size at once (count is bounded by the
	 * payload's size) */
	if (make_room(s, (size_t)count) < 0)
		return -1;

	for (i = 0; i < count; i++) {
		size_t key_len, len;
		uint64_t gen;

		if (left < IMAGE_ENTRY_MIN)
			return -1;
		key_len = p[0];
		if (key_len == 0 || key_len > PARSE_CACHE_MAX_KEY ||
		    left - 1 < key_len + 12)
			return -1;
		gen = get_le(p + 1 + key_len, 8);
		len = (size_t)get_le(p + 1 + key_len + 8, 4);
		if (left - 1 - key_len - 12 < len)
			return -1;
		if (set(s, p + 1, key_len, p + 1 + key_len + 12, len, 0,
			gen) < 0)
			return -1;
		p += 1 + key_len + 12 + len;
		left -= 1 + key_len + 12 + len;
	}
	return left == 0 ? 0 : -1;
}

static int load_image(struct parse_store *s, void *image, size_t len,
		      int mapped)
{
	const unsigned char *img = image;
	uint64_t count;

	if (s->n != 0 || s->image != NULL) {
		release_image(image, len, mapped);
		return IL_EINVALID;
	}
	if (!header_ok(img, len, &count) ||
	    load_entries(s, img + IMAGE_HEADER, len - IMAGE_HEADER,
			 count) < 0) {
		drop_entries(s);
		release_image(image, len, mapped);
		return IL_EINVALID;
	}
	s->image = image;
	s->image_len = len;
	s->image_mapped = mapped;
	s->generation = get_le(img + 16, 8) + 1;
	s->changed = 0;
	return 0;
}

int parse_store_load(struct parse_store *s, void *image, size_t len)
{
	return load_image(s, image, len, 0);
}

int parse_store_load_mapped(struct parse_store *s, void *image, size_t len)
{
	return load_image(s, image, len, 1);
}
