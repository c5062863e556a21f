# t/core/local.mk: unit tests of src/core and src/repo (fixture repos built by a script)
check_PROGRAMS += t/unit_core
TESTS += t/unit_core
t_unit_core_SOURCES = t/core/main.c t/core/suites.h t/core/test_lexer.c \
	t/core/test_model.c t/core/test_project.c t/core/test_plan.c \
	t/core/test_repo.c
t_unit_core_CPPFLAGS = $(AM_CPPFLAGS) -DIL_TOP_SRCDIR='"$(abs_top_srcdir)"' \
	-DIL_TOP_BUILDDIR='"$(abs_top_builddir)"'
t_unit_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(GIT2_CFLAGS)
t_unit_core_LDADD = $(IL_REPO_LIBS) $(IL_CORE_LIBS) $(IL_UTIL_LIBS) $(CHECK_LIBS)
EXTRA_DIST += t/fixtures/make-repos.sh t/core/golden
