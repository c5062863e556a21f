# t/local.mk: unit tests of util/, db/, http/ and exec/'s outbound checks
check_PROGRAMS += t/unit_base
TESTS += t/unit_base
t_unit_base_SOURCES = t/unit/main.c t/unit/suites.h t/unit/test_util.c t/unit/test_http.c \
	t/unit/test_netguard.c t/unit/test_pg_connect.c t/unit/test_httpc.c t/unit/test_json_text.c \
	t/unit/test_token.c
t_unit_base_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(CRYPTO_CFLAGS)
t_unit_base_LDADD = $(IL_HTTP_LIBS) $(IL_EXEC_LIBS) $(IL_DB_LIBS) $(IL_CORE_LIBS) $(IL_UTIL_LIBS) $(CHECK_LIBS)
