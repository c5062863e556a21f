noinst_LIBRARIES += libilapi.a
libilapi_a_SOURCES = \
	src/api/api.h src/api/routes.c \
	src/api/health.c \
	src/api/auth.c
libilapi_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
IL_API_LIBS = libilapi.a
