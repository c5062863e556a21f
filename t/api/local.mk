# t/api/local.mk: API tests against a live stack (lighttpd + FastCGI pool + PostgreSQL)
check_PROGRAMS += t/api_tests
TESTS += t/api/run-api-tests.sh
EXTRA_DIST += t/api/run-api-tests.sh t/stack-harness.sh t/fakes/fake_stripe.py \
	t/fakes/fake_llm.py t/fixtures/make-api-repo.sh t/fixtures/make-test-tls.sh \
	t/api/lsan-cli.supp
t_api_tests_SOURCES = t/api/main.c t/api/harness.c t/api/harness.h \
	t/api/test_foundation.c t/api/test_auth.c \
	t/api/test_sessions.c t/api/test_throttle.c t/api/session_util.c t/api/session_util.h \
	t/api/test_billing.c t/api/test_billing_webhook.c \
	t/api/billing_util.c t/api/billing_util.h \
	t/api/test_settings.c t/api/test_augment.c \
	t/api/test_plans.c t/api/test_apply.c t/api/test_plan_sql.c t/api/test_messages.c \
	t/api/test_compat.c t/api/test_security_net.c t/api/test_security_wh.c \
	t/api/test_security_repo.c t/api/test_prepared.c t/api/test_kept.c \
	t/api/apply_util.c t/api/apply_util.h \
	t/api/test_apply_limits.c t/api/test_apply_recovery.c
t_api_tests_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) $(JWT_CFLAGS) \
	$(CRYPTO_CFLAGS) $(PQ_CFLAGS)
# the binding test drives the workers' database layer itself (test_prepared.c)
t_api_tests_LDADD = libildb.a libilutil.a -lpthread $(CHECK_LIBS) $(JSONC_LIBS) $(CURL_LIBS) $(JWT_LIBS) $(CRYPTO_LIBS) \
	$(PQ_LIBS)

# serial-tests reads TESTS_ENVIRONMENT (AM_TESTS_ENVIRONMENT is the parallel harness')
if IL_SANITIZERS
TESTS_ENVIRONMENT = IL_TEST_SANITIZERS=1; export IL_TEST_SANITIZERS;
endif

# `make check-valgrind`: the API suite with every worker under valgrind
# (slow: Argon2 and the 1,000-request test dominate); fails on any error or
# definite leak in a worker.
check-valgrind: all t/api_tests$(EXEEXT)
	IL_TEST_VALGRIND=1 $(srcdir)/t/api/run-api-tests.sh
.PHONY: check-valgrind
