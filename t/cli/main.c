/* main.c: the CLI's end-to-end tests (run-cli-tests.sh starts the stack they use) */
#include <stdlib.h>

#include <curl/curl.h>

#include "clirun.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		suite_workflow,
		suite_output,
		suite_preview,
		suite_json,
	};
	SRunner *sr = srunner_create(suites[0]());
	size_t i;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
