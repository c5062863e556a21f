# t/cli/local.mk: the CLI end to end, against a live stack (run-cli-tests.sh)
check_PROGRAMS += t/cli_tests
TESTS += t/cli/run-cli-tests.sh
EXTRA_DIST += t/cli/run-cli-tests.sh
t_cli_tests_SOURCES = t/cli/main.c t/cli/clirun.c t/cli/clirun.h t/cli/test_workflow.c \
	t/cli/test_output.c t/cli/test_preview.c t/cli/test_json.c t/api/harness.c t/api/harness.h
t_cli_tests_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) $(JWT_CFLAGS)
t_cli_tests_LDADD = -lutil -lpthread $(CHECK_LIBS) $(JSONC_LIBS) $(CURL_LIBS) $(JWT_LIBS)
