/* main.c: runs the unit test suites of util/, db/ and http/ */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		suite_arena, suite_strbuf, suite_parse, suite_config, suite_secret,
		suite_sqlsplit, suite_query, suite_router, suite_body, suite_netguard,
		suite_pg_connect, suite_httpc, suite_json_text, suite_token,
	};
	SRunner *sr = srunner_create(suites[0]());
	size_t i;
	int failed;

	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
