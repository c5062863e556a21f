/* test_model.c: model file headers, bodies and their exact messages */
#include <stdio.h>
#include <string.h>

#include "core/columns.h"
#include "core/diag.h"
#include "core/model.h"
#include "suites.h"
#include "util/arena.h"
#include "util/limits.h"

static struct arena *a;
static struct diag_list dl;

static void setup(void)
{
	a = arena_new(0);
	diag_list_init(&dl, a);
}

static void teardown(void)
{
	arena_free(a);
}

static struct model *parse(const char *text)
{
	struct model *m;

	ck_assert_int_eq(model_parse(&m, a, "m.sql", text, strlen(text), &dl),
			 0);
	return m;
}

/* The diags one file gives, as text. */
static const char *problems(const char *text)
{
	diag_list_init(&dl, a);
	parse(text);
	diag_list_sort(&dl);
	return t_diags(a, &dl);
}

START_TEST(test_model__header_fields_and_defaults)
{
	struct model *m = parse(
		"\n-- a plain comment\n--\n--Name: s.orders\n"
		"--   kind:   INCREMENTAL_BY_TIME_RANGE  \n"
		"-- time_column: day\n-- tags: z, a, ,a\n"
		"-- owner: team\n-- lookback_days: 7\n"
		"-- tests: unique(id)@warn, accepted_values(st: b | a), "
		"not_null(id)\n"
		"-- contract_columns: id:int:not_null, amt:decimal(10,2)\n"
		"SELECT id\n-- body comment\nFROM t\n");

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(t_diags(a, &dl), "");
	ck_assert_str_eq(m->name, "s.orders");
	ck_assert_int_eq(m->kind, KIND_INCREMENTAL_BY_TIME_RANGE);
	ck_assert_int_eq(m->materialization, MAT_TABLE);
	ck_assert_int_eq(m->contract_mode, CONTRACT_DISABLED);
	ck_assert_str_eq(m->time_column, "day");
	ck_assert_str_eq(m->owner, "team");
	ck_assert_int_eq(m->lookback_days, 7);
	ck_assert_uint_eq(m->tags.n, 2);
	ck_assert_str_eq(m->tags.items[0], "a");
	ck_assert_str_eq(m->tags.items[1], "z");
	ck_assert_uint_eq(m->tests.n, 3);
	ck_assert_str_eq(m->tests.items[0], "accepted_values(st:a|b)@BLOCK");
	ck_assert_str_eq(m->tests.items[1], "not_null(id)@BLOCK");
	ck_assert_str_eq(m->tests.items[2], "unique(id)@WARN");
	ck_assert_uint_eq(m->contract_columns.n, 2);
	ck_assert_str_eq(m->contract_columns.items[0], "id:INT:NOT_NULL");
	ck_assert_str_eq(m->contract_columns.items[1], "amt:DECIMAL(10,2)");
	ck_assert_uint_eq(m->body_line, 12);
	ck_assert_int_eq(strncmp(m->body, "SELECT id\n", 10), 0);
}
END_TEST

START_TEST(test_model__refs_and_dependencies)
{
	struct model *m = parse("-- name: s.a\n-- kind: FULL_REFRESH\n"
				"-- dependencies: s.x, s.y\n"
				"SELECT * FROM {{ ref('s.b') }}\n"
				"JOIN {{ref(\"c\")}} USING (id)\n");

	ck_assert_uint_eq(m->n_refs, 4);
	ck_assert_str_eq(m->refs[0].name, "s.b");
	ck_assert_uint_eq(m->refs[0].line, 4);
	ck_assert_str_eq(m->refs[1].name, "c");
	ck_assert_uint_eq(m->refs[1].line, 5);
	ck_assert_str_eq(m->refs[2].name, "s.x");
	ck_assert_int_eq(m->refs[2].from_header, 1);
	ck_assert_uint_eq(m->refs[3].line, 3);
}
END_TEST

START_TEST(test_model__header_errors)
{
	ck_assert_str_eq(problems("SELECT 1"),
		"m.sql:1: error: missing required header 'kind'\n"
		"m.sql:1: error: missing required header 'name'\n");
	ck_assert_str_eq(problems("-- name:\n-- kind: full_refresh\nSELECT 1"),
		"m.sql:1: error: header 'name' is empty\n"
		"m.sql:2: error: unknown kind 'full_refresh': expected "
		"FULL_REFRESH, INCREMENTAL_BY_TIME_RANGE, APPEND_ONLY or "
		"MERGE_BY_KEY\n");
	ck_assert_str_eq(problems("-- name: Orders\n-- kind: MERGE_BY_KEY\n"
				  "-- materialization: TABLES\n"
				  "-- kind: FULL_REFRESH\n-- colour: red\n"
				  "SELECT 1"),
		"m.sql:1: error: invalid model name 'Orders': expected "
		"schema.name in lower case (letters, digits, _)\n"
		"m.sql:2: error: kind MERGE_BY_KEY requires a unique_key "
		"header\n"
		"m.sql:3: error: unknown materialization 'TABLES': expected "
		"TABLE, VIEW, INSERT_OVERWRITE or MERGE\n"
		"m.sql:4: error: duplicate header 'kind' (first set at line 2)\n"
		"m.sql:5: warning: unknown header 'colour' ignored\n");
	ck_assert_str_eq(problems("-- name: s.a\n-- kind: "
				  "INCREMENTAL_BY_TIME_RANGE\n"
				  "-- contract_mode: maybe\n"
				  "-- lookback_days: 0\nSELECT 1"),
		"m.sql:2: error: kind INCREMENTAL_BY_TIME_RANGE requires a "
		"time_column header\n"
		"m.sql:3: error: invalid contract_mode 'maybe': expected "
		"DISABLED, WARN or STRICT\n"
		"m.sql:4: error: invalid lookback_days '0': expected a whole "
		"number of days from 1 to 3650\n");
}
END_TEST

START_TEST(test_model__header_typos_are_named)
{
	/* a near miss names the key meant; a key without its colon says how to write it */
	ck_assert_str_eq(problems("-- name: s.a\n-- kind: FULL_REFRESH\n"
				  "-- materialisation: VIEW\n-- owner data-platform\n"
				  "-- Tags core, sla\n-- name of this model: see the wiki\n"
				  "-- owner is the finance team\nSELECT 1"),
		"m.sql:3: warning: unknown header 'materialisation' ignored (did you mean "
		"'materialization'?)\n"
		"m.sql:4: warning: 'owner' has no colon, so it is a comment: write "
		"'-- owner: data-platform' to set the header\n"
		"m.sql:5: warning: 'tags' has no colon, so it is a comment: write "
		"'-- tags: core, sla' to set the header\n");
}
END_TEST

START_TEST(test_model__list_header_errors)
{
	ck_assert_str_eq(problems("-- name: s.a\n-- kind: FULL_REFRESH\n"
				  "-- tests: not_null(a)@LOUD\nSELECT 1"),
		"m.sql:3: error: invalid test severity 'LOUD' in "
		"'not_null(a)@LOUD': expected BLOCK or WARN\n");
	ck_assert_str_eq(problems("-- name: s.a\n-- kind: FULL_REFRESH\n"
				  "-- tests: row_count_min(many)\nSELECT 1"),
		"m.sql:3: error: test 'row_count_min' needs a whole number, "
		"got 'many'\n");
	ck_assert_str_eq(problems("-- name: s.a\n-- kind: FULL_REFRESH\n"
				  "-- tests: fresh(a)\nSELECT 1"),
		"m.sql:3: error: unknown test type 'fresh': expected "
		"accepted_values, custom_sql, not_null, row_count_max, "
		"row_count_min or unique\n");
	ck_assert_str_eq(problems("-- name: s.a\n-- kind: FULL_REFRESH\n"
				  "-- contract_columns: id\nSELECT 1"),
		"m.sql:3: error: invalid contract column 'id': expected "
		"name:TYPE or name:TYPE:NOT_NULL\n");
}
END_TEST

START_TEST(test_model__body_errors)
{
	const char *hdr = "-- name: s.a\n-- kind: FULL_REFRESH\n";
	char buf[512];

	snprintf(buf, sizeof(buf), "%sSELECT 1;\n\nDELETE FROM t", hdr);
	ck_assert_str_eq(problems(buf), "m.sql:5: error: only one statement is "
			 "allowed: a second statement starts at 'DELETE'\n");
	snprintf(buf, sizeof(buf), "%screate table x as select 1", hdr);
	ck_assert_str_eq(problems(buf), "m.sql:3: error: body must be one "
			 "SELECT or WITH query, found 'create'\n");
	snprintf(buf, sizeof(buf), "%sWITH d AS (DELETE FROM t RETURNING *)\n"
		 "SELECT * FROM d", hdr);
	ck_assert_str_eq(problems(buf), "m.sql:3: error: 'DELETE' is not "
			 "allowed in a model body: it must be one query\n"
			 "m.sql:4: warning: SELECT * makes the model's columns "
			 "depend on its upstream; list the columns\n");
	snprintf(buf, sizeof(buf), "%sSELECT a INTO b FROM c", hdr);
	ck_assert_str_eq(problems(buf), "m.sql:3: error: SELECT ... 'INTO' is "
			 "not allowed: the body must be one query that creates "
			 "nothing\n");
	snprintf(buf, sizeof(buf), "%s-- only comments\n\n", hdr);
	ck_assert_str_eq(problems(buf), "m.sql:5: error: empty body: expected "
			 "a SELECT or WITH query\n");
	snprintf(buf, sizeof(buf), "%s((SELECT 1)) UNION (SELECT {{ ref(x) }})"
		 " CROSS JOIN y {{ run_id }}", hdr);
	ck_assert_str_eq(problems(buf), "m.sql:3: error: malformed ref "
			 "'{{ ref(x) }}': expected {{ ref('schema.name') }}\n"
			 "m.sql:3: warning: CROSS JOIN multiplies rows; check it "
			 "is intended\n"
			 "m.sql:3: warning: unknown template '{{ run_id }}' is "
			 "kept as written\n");
	snprintf(buf, sizeof(buf), "%sSELECT 'x", hdr);
	ck_assert_str_eq(problems(buf), "m.sql:3: error: unterminated string "
			 "literal\n");
}
END_TEST

START_TEST(test_model__file_errors)
{
	static char big[IL_MAX_SQL_FILE + 2];
	struct model *m;

	ck_assert_str_eq(problems("-- name: s.a\n-- kind: FULL_REFRESH\n"
				  "SELECT 'caf\xe9'"),
		"m.sql:3: error: file is not valid UTF-8 (byte 46)\n");
	diag_list_init(&dl, a);
	model_parse(&m, a, "m.sql", "-- name: s.a\0x", 14, &dl);
	ck_assert_str_eq(t_diags(a, &dl),
			 "m.sql:1: error: file is not valid UTF-8 (byte 12)\n");
	memset(big, ' ', sizeof(big) - 1);
	ck_assert_str_eq(problems(big), "m.sql:0: error: file is 1048577 bytes, "
			 "over the limit of 1048576 bytes\n");
}
END_TEST

/* A UTF-8 byte-order mark before the header is skipped, and only there. */
START_TEST(test_model__byte_order_mark)
{
	struct model *m = parse("\xef\xbb\xbf-- name: s.a\n-- kind: FULL_REFRESH\n"
				"SELECT 1 AS x\n");

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(t_diags(a, &dl), "");
	ck_assert_str_eq(m->name, "s.a");
	ck_assert_int_eq(m->kind, KIND_FULL_REFRESH);
	ck_assert_uint_eq(m->body_line, 3);
	ck_assert_int_eq(strncmp(m->body, "SELECT 1 AS x\n", m->body_len), 0);
	ck_assert_uint_eq(m->text_len, 52);
	/* a second mark is text: the header line it starts is not a comment */
	ck_assert_str_eq(problems("\xef\xbb\xbf\xef\xbb\xbf-- name: s.a\n"
				  "-- kind: FULL_REFRESH\nSELECT 1\n"),
		"m.sql:1: error: body must be one SELECT or WITH query, found "
		"'\xef\xbb\xbf'\n"
		"m.sql:1: error: missing required header 'kind'\n"
		"m.sql:1: error: missing required header 'name'\n");
	ck_assert_str_eq(problems("\xef\xbb\xbf"),
		"m.sql:1: error: empty body: expected a SELECT or WITH query\n"
		"m.sql:1: error: missing required header 'kind'\n"
		"m.sql:1: error: missing required header 'name'\n");
}
END_TEST

START_TEST(test_model__utf8_and_names)
{
	ck_assert_uint_eq(utf8_invalid_offset("a\xc3\xa9\xe2\x86\x92", 6), 6);
	ck_assert_uint_eq(utf8_invalid_offset("a\xc0\x80", 3), 1);
	ck_assert_uint_eq(utf8_invalid_offset("\xed\xa0\x80", 3), 0);
	ck_assert_uint_eq(utf8_invalid_offset("ab\xe2\x86", 4), 2);
	ck_assert_int_eq(model_name_valid("a_1.b_2"), 1);
	ck_assert_int_eq(model_name_valid("a.b.c"), 0);
	ck_assert_int_eq(model_name_valid("ab"), 0);
	ck_assert_int_eq(model_name_valid("1a.b"), 0);
	ck_assert_int_eq(model_name_valid("a.1b"), 0);
	ck_assert_int_eq(model_name_valid(".b"), 0);
	ck_assert_int_eq(model_name_valid("A.b"), 0);
}
END_TEST

/* Output columns of a body as "a,b,c", or "?" plus them when not known. */
static const char *columns(const char *body)
{
	char text[1024];
	struct str_list cols;
	struct model *m;
	int known;
	size_t i;
	char *res;

	snprintf(text, sizeof(text), "-- name: s.a\n-- kind: FULL_REFRESH\n%s",
		 body);
	m = parse(arena_strdup(a, text));
	ck_assert_int_eq(model_output_columns(&cols, &known, a, m), 0);
	res = arena_strdup(a, known ? "" : "?");
	for (i = 0; i < cols.n; i++)
		res = arena_printf(a, "%s%s%s", res, i ? "," : "",
				   cols.items[i]);
	return res;
}

START_TEST(test_model__output_columns)
{
	ck_assert_str_eq(columns("SELECT a, t.B, count(*) AS n, sum(x) total,"
				 " \"Mixed Case\", 'k' AS kind FROM t"),
			 "a,b,n,total,Mixed Case,kind");
	ck_assert_str_eq(columns("WITH c AS (SELECT z FROM t)\n"
				 "SELECT DISTINCT c.z AS y FROM c"), "y");
	ck_assert_str_eq(columns("(SELECT a FROM t) UNION (SELECT b FROM u)"),
			 "a");
	ck_assert_str_eq(columns("SELECT a, * FROM t"), "?a");
	ck_assert_str_eq(columns("SELECT t.* FROM t"), "?");
	ck_assert_str_eq(columns("SELECT a + 1, b FROM t"), "?b");
	ck_assert_str_eq(columns("SELECT CASE WHEN a THEN 1 END AS c, "
				 "CAST(d AS int) FROM t"), "?c");
}
END_TEST

Suite *suite_model(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_model__header_fields_and_defaults);
	tcase_add_test(tc, test_model__refs_and_dependencies);
	tcase_add_test(tc, test_model__header_errors);
	tcase_add_test(tc, test_model__header_typos_are_named);
	tcase_add_test(tc, test_model__list_header_errors);
	tcase_add_test(tc, test_model__body_errors);
	tcase_add_test(tc, test_model__file_errors);
	tcase_add_test(tc, test_model__utf8_and_names);
	tcase_add_test(tc, test_model__byte_order_mark);
	tcase_add_test(tc, test_model__output_columns);
	suite_add_tcase(s, tc);
	return s;
}
