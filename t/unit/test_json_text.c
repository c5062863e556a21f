/* test_json_text.c: list pages written as text are the bytes json-c wrote before */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "suites.h"

#include "db/json_text.h"
#include "util/arena.h"
#include "util/strbuf.h"

/* What the API sent before: the text parsed by json-c and written plain. */
static const char *json_c_text(json_object **keep, const char *text)
{
	*keep = json_tokener_parse(text);
	ck_assert_msg(*keep != NULL, "json-c cannot parse %s", text);
	return json_object_to_json_string_ext(*keep, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* jsonb::text as PostgreSQL 15 writes it: blanks after ':' and ','. */
static const char *const jsonb_texts[] = {
	"{}", "[]", "[null]", "[\"a\", \"b\"]",
	"{\"id\": \"3f\", \"tags\": [\"x\", \"y z\"], \"n\": 12, \"cost\": 0.000013}",
	"{\"end\": \"2024-01-02\", \"rows\": 9223372036854775807, \"x\": -1.50, \"y\": 1.0}",
	"{\"s\": \"a, b: c\", \"q\": \"say \\\"hi\\\" \\\\ there\", \"nl\": \"1\\n2\\t3\"}",
	"{\"u\": \"caf\u00e9 \u65e5\u672c\", \"ctl\": \"\\u0001\\u001f\\b\\f\\r\", \"sl\": \"a/b\"}",
	"{\"nested\": {\"a\": [1, {\"b\": null, \"c\": true, \"d\": false}], \"e\": []}}",
	"{\"error\": \"relation \\\"x\\\" does not exist\", \"when\": \"2024-05-01T10:00:00Z\"}",
};

START_TEST(test_json_text__compact_is_json_c_plain)
{
	struct arena *a = arena_new(1 << 16);
	size_t i;

	for (i = 0; i < sizeof(jsonb_texts) / sizeof(jsonb_texts[0]); i++) {
		struct strbuf sb;
		json_object *o;

		strbuf_init(&sb, a, 1 << 20);
		db_json_compact(&sb, jsonb_texts[i]);
		ck_assert_str_eq(strbuf_cstr(&sb), json_c_text(&o, jsonb_texts[i]));
		json_object_put(o);
	}
	arena_free(a);
}
END_TEST

/* Every byte but NUL, alone and inside text: escaped as json-c escapes it. */
START_TEST(test_json_text__string_is_escaped_as_json_c_does)
{
	struct arena *a = arena_new(1 << 16);
	int c;

	for (c = 1; c < 256; c++) {
		char s[8];
		struct strbuf sb;
		json_object *o;

		snprintf(s, sizeof(s), "a%cb", c);
		strbuf_init(&sb, a, 1 << 10);
		db_json_string(&sb, s);
		o = json_object_new_string(s);
		ck_assert_str_eq(strbuf_cstr(&sb),
				 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	{
		struct strbuf sb;

		strbuf_init(&sb, a, 64);
		db_json_string(&sb, NULL);
		db_json_string(&sb, "");
		ck_assert_str_eq(strbuf_cstr(&sb), "null\"\"");
	}
	arena_free(a);
}
END_TEST

Suite *suite_json_text(void)
{
	Suite *s = suite_create("json_text");
	TCase *tc = tcase_create("json_text");

	tcase_add_test(tc, test_json_text__compact_is_json_c_plain);
	tcase_add_test(tc, test_json_text__string_is_escaped_as_json_c_does);
	suite_add_tcase(s, tc);
	return s;
}
