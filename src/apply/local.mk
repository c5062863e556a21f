# src/apply/local.mk: running an approved plan (locks, transactions, executors, runs)
noinst_LIBRARIES += libilapply.a
libilapply_a_SOURCES = \
	src/apply/apply.h src/apply/apply_int.h src/apply/apply.c \
	src/apply/verify.c src/apply/warehouse.c src/apply/limits.c \
	src/apply/step.c src/apply/preview.c
libilapply_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
IL_APPLY_LIBS = libilapply.a
