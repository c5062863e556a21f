# src/core/local.mk: the pure planner library (no I/O): parser, lexer, DAG, diff, plan
noinst_LIBRARIES += libilcore.a
libilcore_a_SOURCES = \
	src/core/diag.c src/core/diag.h \
	src/core/lexer.c src/core/lexer.h \
	src/core/canonical.c \
	src/core/header.c src/core/header.h \
	src/core/model.c src/core/model.h src/core/model_int.h \
	src/core/model_body.c \
	src/core/hash.c src/core/hash.h \
	src/core/dag.c src/core/dag.h \
	src/core/dot.c src/core/dot.h \
	src/core/project.c src/core/project.h \
	src/core/cache.c src/core/cache_int.h src/core/cache_entry.c \
	src/core/diff.c src/core/diff.h \
	src/core/date.c src/core/date.h \
	src/core/plan.c src/core/plan.h src/core/plan_int.h \
	src/core/plan_json.c \
	src/core/columns.c src/core/columns.h \
	src/core/contract.c \
	src/core/plan_state.c
libilcore_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
IL_CORE_LIBS = libilcore.a $(JSONC_LIBS)
