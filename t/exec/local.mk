# t/exec/local.mk: executor tests (Databricks against a local fake of its API)
check_PROGRAMS += t/unit_exec
TESTS += t/exec/run-exec-tests.sh
EXTRA_DIST += t/exec/run-exec-tests.sh t/fakes/fake_databricks.py t/fixtures/make-test-tls.sh
t_unit_exec_SOURCES = t/exec/main.c t/exec/suites.h t/exec/test_databricks.c \
	t/exec/test_pg_provision.c
t_unit_exec_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) $(PQ_CFLAGS)
t_unit_exec_LDADD = $(IL_EXEC_LIBS) $(IL_CORE_LIBS) $(IL_UTIL_LIBS) $(CHECK_LIBS) $(JSONC_LIBS) \
	$(CURL_LIBS) $(PQ_LIBS)
