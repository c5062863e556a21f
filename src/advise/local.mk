# src/advise/local.mk: plan advisory heuristics and the LLM client
noinst_LIBRARIES += libiladvise.a
libiladvise_a_SOURCES = \
	src/advise/advise.h src/advise/heuristics.c src/advise/lint.c \
	src/advise/tokens.c src/advise/tokens.h src/advise/linediff.c \
	src/advise/redact.c src/advise/prompt.c src/advise/reference.c \
	src/advise/llm.c src/advise/llm.h \
	src/advise/augment.c src/advise/augment.h
libiladvise_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
IL_ADVISE_LIBS = libiladvise.a
