/* test_cache.c: parse cache entries and the store's image: round trips, damage, bounds */
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "core/project.h"
#include "repo/store.h"
#include "suites.h"
#include "util/arena.h"
#include "util/error.h"

static struct arena *a;

static void setup(void)
{
	a = arena_new(0);
}

static void teardown(void)
{
	arena_free(a);
}

#define N(x) (sizeof(x) / sizeof((x)[0]))
#define FR "-- kind: FULL_REFRESH\n"

/* Files that exercise every field an entry keeps. */
static const struct tfile files[] = {
	{ "m/full.sql", "\xef\xbb\xbf-- name: s.full\n"
	  "-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: d\n"
	  "-- materialization: MERGE\n-- unique_key: id\n-- partition_by: d\n"
	  "-- owner: team\n-- tags: b, a\n-- lookback_days: 7\n"
	  "-- contract_mode: strict\n"
	  "-- contract_columns: id:int:not_null, d:date\n"
	  "-- tests: unique(id)@warn, not_null(d)\n-- dependencies: s.dep\n"
	  "-- colour: red\n"
	  "SELECT id, d FROM {{ ref('up') }} JOIN {{ ref(\"s.dep\") }} USING (id)\n" },
	{ "m/up.sql", "-- name: s.up\n" FR "SELECT 1 AS id, CURRENT_DATE AS d" },
	{ "m/dep.sql", "-- name: s.dep\n" FR "SELECT * FROM t" },
	{ "m/raw.sql", "-- name: s.raw\n" FR "SELECT 'unterminated" },
	{ "m/none.sql", "-- kind: FULL_REFRESH\nSELECT 1" },
};

/* A store that keeps entries in a plain array (the tests' own). */
struct mem_store {
	unsigned char keys[16][32];
	size_t key_len[16];
	void *data[16];
	size_t len[16];
	size_t n;
	size_t gets;
};

static const void *mem_get(void *store, const void *key, size_t key_len,
			   size_t *len)
{
	struct mem_store *s = store;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->key_len[i] == key_len &&
		    memcmp(s->keys[i], key, key_len) == 0) {
			s->gets++;
			*len = s->len[i];
			return s->data[i];
		}
	return NULL;
}

static int mem_put(void *store, const void *key, size_t key_len,
		   const void *data, size_t len)
{
	struct mem_store *s = store;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->key_len[i] == key_len &&
		    memcmp(s->keys[i], key, key_len) == 0)
			break;
	ck_assert_uint_lt(i, 16);
	if (i == s->n)
		s->n++;
	memcpy(s->keys[i], key, key_len);
	s->key_len[i] = key_len;
	/* the old bytes stay: models of a project may point into them */
	s->data[i] = arena_alloc(a, len);
	memcpy(s->data[i], data, len);
	s->len[i] = len;
	return 0;
}

static const struct parse_store_ops mem_ops = { mem_get, mem_put };

/* A project through a cache backed by store; the key is the path. */
static struct project *through(struct mem_store *store,
			       struct parse_cache_stats *st)
{
	struct parse_cache *c;
	struct project *p;
	size_t i;

	ck_assert_int_eq(parse_cache_new(&c, a), 0);
	parse_cache_set_store(c, &mem_ops, store);
	ck_assert_int_eq(project_new(&p, a), 0);
	for (i = 0; i < N(files); i++)
		ck_assert_int_eq(project_add_file_cached(p, c, files[i].path,
			strlen(files[i].path), files[i].path, files[i].text,
			strlen(files[i].text)), 0);
	ck_assert_int_eq(project_finish(p), 0);
	ck_assert_int_eq(parse_cache_sync(c), 0);
	parse_cache_get_stats(c, st);
	return p;
}

static void assert_lists_eq(const struct str_list *x, const struct str_list *y)
{
	size_t i;

	ck_assert_uint_eq(x->n, y->n);
	for (i = 0; i < x->n; i++)
		ck_assert_str_eq(x->items[i], y->items[i]);
}

static void assert_models_eq(const struct model *x, const struct model *y)
{
	size_t k;

	ck_assert_str_eq(x->name, y->name);
	ck_assert_str_eq(x->path, y->path);
	ck_assert_uint_eq(x->name_line, y->name_line);
	ck_assert_int_eq(x->kind, y->kind);
	ck_assert_int_eq(x->materialization, y->materialization);
	ck_assert_int_eq(x->contract_mode, y->contract_mode);
	ck_assert_pstr_eq(x->time_column, y->time_column);
	ck_assert_pstr_eq(x->unique_key, y->unique_key);
	ck_assert_pstr_eq(x->partition_by, y->partition_by);
	ck_assert_pstr_eq(x->owner, y->owner);
	assert_lists_eq(&x->tags, &y->tags);
	assert_lists_eq(&x->contract_columns, &y->contract_columns);
	assert_lists_eq(&x->tests, &y->tests);
	ck_assert_int_eq(x->lookback_days, y->lookback_days);
	ck_assert_uint_eq(x->text_len, y->text_len);
	ck_assert_int_eq(memcmp(x->text, y->text, x->text_len), 0);
	ck_assert_uint_eq((size_t)(x->body - x->text),
			  (size_t)(y->body - y->text));
	ck_assert_uint_eq(x->body_len, y->body_len);
	ck_assert_uint_eq(x->body_line, y->body_line);
	ck_assert_int_eq(x->has_errors, y->has_errors);
	ck_assert_uint_eq(x->n_refs, y->n_refs);
	for (k = 0; k < x->n_refs; k++) {
		ck_assert_str_eq(x->refs[k].name, y->refs[k].name);
		ck_assert_uint_eq(x->refs[k].line, y->refs[k].line);
		ck_assert_int_eq(x->refs[k].from_header, y->refs[k].from_header);
		ck_assert_int_eq(x->refs[k].target, y->refs[k].target);
	}
	ck_assert_str_eq(x->content_hash, y->content_hash);
}

/* A project read back from the store equals the parsed one, field by
 * field, diags included, and nothing is parsed the second time. */
START_TEST(test_cache__entries_round_trip)
{
	struct mem_store store;
	struct parse_cache_stats cold, warm;
	struct project *plain = t_project(a, files, N(files)), *p1, *p2;
	size_t i;

	memset(&store, 0, sizeof(store));
	p1 = through(&store, &cold);
	p2 = through(&store, &warm);
	ck_assert_uint_eq(cold.parsed, N(files));
	ck_assert_uint_eq(cold.stored, N(files));
	ck_assert_uint_eq(warm.parsed, 0);
	ck_assert_uint_eq(warm.from_store, N(files));
	ck_assert_uint_eq(warm.bad_entries, 0);
	ck_assert_uint_eq(warm.stored, 0);
	ck_assert_str_eq(t_diags(a, &p2->diags), t_diags(a, &plain->diags));
	ck_assert_str_eq(t_diags(a, &p1->diags), t_diags(a, &plain->diags));
	ck_assert_uint_eq(p2->n_models, plain->n_models);
	for (i = 0; i < plain->n_models; i++)
		assert_models_eq(p2->models[i], plain->models[i]);
	/* the unlexable body keeps its raw hash; the BOM is text */
	ck_assert_int_eq(p2->models[project_find(p2, "s.raw")]->canon.state,
			 CANON_RAW);
	ck_assert_int_eq(p2->models[project_find(p2, "s.full")]->text[0],
			 '\xef');
}
END_TEST

/* A project of files through a cache on store, each keyed by its text. */
static struct project *keyed(struct mem_store *store, const struct tfile *f,
			     size_t n)
{
	struct parse_cache *c;
	struct project *p;
	size_t i;

	ck_assert_int_eq(parse_cache_new(&c, a), 0);
	parse_cache_set_store(c, &mem_ops, store);
	ck_assert_int_eq(project_new(&p, a), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(project_add_file_cached(p, c, f[i].text, 32,
			f[i].path, f[i].text, strlen(f[i].text)), 0);
	ck_assert_int_eq(project_finish(p), 0);
	ck_assert_int_eq(parse_cache_sync(c), 0);
	return p;
}

/* An entry saved when its ref named s.b, read where the ref now resolves
 * to t.b: its hash is computed again, as a parse gives it. */
START_TEST(test_cache__memo_is_checked_against_resolution)
{
	static const struct tfile first[] = {
		{ "m/a.sql", "-- name: s.a\n" FR "SELECT x FROM {{ ref('b') }}" },
		{ "m/b.sql", "-- name: s.b\n" FR "SELECT 1 AS x" },
	};
	static const struct tfile renamed[] = {
		{ "m/a.sql", "-- name: s.a\n" FR "SELECT x FROM {{ ref('b') }}" },
		{ "m/b.sql", "-- name: t.b\n" FR "SELECT 1 AS x" },
	};
	struct mem_store store;
	struct project *p1, *p2, *plain = t_project(a, renamed, N(renamed));

	memset(&store, 0, sizeof(store));
	p1 = keyed(&store, first, N(first));
	p2 = keyed(&store, renamed, N(renamed));
	ck_assert_uint_gt(store.gets, 0);
	ck_assert_str_ne(p1->models[0]->content_hash,
			 p2->models[0]->content_hash);
	ck_assert_str_eq(p2->models[0]->content_hash,
			 plain->models[0]->content_hash);
	/* and the entry now remembers t.b: a third run reuses it */
	p1 = keyed(&store, renamed, N(renamed));
	ck_assert_str_eq(p1->models[0]->content_hash,
			 plain->models[0]->content_hash);
}
END_TEST

/* With the text only in a temporary buffer, the model keeps the entry's
 * copy of it: the buffer can be overwritten at once. */
START_TEST(test_cache__model_text_from_the_entry)
{
	struct arena *scratch = arena_new(0), *entries = arena_new(0);
	const char *text = files[0].text;
	size_t len = strlen(text);
	char *tmp = arena_strdup(scratch, text);
	struct parsed_file pf;

	ck_assert_int_eq(parse_file(&pf, a, scratch, entries, tmp, len, 1), 0);
	memset(tmp, 'x', len);
	ck_assert_ptr_nonnull(pf.m);
	ck_assert_uint_eq(pf.m->text_len, len);
	ck_assert_int_eq(memcmp(pf.m->text, text, len), 0);
	ck_assert_int_eq(strncmp(pf.m->body, "SELECT id, d FROM", 17), 0);
	ck_assert(pf.m->text >= (const char *)pf.entry &&
		  pf.m->text < (const char *)pf.entry + pf.entry_len);
	arena_free(scratch);
	arena_free(entries);
}
END_TEST

/* Any cut of an entry and any flipped byte: refused or read, never a
 * crash (the sanitizers watch), and a cut one is always refused. */
START_TEST(test_cache__damaged_entries)
{
	struct arena *scratch = arena_new(0), *entries = arena_new(0);
	struct parsed_file pf, out;
	unsigned char *copy;
	size_t f, i, bit;

	for (f = 0; f < N(files); f++) {
		ck_assert_int_eq(parse_file(&pf, a, scratch, entries,
					    files[f].text,
					    strlen(files[f].text), 0), 0);
		copy = arena_alloc(a, pf.entry_len);
		for (i = 0; i < pf.entry_len; i++)
			ck_assert_int_eq(parse_entry_decode(&out, a, pf.entry, i),
					 IL_EINVALID);
		for (i = 0; i < pf.entry_len; i++)
			for (bit = 0; bit < 8; bit += 3) {
				memcpy(copy, pf.entry, pf.entry_len);
				copy[i] ^= (unsigned char)(1u << bit);
				parse_entry_decode(&out, a, copy, pf.entry_len);
			}
	}
	arena_free(scratch);
	arena_free(entries);
}
END_TEST

struct image {
	unsigned char *p;
	size_t len;
};

static int to_image(void *ctx, const void *data, size_t n)
{
	struct image *img = ctx;
	unsigned char *p = realloc(img->p, img->len + n);

	if (p == NULL)
		return -1;
	memcpy(p + img->len, data, n);
	img->p = p;
	img->len += n;
	return 0;
}

/* The image of a store: header, then the payload write gave out. */
static struct image image_of(const struct parse_store *s)
{
	unsigned char header[STORE_HEADER_BYTES] = { 0 };
	struct image img = { NULL, 0 };

	ck_assert_int_eq(to_image(&img, header, sizeof(header)), 0);
	ck_assert_int_eq(parse_store_write(s, to_image, &img, header), 0);
	memcpy(img.p, header, sizeof(header));
	return img;
}

static unsigned char *dup_bytes(const unsigned char *p, size_t n)
{
	unsigned char *d = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(d);
	memcpy(d, p, n);
	return d;
}

static void put_entry(struct parse_store *s, int i, size_t len)
{
	unsigned char key[20], *data = calloc(1, len);

	memset(key, i, sizeof(key));
	memset(data, 'a' + i, len);
	ck_assert_int_eq(parse_store_ops.put(s, key, sizeof(key), data, len), 0);
	free(data);
}

static int has_entry(struct parse_store *s, int i)
{
	unsigned char key[20];
	size_t len;

	memset(key, i, sizeof(key));
	return parse_store_ops.get(s, key, sizeof(key), &len) != NULL;
}

/* A store's image loads back whole; cut, damaged or of another version it
 * is refused whole. */
START_TEST(test_cache__store_image)
{
	struct parse_store *s = parse_store_new(1 << 20), *t;
	struct parse_store_info info;
	struct image img;
	unsigned char *bad;
	size_t i;
	int k;

	for (k = 1; k <= 5; k++)
		put_entry(s, k, 100 * (size_t)k);
	img = image_of(s);
	t = parse_store_new(1 << 20);
	ck_assert_int_eq(parse_store_load(t, dup_bytes(img.p, img.len),
					  img.len), 0);
	parse_store_get_info(t, &info);
	ck_assert_uint_eq(info.entries, 5);
	ck_assert_int_eq(info.changed, 0);
	for (k = 1; k <= 5; k++)
		ck_assert_int_eq(has_entry(t, k), 1);
	parse_store_free(t);
	for (i = 0; i < img.len; i += 7) {
		t = parse_store_new(1 << 20);
		ck_assert_int_eq(parse_store_load(t, dup_bytes(img.p, i), i),
				 IL_EINVALID);
		bad = dup_bytes(img.p, img.len);
		bad[i] ^= 0x10;
		ck_assert_int_eq(parse_store_load(t, bad, img.len), IL_EINVALID);
		parse_store_get_info(t, &info);
		ck_assert_uint_eq(info.entries, 0);
		parse_store_free(t);
	}
	/* another PARSE_CACHE_VERSION, the header's checksum made right */
	bad = dup_bytes(img.p, img.len);
	bad[12]++;
	{
		uint64_t sum = parse_store_checksum(bad, 48);

		for (k = 0; k < 8; k++)
			bad[48 + k] = (unsigned char)(sum >> (8 * k));
	}
	t = parse_store_new(1 << 20);
	ck_assert_int_eq(parse_store_load(t, bad, img.len), IL_EINVALID);
	parse_store_free(t);
	free(img.p);
	parse_store_free(s);
}
END_TEST

/* Over its bound, a store drops what was used longest ago; a save keeps
 * what fits, the newest first. */
START_TEST(test_cache__store_is_bounded)
{
	struct parse_store *s = parse_store_new(4 * (1000 + 64)), *t;
	struct parse_store_info info;
	struct image img;
	int k;

	for (k = 1; k <= 3; k++)
		put_entry(s, k, 1000);
	parse_store_trim(s);                  /* under the bound: kept */
	ck_assert_int_eq(has_entry(s, 1), 1); /* entry 1 used again */
	parse_store_trim(s);
	for (k = 4; k <= 6; k++)
		put_entry(s, k, 1000);
	img = image_of(s);                    /* what fits: 4 of 6 */
	t = parse_store_new(1 << 20);
	ck_assert_int_eq(parse_store_load(t, img.p, img.len), 0);
	parse_store_get_info(t, &info);
	ck_assert_uint_eq(info.entries, 4);
	ck_assert_int_eq(has_entry(t, 1), 1);    /* used after 2 and 3 */
	ck_assert_int_eq(has_entry(t, 2) + has_entry(t, 3), 0);
	parse_store_free(t);
	parse_store_trim(s);                  /* down to 90 %: 3 left */
	parse_store_get_info(s, &info);
	ck_assert_uint_le(info.bytes, 4 * (1000 + 64));
	ck_assert_uint_eq(info.entries, 3);
	for (k = 4; k <= 6; k++)
		ck_assert_int_eq(has_entry(s, k), 1);
	ck_assert_int_eq(has_entry(s, 1), 0);
	parse_store_free(s);
}
END_TEST

Suite *suite_cache(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cache__entries_round_trip);
	tcase_add_test(tc, test_cache__memo_is_checked_against_resolution);
	tcase_add_test(tc, test_cache__model_text_from_the_entry);
	tcase_add_test(tc, test_cache__damaged_entries);
	tcase_add_test(tc, test_cache__store_image);
	tcase_add_test(tc, test_cache__store_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}
