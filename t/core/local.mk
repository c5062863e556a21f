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

# make fuzz: a libFuzzer build (clang) of the header parser and the lexer,
# run briefly; not part of all/check. FUZZ_TIME=N runs it longer; the targets
# of fuzz/local.mk share the same budget (this one gets a third of it).
FUZZ_CC = clang
FUZZ_TIME = 20
fuzz_srcs = $(srcdir)/fuzz/fuzz_model.c \
	$(srcdir)/src/core/diag.c $(srcdir)/src/core/lexer.c \
	$(srcdir)/src/core/canonical.c $(srcdir)/src/core/header.c \
	$(srcdir)/src/core/model.c $(srcdir)/src/core/body.c \
	$(srcdir)/src/core/hash.c $(srcdir)/src/core/dag.c \
	$(srcdir)/src/core/project.c $(srcdir)/src/core/cache.c \
	$(srcdir)/src/core/columns.c \
	$(srcdir)/src/util/arena.c $(srcdir)/src/util/strbuf.c \
	$(srcdir)/src/util/parse.c $(srcdir)/src/util/crypto.c
EXTRA_DIST += fuzz/fuzz_model.c fuzz/seeds
CLEANFILES += fuzz/fuzz_model
fuzz/fuzz_model: $(fuzz_srcs)
	@mkdir -p fuzz
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I$(top_srcdir)/src -I$(top_builddir) $(CRYPTO_CFLAGS) \
		-o $@ $(fuzz_srcs) $(CRYPTO_LIBS)
fuzz: fuzz/fuzz_model
	@mkdir -p fuzz/corpus
	./fuzz/fuzz_model -max_total_time=$$(( $(FUZZ_TIME) / 3 > 0 ? $(FUZZ_TIME) / 3 : 1 )) -max_len=8192 \
		fuzz/corpus $(srcdir)/fuzz/seeds
.PHONY: fuzz
