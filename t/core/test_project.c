/* test_project.c: refs, duplicates, cycles, content hashes, DAG, lineage */
#include <string.h>

#include "core/dag.h"
#include "core/project.h"
#include "suites.h"
#include "util/arena.h"

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

static const char *hash_of(const char *text)
{
	struct tfile f[] = {
		{ "m/x.sql", text },
		{ "m/up.sql", "-- name: s.up\n" FR "SELECT 1 AS id" },
	};
	struct project *p = t_project(a, f, N(f));
	int i = project_find(p, "s.x");

	ck_assert_str_eq(t_diags(a, &p->diags), "");
	ck_assert_int_ge(i, 0);
	return p->models[i]->content_hash;
}

START_TEST(test_project__refs_resolve_and_report)
{
	struct tfile f[] = {
		{ "m/a.sql", "-- name: s.orders\n" FR "SELECT 1 AS id" },
		{ "m/b.sql", "-- name: t.orders\n" FR "SELECT 1 AS id" },
		{ "m/c.sql", "-- name: s.customers\n" FR "SELECT 1 AS id" },
		{ "m/d.sql", "-- name: s.d\n" FR "-- dependencies: s.custmers\n"
		  "SELECT * FROM {{ ref('customers') }}, {{ ref('orders') }},\n"
		  "{{ ref('s.ordes') }}" },
	};
	struct project *p = t_project(a, f, N(f));
	const struct model *d = p->models[project_find(p, "s.d")];

	ck_assert_str_eq(t_diags(a, &p->diags),
		"m/d.sql:3: error: unresolved dependency 's.custmers': no model "
		"has that name (closest: 's.customers')\n"
		"m/d.sql:4: error: ambiguous ref 'orders': 2 models match "
		"(s.orders, t.orders); write the full name\n"
		"m/d.sql:4: warning: SELECT * makes the model's columns depend "
		"on its upstream; list the columns\n"
		"m/d.sql:5: error: unresolved ref 's.ordes': no model has that "
		"name (closest: 's.orders')\n");
	ck_assert_int_eq(d->refs[0].target, project_find(p, "s.customers"));
	ck_assert_int_eq(d->has_errors, 1);
	ck_assert_int_eq(project_resolve(p, "orders", 6), -2);
	ck_assert_int_eq(project_resolve(p, "nope", 4), -1);
}
END_TEST

START_TEST(test_project__duplicates_and_cycles)
{
	struct tfile f[] = {
		{ "m/a.sql", "-- name: c.a\n" FR "SELECT x FROM {{ ref('c.b') }}" },
		{ "m/b.sql", "-- name: c.b\n" FR "SELECT x FROM {{ ref('c') }}" },
		{ "m/c.sql", "-- name: c.c\n" FR "-- dependencies: c.a\nSELECT 1" },
		{ "m/self.sql", "-- name: c.self\n" FR
		  "SELECT x FROM {{ ref('self') }}" },
		{ "m/down.sql", "-- name: c.down\n" FR
		  "SELECT x FROM {{ ref('c.a') }}" },
		{ "z/dup.sql", "-- name: c.b\n" FR "SELECT 2" },
	};
	struct project *p = t_project(a, f, N(f));

	ck_assert_str_eq(t_diags(a, &p->diags),
		"m/a.sql:3: error: dependency cycle: c.a \xe2\x86\x92 c.b "
		"\xe2\x86\x92 c.c \xe2\x86\x92 c.a\n"
		"m/self.sql:3: error: dependency cycle: c.self \xe2\x86\x92 "
		"c.self\n"
		"z/dup.sql:1: error: duplicate model name 'c.b': also defined in "
		"m/b.sql (line 1)\n");
	ck_assert_uint_eq(p->n_models, 5);
}
END_TEST

START_TEST(test_project__content_hash_ignores_form)
{
	const char *h = hash_of("-- name: s.x\n" FR "-- owner: me\n"
				"SELECT id FROM {{ ref('s.up') }} WHERE id > 1");

	ck_assert_uint_eq(strlen(h), 64);
	ck_assert_str_eq(hash_of("-- name: s.x\r\n" FR "\r\n"
				 "/* x */ select ID\r\n  from {{ref('up')}}\r\n"
				 "where id>1 -- c\r\n;"), h);
	ck_assert_str_eq(hash_of("-- tags: a\n-- kind: FULL_REFRESH\n"
				 "-- name: s.x\n-- owner: you\n"
				 "-- lookback_days: 3\n"
				 "SELECT id FROM s.up WHERE id > 1"), h);
	ck_assert_str_ne(hash_of("-- name: s.x\n" FR
				 "SELECT id FROM {{ ref('s.up') }} WHERE id > 2"),
			 h);
	ck_assert_str_ne(hash_of("-- name: s.x\n" FR
				 "SELECT id FROM {{ ref('s.up') }} WHERE "
				 "id > '1'"), h);
	ck_assert_str_ne(hash_of("-- name: s.x\n-- kind: MERGE_BY_KEY\n"
				 "-- unique_key: id\n"
				 "SELECT id FROM {{ ref('s.up') }} WHERE id > 1"),
			 h);
	ck_assert_str_ne(hash_of("-- name: s.x\n" FR "-- tests: unique(id)\n"
				 "SELECT id FROM {{ ref('s.up') }} WHERE id > 1"),
			 h);
	ck_assert_str_ne(hash_of("-- name: s.x\n" FR "-- materialization: VIEW\n"
				 "SELECT id FROM {{ ref('s.up') }} WHERE id > 1"),
			 h);
}
END_TEST

/* a -> b -> d, a -> c -> d, e alone */
static struct project *diamond(void)
{
	struct tfile f[] = {
		{ "d.sql", "-- name: s.d\n" FR "SELECT 1 FROM {{ ref('b') }}, "
		  "{{ ref('c') }}" },
		{ "c.sql", "-- name: s.c\n" FR "SELECT 1 FROM {{ ref('a') }}" },
		{ "b.sql", "-- name: s.b\n" FR "SELECT 1 FROM {{ ref('a') }}" },
		{ "a.sql", "-- name: s.a\n" FR "SELECT 1" },
		{ "e.sql", "-- name: s.e\n" FR "SELECT 1" },
	};

	return t_project(a, f, N(f));
}

START_TEST(test_project__dag_order_and_lineage)
{
	struct project *p = diamond();
	struct lineage_entry *e;
	int *order;
	size_t n;

	ck_assert_int_eq(dag_topo_order(&order, &n, a, &p->dag, NULL), 0);
	ck_assert_uint_eq(n, 5);
	/* a, b, c, d, e by index = by name: s.a s.b s.c s.d s.e */
	ck_assert_int_eq(order[0], 0);
	ck_assert_int_eq(order[1], 1);
	ck_assert_int_eq(order[2], 2);
	ck_assert_int_eq(order[3], 3);
	ck_assert_int_eq(order[4], 4);
	ck_assert_int_eq(dag_lineage(&e, &n, a, &p->dag, 0, 1, 0), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(e[0].node, 1);
	ck_assert_int_eq(e[0].depth, 1);
	ck_assert_int_eq(e[1].node, 2);
	ck_assert_int_eq(e[2].node, 3);
	ck_assert_int_eq(e[2].depth, 2);
	ck_assert_int_eq(dag_lineage(&e, &n, a, &p->dag, 3, 0, 1), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(e[0].node, 1);
	ck_assert_int_eq(e[1].node, 2);
}
END_TEST

static struct project *cached(struct parse_cache *c, const struct tfile *f,
			      size_t n)
{
	struct project *p;
	size_t i;

	ck_assert_int_eq(project_new(&p, a), 0);
	for (i = 0; i < n; i++) {
		/* the key is the text itself here; git uses the blob id */
		const char *key = f[i].text;
		size_t klen = strlen(key) < 32 ? strlen(key) : 32;

		ck_assert_int_eq(project_add_file_cached(p, c, key, klen,
							 f[i].path, f[i].text,
							 strlen(f[i].text)), 0);
	}
	ck_assert_int_eq(project_finish(p), 0);
	return p;
}

START_TEST(test_project__parse_cache_is_transparent)
{
	static const struct tfile one[] = {
		{ "a.sql", "-- name: s.a\n" FR "SELECT x FROM {{ ref('b') }}" },
		{ "b.sql", "-- name: s.b\n" FR "SELECT 1 AS x -- colour: no\n" },
		{ "c.sql", "-- name: s.c\n" FR "-- colour: red\nSELECT 1" },
	};
	static const struct tfile two[] = {
		{ "moved/a.sql", "-- name: s.a\n" FR
		  "SELECT x FROM {{ ref('b') }}" },
		{ "b.sql", "-- name: t.b\n" FR "SELECT 1 AS x -- colour: no\n" },
		{ "z/c.sql", "-- name: s.c\n" FR "-- colour: red\nSELECT 1" },
	};
	struct parse_cache *c;
	struct project *p1, *p2, *plain;

	ck_assert_int_eq(parse_cache_new(&c, a), 0);
	p1 = cached(c, one, N(one));
	p2 = cached(c, two, N(two));
	plain = t_project(a, two, N(two));
	/* diags replayed under the new path */
	ck_assert_str_eq(t_diags(a, &p1->diags),
			 "c.sql:3: warning: unknown header 'colour' ignored\n");
	ck_assert_str_eq(t_diags(a, &p2->diags),
			 "z/c.sql:3: warning: unknown header 'colour' ignored\n");
	ck_assert_str_eq(p2->models[0]->path, "moved/a.sql");
	/* s.a's ref 'b' now resolves to t.b: the hash must not be reused */
	ck_assert_str_ne(p1->models[0]->content_hash,
			 p2->models[0]->content_hash);
	ck_assert_str_eq(p2->models[0]->content_hash,
			 plain->models[0]->content_hash);
	ck_assert_str_eq(p2->models[1]->content_hash,
			 plain->models[1]->content_hash);
	ck_assert_int_eq(p2->models[0]->refs[0].target, 2);
	ck_assert_int_eq(parse_cache_contains(c, one[0].text, 32), 1);
	ck_assert_int_eq(parse_cache_contains(c, "nope", 4), 0);
}
END_TEST

Suite *suite_project(void)
{
	Suite *s = suite_create("project");
	TCase *tc = tcase_create("project");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_project__refs_resolve_and_report);
	tcase_add_test(tc, test_project__duplicates_and_cycles);
	tcase_add_test(tc, test_project__content_hash_ignores_form);
	tcase_add_test(tc, test_project__dag_order_and_lineage);
	tcase_add_test(tc, test_project__parse_cache_is_transparent);
	suite_add_tcase(s, tc);
	return s;
}
