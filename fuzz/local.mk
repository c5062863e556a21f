# fuzz/local.mk: libFuzzer targets (clang) of the parsers that read client input:
# the query string, the route matcher, the JSON body reader and the Stripe-Signature
# header. Built and run by `make fuzz` (t/core/local.mk holds the model and cache
# targets), not by all/check. FUZZ_TIME is the whole run's budget in seconds, shared out by weight.
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I$(top_srcdir)/src -I$(top_builddir)
fuzz_req_srcs = $(srcdir)/src/http/req.c $(srcdir)/src/http/query.c \
	$(srcdir)/src/util/json.c $(srcdir)/src/util/arena.c \
	$(srcdir)/src/util/strbuf.c $(srcdir)/src/util/parse.c \
	$(srcdir)/src/util/ipmatch.c $(srcdir)/src/util/crypto.c
fuzz_dispatch_srcs = $(fuzz_req_srcs) $(srcdir)/src/http/router.c \
	$(srcdir)/src/http/body.c $(srcdir)/src/http/cors.c $(srcdir)/src/http/csrf.c \
	$(srcdir)/src/http/slots.c $(srcdir)/src/http/respcache.c \
	$(srcdir)/src/db/db.c $(srcdir)/src/db/pipeline.c $(srcdir)/src/util/log.c
fuzz_query_srcs = $(srcdir)/fuzz/fuzz_query.c $(fuzz_req_srcs) $(srcdir)/src/http/body.c
fuzz_router_srcs = $(srcdir)/fuzz/fuzz_router.c $(fuzz_dispatch_srcs)
fuzz_body_srcs = $(srcdir)/fuzz/fuzz_body.c $(fuzz_dispatch_srcs)
fuzz_signature_srcs = $(srcdir)/fuzz/fuzz_signature.c $(srcdir)/src/billing/signature.c \
	$(srcdir)/src/util/arena.c $(srcdir)/src/util/strbuf.c \
	$(srcdir)/src/util/parse.c $(srcdir)/src/util/crypto.c
fuzz_http_cflags = $(JSONC_CFLAGS) $(PQ_CFLAGS) $(CRYPTO_CFLAGS)
fuzz_http_libs = $(JSONC_LIBS) $(PQ_LIBS) $(CRYPTO_LIBS)
fuzz_more = fuzz/fuzz_query fuzz/fuzz_router fuzz/fuzz_body fuzz/fuzz_signature

EXTRA_DIST += fuzz/fuzz_query.c fuzz/fuzz_router.c fuzz/fuzz_body.c \
	fuzz/fuzz_signature.c fuzz/seeds-query fuzz/seeds-router fuzz/seeds-body \
	fuzz/seeds-signature
CLEANFILES += $(fuzz_more)

fuzz/fuzz_query: $(fuzz_query_srcs)
	@mkdir -p fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $(fuzz_http_cflags) -o $@ $(fuzz_query_srcs) $(fuzz_http_libs)
fuzz/fuzz_router: $(fuzz_router_srcs)
	@mkdir -p fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $(fuzz_http_cflags) -o $@ $(fuzz_router_srcs) $(fuzz_http_libs)
fuzz/fuzz_body: $(fuzz_body_srcs)
	@mkdir -p fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $(fuzz_http_cflags) -o $@ $(fuzz_body_srcs) $(fuzz_http_libs)
fuzz/fuzz_signature: $(fuzz_signature_srcs)
	@mkdir -p fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $(CRYPTO_CFLAGS) -o $@ $(fuzz_signature_srcs) $(CRYPTO_LIBS)

# each of the four gets a sixth of FUZZ_TIME (at least 1 s), as do the model and
# cache targets
fuzz_slice = $$(( $(FUZZ_TIME) / 6 > 0 ? $(FUZZ_TIME) / 6 : 1 ))
fuzz-more: $(fuzz_more)
	@for t in query router body signature; do \
		mkdir -p fuzz/corpus-$$t || exit 1; \
		echo "fuzz: $$t ($(fuzz_slice) s)"; \
		./fuzz/fuzz_$$t -max_total_time=$(fuzz_slice) -max_len=4096 \
			fuzz/corpus-$$t $(srcdir)/fuzz/seeds-$$t || exit 1; \
	done
fuzz: fuzz-more
.PHONY: fuzz-more
