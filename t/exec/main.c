/* main.c: runs the executor test suites (run-exec-tests.sh starts the fakes they need) */
#include <stdlib.h>

#include <curl/curl.h>

#include "suites.h"
#include "util/log.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		suite_databricks,
		suite_pg_provision,
	};
	SRunner *sr;
	size_t i;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* the retries and give-ups these tests cause on purpose log warnings; an
	 * expected warning in the test output reads like a failure */
	log_set_level(IL_LOG_ERROR);
	sr = srunner_create(suites[0]());
	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
