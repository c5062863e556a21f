# t/core/local.mk: unit tests of src/core and src/repo (fixture repos built by a script)
check_PROGRAMS += t/unit_core
TESTS += t/unit_core
t_unit_core_SOURCES = t/core/main.c t/core/suites.h t/core/test_lexer.c \
	t/core/test_model.c t/core/test_project.c t/core/test_plan.c \
	t/core/test_cache.c t/core/test_repo.c
t_unit_core_CPPFLAGS = $(AM_CPPFLAGS) -DIL_TOP_SRCDIR='"$(abs_top_srcdir)"' \
	-DIL_TOP_BUILDDIR='"$(abs_top_builddir)"'
t_unit_core_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(GIT2_CFLAGS)
t_unit_core_LDADD = $(IL_REPO_LIBS) $(IL_CORE_LIBS) $(IL_UTIL_LIBS) $(CHECK_LIBS)
EXTRA_DIST += t/fixtures/make-repos.sh t/core/golden t/core/core-is-pure.sh
# src/core does no I/O: checked on the library's undefined symbols
TESTS += t/core/core-is-pure.sh

# make fuzz: libFuzzer builds (clang), not part of all/check: fuzz_model (the
# header parser and the lexer) and fuzz_cache (what reads a parse cache back:
# the file image, its entries, tree listings). FUZZ_TIME is the whole run's
# budget, shared with the targets of fuzz/local.mk: each of these two gets a
# sixth (FUZZ_FLAGS is fuzz/local.mk's).
FUZZ_CC = clang
FUZZ_TIME = 20
fuzz_core_srcs = \
	$(srcdir)/src/core/diag.c $(srcdir)/src/core/lexer.c \
	$(srcdir)/src/core/canonical.c $(srcdir)/src/core/header.c \
	$(srcdir)/src/core/model.c $(srcdir)/src/core/model_body.c \
	$(srcdir)/src/core/hash.c $(srcdir)/src/core/dag.c \
	$(srcdir)/src/core/project.c $(srcdir)/src/core/cache.c \
	$(srcdir)/src/core/cache_entry.c $(srcdir)/src/core/columns.c \
	$(srcdir)/src/util/arena.c $(srcdir)/src/util/strbuf.c \
	$(srcdir)/src/util/parse.c $(srcdir)/src/util/crypto.c
fuzz_cache_srcs = $(srcdir)/fuzz/fuzz_cache.c $(srcdir)/src/repo/store.c \
	$(srcdir)/src/repo/listing.c
EXTRA_DIST += fuzz/fuzz_model.c fuzz/fuzz_cache.c fuzz/seeds
CLEANFILES += fuzz/fuzz_model fuzz/fuzz_cache
fuzz/fuzz_model: $(srcdir)/fuzz/fuzz_model.c $(fuzz_core_srcs)
	@mkdir -p fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -pthread $(CRYPTO_CFLAGS) -o $@ \
		$(srcdir)/fuzz/fuzz_model.c $(fuzz_core_srcs) $(CRYPTO_LIBS)
fuzz/fuzz_cache: $(fuzz_cache_srcs) $(fuzz_core_srcs)
	@mkdir -p fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -pthread $(CRYPTO_CFLAGS) $(GIT2_CFLAGS) \
		-o $@ $(fuzz_cache_srcs) $(fuzz_core_srcs) $(CRYPTO_LIBS)
fuzz_sixth = $$(( $(FUZZ_TIME) / 6 > 0 ? $(FUZZ_TIME) / 6 : 1 ))
fuzz: fuzz/fuzz_model fuzz/fuzz_cache
	@mkdir -p fuzz/corpus fuzz/corpus-cache
	./fuzz/fuzz_model -max_total_time=$(fuzz_sixth) -max_len=8192 \
		fuzz/corpus $(srcdir)/fuzz/seeds
	./fuzz/fuzz_cache -max_total_time=$(fuzz_sixth) -max_len=8192 \
		fuzz/corpus-cache $(srcdir)/fuzz/seeds
.PHONY: fuzz
