# t/docs/local.mk: the API docs. `make` fetches the Swagger UI assets for /docs
# (npm package swagger-ui-dist, the version in docs/swagger-ui.version) into
# swagger-ui/dist; without npm or a network that only warns, and the stack then
# runs without /docs. The tests check docs/openapi.json against the route table
# (both ways, plus openapi-spec-validator) and drive /docs in headless Chromium.
noinst_DATA = swagger-ui/stamp
swagger-ui/stamp: $(srcdir)/docs/swagger-ui.version $(srcdir)/docs/swagger/fetch-swagger-ui.sh
	$(AM_V_GEN)$(SHELL) $(srcdir)/docs/swagger/fetch-swagger-ui.sh --soft swagger-ui && \
	mkdir -p swagger-ui && touch $@

TESTS += t/docs/check-openapi.py t/docs/check-pools.py t/docs/run-browser-test.sh
EXTRA_DIST += t/docs/check-openapi.py t/docs/check-pools.py t/docs/run-browser-test.sh \
	t/docs/browser-test.mjs \
	t/docs/playwright-core.version

clean-local: clean-local-docs
clean-local-docs:
	-rm -rf swagger-ui t/docs/out t/docs/node
.PHONY: clean-local-docs
