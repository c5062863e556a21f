/*
 * fuzz_cache.c: libFuzzer target for what reads a parse cache back: the file
 * image, its entries, tree listings
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/columns.h"
#include "core/project.h"
#include "repo/repo_int.h"
#include "repo/store.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[20] = "fuzzed-blob-id-12345";

static void put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A decoded entry used the way a plan uses it: copied into a project
 * (twice, so refs resolve among the copies), finished, its columns read. */
static void use_entry(const void *entry, size_t len)
{
	struct arena *a = arena_new(0);
	struct parsed_file pf;
	struct parse_cache *c;
	struct project *p;
	struct str_list cols;
	int known;

	if (a == NULL)
		return;
	if (parse_entry_decode(&pf, a, entry, len) == 0 &&
	    parse_cache_new(&c, a) == 0 &&
	    parse_cache_add_parsed(c, key, sizeof(key), &pf) == 0 &&
	    project_new(&p, a) == 0) {
		project_add_file_cached(p, c, key, sizeof(key), "a.sql", NULL, 0);
		project_add_file_cached(p, c, key, sizeof(key), "b.sql", NULL, 0);
		project_finish(p);
		if (pf.m)
			model_output_columns(&cols, &known, a, pf.m);
	}
	arena_free(a);
}

/* An image whose header and checksums are right around payload. */
static void load_image(const void *payload, size_t n, uint64_t count)
{
	unsigned char *img = malloc(STORE_HEADER_BYTES + n + 1);
	struct parse_store *s = parse_store_new(1 << 26);
	const void *entry;
	size_t len;

	if (img == NULL || s == NULL) {
		free(img);
		parse_store_free(s);
		return;
	}
	memcpy(img + STORE_HEADER_BYTES, payload, n);
	memcpy(img, "ILPARSE\n", 8);
	put_le(img + 8, 1, 4);
	put_le(img + 12, PARSE_CACHE_VERSION, 4);
	put_le(img + 16, 7, 8);
	put_le(img + 24, count, 8);
	put_le(img + 32, n, 8);
	put_le(img + 40, parse_store_checksum(img + STORE_HEADER_BYTES, n), 8);
	put_le(img + 48, parse_store_checksum(img, 48), 8);
	if (parse_store_load(s, img, STORE_HEADER_BYTES + n) == 0 &&
	    (entry = parse_store_ops.get(s, key, sizeof(key), &len)) != NULL)
		use_entry(entry, len);
	parse_store_free(s);
}

/* One entry (key, generation, length, data) as a whole payload. */
static void load_entry(const void *data, size_t n)
{
	unsigned char *p = malloc(33 + n);

	if (p == NULL)
		return;
	p[0] = sizeof(key);
	memcpy(p + 1, key, sizeof(key));
	put_le(p + 21, 1, 8);
	put_le(p + 29, n, 4);
	memcpy(p + 33, data, n);
	load_image(p, 33 + n, 1);
	free(p);
}

/*
 * Text before a NUL is a model file: parsed and encoded, its entry then
 * damaged by the bytes after the NUL (offset low, offset high, xor mask,
 * in threes), so the fuzzer reaches entries that are nearly right.
 */
static void from_text(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size, i;
	struct arena *a = arena_new(0), *scratch = arena_new(0);
	struct arena *entries = arena_new(0);
	struct parsed_file pf;
	unsigned char *e;

	if (a && scratch && entries &&
	    parse_file(&pf, a, scratch, entries, (const char *)data, tlen,
		       0) == 0 &&
	    pf.entry_len > 0) {
		e = pf.entry;
		for (i = tlen + 1; i + 3 <= size; i += 3)
			e[(data[i] | (size_t)data[i + 1] << 8) % pf.entry_len] ^=
				data[i + 2];
		load_entry(e, pf.entry_len);
	}
	arena_free(entries);
	arena_free(scratch);
	arena_free(a);
}

/* The input as a models tree's file list kept in the store. */
static void as_listing(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct model_file *files, one;
	size_t n;
	void *out;

	if (a && repo__listing_decode(&files, &n, a, "models", data,
				      size) == 0 && n > 0) {
		/* what reads back also writes out again */
		one = files[0];
		repo__listing_encode(&out, &n, a, &one, 1, strlen("models"));
	}
	arena_free(a);
}

/* The input as a whole image, as the payload of a right image (the
 * entry table itself), as one entry's bytes, and as a model file whose
 * entry it damages. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *img = malloc(size + 1);
	struct parse_store *s = parse_store_new(1 << 26);

	if (img && s) {
		memcpy(img, data, size);
		parse_store_load(s, img, size);    /* takes img */
	} else {
		free(img);
	}
	parse_store_free(s);
	load_image(data, size, size ? data[0] % 4 : 0);
	load_entry(data, size);
	from_text(data, size);
	as_listing(data, size);
	return 0;
}
