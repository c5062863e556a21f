/* api.h: the API's route table, worker-lifetime state and handlers */
#ifndef IL_API_H
#define IL_API_H

#include <stdint.h>

#include "billing/quota.h"
#include "http/router.h"

struct migration;

/* What a worker keeps between requests (read-only while serving). */
struct api_ctx {
	const struct migration *migrations;   /* expected, from sql_dir */
	int nmigrations;
};

/* routes.c: the route table the dispatcher serves. */
const struct http_app *api_app(void);

/* paging.c: pages, lists and the JSON helpers every handler shares */
struct api_page {
	int64_t limit;    /* 1..100, default 20 (models: 1..500, default 100) */
	int64_t offset;   /* >= 0 */
};
/* ?limit=&offset= (limit 1..100, default 20); returns 1 after a 422. */
int api_page_read(struct api_page *pg, struct req *r);
/* The same with limit 1..max, default def. */
int api_page_read_max(struct api_page *pg, struct req *r, int64_t def, int64_t max);
/*
 * 200 with the bare JSON array items (the reference's list shape), the
 * total in X-Total-Count and, in a Link header, the next/last/prev/first
 * pages (GitHub's convention).
 */
void api_page_respond(struct req *r, const struct api_page *pg, json_object *items,
		      long long total);
/* 200 with the bare array items of an unpaginated list and X-Total-Count. */
void api_list_respond(struct req *r, json_object *items, long long total);
/* The same two with the array's JSON text, built without a json-c tree. */
void api_page_respond_text(struct req *r, const struct api_page *pg, const char *json,
			   size_t len, long long total);
void api_list_respond_text(struct req *r, const char *json, size_t len, long long total);
/* JSON text from the database into an object (NULL stays NULL). */
json_object *api_json_parse(const char *text);
/* Rewrites the number o.key the one way costs are written (0.000002, never 2e-06). */
void api_number_field(json_object *o, const char *key);
/* A JSON string, or NULL (JSON null) for a NULL pointer. */
json_object *api_str(const char *s);

/* plan_generate.c */
int api_plans_generate(struct req *r);

/* plans.c */
int api_plans_list(struct req *r);
int api_plans_get(struct req *r);
int api_plans_approve(struct req *r);
int api_plans_reject(struct req *r);
/* Responds with the stored plan (plan JSON plus status, approvals …). */
int api_plan_respond(struct req *r, const char *plan_id, int status);

/* apply.c (the work is apply/'s), plan_sql.c */
int api_plans_apply(struct req *r);
int api_plans_sql(struct req *r);
/* Ends the tenant's applies whose worker died (the ROUTE_SETTLE hook). */
int api_end_lost_applies(struct req *r);
struct apply_outcome;
/*
 * Answers a refusal of apply_plan or apply_preview (404, 409 or 429, in the
 * shape apply always answered); 0 when out is APPLY_DONE and nothing was
 * answered, else 1.
 */
int api_apply_refusal(struct req *r, const struct apply_outcome *out);

/* environments.c */
/* Pure: NULL or why s is not an environment name. */
const char *api_check_env_name(const char *s);
int api_environments_list(struct req *r);
int api_environments_create(struct req *r);
int api_environments_delete(struct req *r);
int api_environments_promotions(struct req *r);
int api_environments_cleanup(struct req *r);

/* runs.c */
int api_runs_list(struct req *r);
int api_runs_get(struct req *r);
int api_runs_telemetry(struct req *r);

/* models.c */
struct project;
/* Upserts every model of the target project into the tenant's catalog. */
int api_catalog_update(struct req *r, const struct project *p, const char *commit);
int api_models_list(struct req *r);
int api_models_get(struct req *r);
int api_models_lineage(struct req *r);

/* auth.c (sign-up, login, the authenticator), auth_session.c (refresh, cookies, password) */
int api_authenticate(struct req *r);
int api_bind_tenant(struct req *r);
/* The deferred tenant transaction of a read (http_app.defer_tenant) and its 401. */
int api_defer_tenant(struct req *r);
void api_session_refused(struct req *r);
int api_auth_signup(struct req *r);
int api_auth_login(struct req *r);
int api_auth_refresh(struct req *r);
int api_auth_session(struct req *r);
int api_auth_logout(struct req *r);
int api_auth_password(struct req *r);
int api_auth_me(struct req *r);

/* billing.c (answers for the quotas of billing/quota.c), billing_checkout.c, billing_webhook.c */
int api_billing_plans(struct req *r);
int api_billing_subscription(struct req *r);
int api_billing_quota(struct req *r);
int api_billing_checkout(struct req *r);
int api_billing_portal(struct req *r);
int api_billing_webhook(struct req *r);

/*
 * billing.c, the handlers' side of billing/quota.c: call inside the caller's
 * tenant transaction, before doing the work.
 * Returns 0 when allowed; 1 after recording a 402 or 429 response that names
 * the tier and the limit; a negative il_err code on failure. Use as
 *   if ((rc = api_check_quota(r, BILLING_LIMIT_ENVIRONMENTS)) != 0)
 *           return rc < 0 ? rc : 0;
 */
int api_check_quota(struct req *r, enum billing_limit what);
/* Counts one plan generation this UTC month; call after a plan was generated. */
int api_count_plan_generation(struct req *r);

/* settings.c */
int api_settings_get(struct req *r);
int api_settings_patch(struct req *r);
int api_settings_put_key(struct req *r);
int api_settings_delete_key(struct req *r);
int api_settings_test_key(struct req *r);

/* advisory.c */
int api_plans_augment(struct req *r);

/* health.c */
int api_health_get(struct req *r);
int api_ready_get(struct req *r);

#endif
