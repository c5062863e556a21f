noinst_LIBRARIES += libilhttp.a
libilhttp_a_SOURCES = \
	src/http/req.c src/http/req.h \
	src/http/query.c src/http/query.h \
	src/http/router.c src/http/router.h \
	src/http/slots.c src/http/slots.h \
	src/http/body.c src/http/body.h \
	src/http/server.c src/http/server.h \
	src/http/token.c src/http/token.h \
	src/http/respcache.c src/http/respcache.h \
	src/http/csrf.c src/http/csrf.h \
	src/http/cors.c src/http/cors.h \
	src/http/password.c src/http/password.h
libilhttp_a_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(JWT_CFLAGS) $(ARGON2_CFLAGS)
IL_HTTP_LIBS = libilhttp.a $(FCGI_LIBS) $(JSONC_LIBS) $(JWT_LIBS) $(ARGON2_LIBS)
