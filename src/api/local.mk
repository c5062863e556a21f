noinst_LIBRARIES += libilapi.a
libilapi_a_SOURCES = \
	src/api/api.h src/api/routes.c \
	src/api/health.c \
	src/api/auth.c src/api/auth.h src/api/auth_session.c src/api/auth_throttle.c \
	src/api/billing.c src/api/billing_checkout.c src/api/billing_webhook.c \
	src/api/paging.c \
	src/api/plans.c src/api/plan_generate.c \
	src/api/models.c \
	src/api/settings.c src/api/advisory.c \
	src/api/environments.c src/api/runs.c \
	src/api/apply.c src/api/plan_sql.c
libilapi_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
# the apply layer links right below the handlers: it uses only what bin/ links after api
IL_API_LIBS = libilapi.a $(IL_APPLY_LIBS)
