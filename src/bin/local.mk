bin_PROGRAMS += ironlayer
sbin_PROGRAMS += ironlayer-fcgi

ironlayer_SOURCES = src/bin/ironlayer.c src/bin/cli.h src/bin/cli_migrate.c src/bin/cli_user.c \
	src/bin/cli_repo.c src/bin/cli_plan.c src/bin/cli_models.c src/bin/cli_project.c \
	src/bin/cli_project.h src/bin/cli_diff.c src/bin/cli_diff.h src/bin/cli_secrets.c \
	src/bin/cli_routes.c src/bin/cli_out.c src/bin/cli_out.h src/bin/cli_render.c \
	src/bin/cli_render.h src/bin/cli_api.c src/bin/cli_api.h src/bin/cli_credentials.c \
	src/bin/cli_login.c src/bin/cli_remote.c src/bin/cli_remote.h src/bin/cli_lists.c \
	src/bin/cli_apply.c
ironlayer_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(JSONC_CFLAGS) $(GIT2_CFLAGS) $(CURL_CFLAGS)
ironlayer_LDADD = $(IL_API_LIBS) $(IL_HTTP_LIBS) $(IL_ADVISE_LIBS) $(IL_BILLING_LIBS) $(IL_EXEC_LIBS) $(IL_DB_LIBS) $(IL_REPO_LIBS) \
	$(IL_CORE_LIBS) $(IL_UTIL_LIBS)

ironlayer_fcgi_SOURCES = src/bin/ironlayer-fcgi.c
ironlayer_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(PQ_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
ironlayer_fcgi_LDADD = $(IL_API_LIBS) $(IL_HTTP_LIBS) $(IL_ADVISE_LIBS) $(IL_BILLING_LIBS) $(IL_EXEC_LIBS) $(IL_DB_LIBS) $(IL_REPO_LIBS) \
	$(IL_CORE_LIBS) $(IL_UTIL_LIBS)
