noinst_LIBRARIES += libilutil.a
libilutil_a_SOURCES = \
	src/util/arena.c src/util/arena.h \
	src/util/strbuf.c src/util/strbuf.h \
	src/util/log.c src/util/log.h \
	src/util/config.c src/util/config.h \
	src/util/parse.c src/util/parse.h \
	src/util/crypto.c src/util/crypto.h \
	src/util/secret.c src/util/secret.h \
	src/util/ipmatch.c src/util/ipmatch.h \
	src/util/httpc.c src/util/httpc.h \
	src/util/json.c src/util/json.h \
	src/util/keyhash.h src/util/limits.h src/util/error.h
libilutil_a_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)
IL_UTIL_LIBS = libilutil.a $(CRYPTO_LIBS) $(CURL_LIBS) $(JSONC_LIBS)
