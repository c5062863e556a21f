# t/advise/local.mk: unit tests of src/advise (no database, no network)
check_PROGRAMS += t/unit_advise
TESTS += t/unit_advise
t_unit_advise_SOURCES = t/advise/test_advise.c
t_unit_advise_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS)
t_unit_advise_LDADD = $(IL_ADVISE_LIBS) $(IL_CORE_LIBS) $(IL_UTIL_LIBS) $(JSONC_LIBS) $(CHECK_LIBS)
