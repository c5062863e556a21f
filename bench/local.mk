# bench/local.mk: `make bench` runs bench/plan (generated repos: 1k/10k/50k models
# in layers, a 50k chain; each cold and warm)
EXTRA_PROGRAMS = bench/plan
CLEANFILES += bench/plan
bench_plan_SOURCES = bench/plan.c
bench_plan_LDADD = $(IL_UTIL_LIBS)
BENCH_DIR = /tmp/ironlayer-bench
BENCH_SIZES = 1000 10000 50000 chain:50000
# BENCH_BASELINE=/path/to/another/ironlayer runs it beside this one;
# BENCH_RUNS counted rounds (after one warm-up round)
BENCH_BASELINE =
BENCH_RUNS = 5
bench: bench/plan$(EXEEXT) ironlayer$(EXEEXT)
	./bench/plan --ironlayer ./ironlayer --dir $(BENCH_DIR) --runs $(BENCH_RUNS) \
		$(if $(BENCH_BASELINE),--baseline $(BENCH_BASELINE)) $(BENCH_SIZES)
.PHONY: bench

# `make bench-api`: requests/s of the running stack per endpoint (needs wrk)
EXTRA_DIST += bench/api.sh bench/lists-explain.sql
bench-api: all
	$(srcdir)/bench/api.sh
.PHONY: bench-api

# `make bench-apply`: GET /health and /plans with and without two tenants
# applying sleeping models (needs wrk); the table of docs/performance.md
EXTRA_DIST += bench/apply-load.sh
bench-apply: all
	$(srcdir)/bench/apply-load.sh
.PHONY: bench-apply
