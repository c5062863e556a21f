/* test_lexer.c: SQL tokens, canonical form, templates */
#include <string.h>

#include "core/lexer.h"
#include "suites.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

static struct arena *a;

static void setup(void)
{
	a = arena_new(0);
}

static void teardown(void)
{
	arena_free(a);
}

/* The tokens of sql as "KIND:text" joined by spaces. */
static const char *tokens(const char *sql)
{
	static const char *const kinds[] = {
		"EOF", "W", "Q", "S", "N", "O", "T",
	};
	struct strbuf sb;
	struct lexer lx;
	struct token t;

	strbuf_init(&sb, a, 4096);
	strbuf_adds(&sb, "");
	lexer_init(&lx, sql, strlen(sql), 1);
	for (;;) {
		ck_assert_int_eq(lexer_next(&lx, &t), 0);
		if (t.kind == TOK_EOF)
			break;
		strbuf_addf(&sb, "%s%s:%.*s", sb.len ? " " : "", kinds[t.kind],
			    (int)t.len, t.p);
	}
	return strbuf_cstr(&sb);
}

static const char *canon(const char *sql)
{
	struct strbuf sb;

	strbuf_init(&sb, a, 1 << 16);
	strbuf_adds(&sb, "");
	ck_assert_int_eq(sql_canonical(&sb, sql, strlen(sql), NULL, NULL), 0);
	return strbuf_cstr(&sb);
}

START_TEST(test_lexer__token_kinds)
{
	ck_assert_str_eq(tokens("SELECT 'it''s', \"Col\"\"x\", `b`, 1.5e3, .5 "
				"-- gone\n/* gone\ntoo */ a<=b::int->>'k' "
				"{{ ref('x') }};"),
			 "W:SELECT S:'it''s' O:, Q:\"Col\"\"x\" O:, Q:`b` O:, "
			 "N:1.5e3 O:, N:.5 W:a O:<= W:b O::: W:int O:->> "
			 "S:'k' T:{{ ref('x') }} O:;");
}
END_TEST

START_TEST(test_lexer__errors_name_the_line)
{
	static const struct {
		const char *sql, *msg;
		unsigned line;
	} cases[] = {
		{ "SELECT\n'abc", "unterminated string literal", 2 },
		{ "SELECT \"x", "unterminated quoted identifier", 1 },
		{ "SELECT 1\n\n/* x", "unterminated /* comment", 3 },
		{ "SELECT {{ ref('a')", "unterminated {{ template", 1 },
		{ "SELECT \x01", "unexpected control character", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lexer lx;
		struct token t;
		int rc;

		lexer_init(&lx, cases[i].sql, strlen(cases[i].sql), 1);
		while ((rc = lexer_next(&lx, &t)) == 0 && t.kind != TOK_EOF)
			;
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(lx.err, cases[i].msg);
		ck_assert_uint_eq(lx.err_line, cases[i].line);
	}
}
END_TEST

START_TEST(test_lexer__canonical_form)
{
	ck_assert_str_eq(canon("select  A.Id ,count( * ) as N -- c\n"
			       "FROM   {{ ref('s.t') }} a /* x */ where "
			       "a.\"Name\" = 'Bob' group by 1;;"),
			 "SELECT a.id, count(*) AS n FROM {{ ref('s.t') }} a "
			 "WHERE a.\"Name\" = 'Bob' GROUP BY 1");
	ck_assert_str_eq(canon("SELECT x IN(1,2), f (y)"),
			 "SELECT x IN (1, 2), f(y)");
	ck_assert_str_eq(canon("{{start_date}}  {{   foo    bar }}"),
			 "{{ start_date }} {{ foo bar }}");
}
END_TEST

START_TEST(test_lexer__cosmetic_edits_are_equal)
{
	const char *x = canon("SELECT a, b FROM t WHERE c = 1");

	ck_assert_str_eq(canon("select a,b\r\nfrom T\twhere c=1 -- note\n;"), x);
	ck_assert_str_eq(canon("/* header */ SELECT\n  a,\n  b\nFROM t\n"
			       "WHERE c   =   1"), x);
	/* literals and quoted identifiers are kept exactly */
	ck_assert_str_ne(canon("SELECT 'A'"), canon("SELECT 'a'"));
	ck_assert_str_ne(canon("SELECT \"A\""), canon("SELECT \"a\""));
	/* a statement separator in the middle is kept */
	ck_assert_str_eq(canon("SELECT 1 ;SELECT 2"), "SELECT 1; SELECT 2");
}
END_TEST

START_TEST(test_lexer__template_classify)
{
	static const struct {
		const char *sql;
		enum template_kind kind;
		const char *name;
	} cases[] = {
		{ "{{ ref('a.b') }}", TEMPLATE_REF, "a.b" },
		{ "{{ref(\"b\")}}", TEMPLATE_REF, "b" },
		{ "{{  ref ( 'x' )  }}", TEMPLATE_REF, "x" },
		{ "{{ ref(x) }}", TEMPLATE_BAD_REF, NULL },
		{ "{{ ref('a', 'b') }}", TEMPLATE_BAD_REF, NULL },
		{ "{{ ref('') }}", TEMPLATE_BAD_REF, NULL },
		{ "{{ start_date }}", TEMPLATE_VAR, NULL },
		{ "{{ end_date }}", TEMPLATE_VAR, NULL },
		{ "{{ refresh }}", TEMPLATE_OTHER, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lexer lx;
		struct token t;
		const char *name = NULL;
		size_t len = 0;

		lexer_init(&lx, cases[i].sql, strlen(cases[i].sql), 1);
		ck_assert_int_eq(lexer_next(&lx, &t), 0);
		ck_assert_int_eq(t.kind, TOK_TEMPLATE);
		ck_assert_int_eq(template_classify(&t, &name, &len),
				 cases[i].kind);
		if (cases[i].name) {
			ck_assert_uint_eq(len, strlen(cases[i].name));
			ck_assert_int_eq(memcmp(name, cases[i].name, len), 0);
		}
	}
}
END_TEST

START_TEST(test_lexer__canonical_respects_max)
{
	struct strbuf sb;

	strbuf_init(&sb, a, 8);
	ck_assert_int_eq(sql_canonical(&sb, "SELECT abcdefgh", 15, NULL, NULL),
			 IL_ETOOBIG);
}
END_TEST

Suite *suite_lexer(void)
{
	Suite *s = suite_create("lexer");
	TCase *tc = tcase_create("lexer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lexer__token_kinds);
	tcase_add_test(tc, test_lexer__errors_name_the_line);
	tcase_add_test(tc, test_lexer__canonical_form);
	tcase_add_test(tc, test_lexer__cosmetic_edits_are_equal);
	tcase_add_test(tc, test_lexer__template_classify);
	tcase_add_test(tc, test_lexer__canonical_respects_max);
	suite_add_tcase(s, tc);
	return s;
}
