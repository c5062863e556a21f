/* main.c: the API test runner (started by run-api-tests.sh with a live stack) */
#include <stdlib.h>

#include <curl/curl.h>

#include "harness.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		suite_foundation,
		suite_auth,
		suite_sessions,
		suite_throttle,
		suite_billing,
		suite_billing_webhook,
		suite_settings,
		suite_augment,
		suite_plans,
		suite_apply,
		suite_plan_sql,
		suite_messages,
		suite_compat,
		suite_security_repo,
		suite_security_net,
		suite_security_wh,
		suite_prepared,
		suite_kept,
		suite_apply_limits,
		suite_apply_recovery,
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
