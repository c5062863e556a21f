bin_PROGRAMS += ironlayer
sbin_PROGRAMS += ironlayer-fcgi

ironlayer_SOURCES = src/bin/ironlayer.c src/bin/cli.h src/bin/cli_migrate.c src/bin/cli_user.c src/bin/cli_repo.c src/bin/cli_plan.c src/bin/cli_secrets.c src/bin/cli_routes.c
ironlayer_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(JSONC_CFLAGS) $(GIT2_CFLAGS)
ironlayer_LDADD = $(IL_API_LIBS) $(IL_HTTP_LIBS) $(IL_ADVISE_LIBS) $(IL_BILLING_LIBS) $(IL_EXEC_LIBS) $(IL_DB_LIBS) $(IL_REPO_LIBS) \
	$(IL_CORE_LIBS) $(IL_UTIL_LIBS)

ironlayer_fcgi_SOURCES = src/bin/ironlayer-fcgi.c
ironlayer_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(PQ_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
ironlayer_fcgi_LDADD = $(IL_API_LIBS) $(IL_HTTP_LIBS) $(IL_ADVISE_LIBS) $(IL_BILLING_LIBS) $(IL_EXEC_LIBS) $(IL_DB_LIBS) $(IL_REPO_LIBS) \
	$(IL_CORE_LIBS) $(IL_UTIL_LIBS)
