/* routes.c: every route the API serves, with its minimum role */
#include "api/api.h"

#define PUBLIC_JSON (ROUTE_PUBLIC | ROUTE_JSON_BODY)
#define TENANT_JSON (ROUTE_TENANT_TXN | ROUTE_JSON_BODY)
/* reads of plans, runs and models first end the applies whose worker died */
#define TENANT_SETTLED (ROUTE_TENANT_TXN | ROUTE_SETTLE)
/* reads answered from the tenant's rows alone: kept while its data version stays */
#define TENANT_KEPT (ROUTE_TENANT_TXN | ROUTE_KEPT)
#define SETTLED_KEPT (TENANT_SETTLED | ROUTE_KEPT)

static const struct route routes[] = {
	{ "POST", "/api/v1/auth/signup", api_auth_signup, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "POST", "/api/v1/auth/login", api_auth_login, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "POST", "/api/v1/auth/refresh", api_auth_refresh, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "GET", "/api/v1/auth/session", api_auth_session, ROLE_NONE, ROUTE_PUBLIC, "auth" },
	{ "POST", "/api/v1/auth/logout", api_auth_logout, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "GET", "/api/v1/auth/me", api_auth_me, ROLE_VIEWER, TENANT_KEPT, "auth" },
	/* its own transactions: a wrong password's throttle charge must outlive the rollback */
	{ "POST", "/api/v1/auth/password", api_auth_password, ROLE_VIEWER, ROUTE_JSON_BODY,
	  "auth" },

	/* long work (ROUTE_LONG) runs in the apply pool, in one of its slots */
	{ "POST", "/api/v1/plans/generate", api_plans_generate, ROLE_OPERATOR,
	  TENANT_JSON | ROUTE_LONG, "plans" },
	{ "GET", "/api/v1/plans", api_plans_list, ROLE_VIEWER, SETTLED_KEPT, "plans" },
	{ "GET", "/api/v1/plans/:id", api_plans_get, ROLE_VIEWER, SETTLED_KEPT, "plans" },
	{ "GET", "/api/v1/plans/:id/sql", api_plans_sql, ROLE_VIEWER, TENANT_SETTLED, "plans" },
	{ "POST", "/api/v1/plans/:id/approve", api_plans_approve, ROLE_OPERATOR,
	  TENANT_JSON | ROUTE_SETTLE, "plans" },
	{ "POST", "/api/v1/plans/:id/reject", api_plans_reject, ROLE_OPERATOR,
	  TENANT_JSON | ROUTE_SETTLE, "plans" },
	/* apply manages its own short transactions: runs must survive a failed step */
	{ "POST", "/api/v1/plans/:id/apply", api_plans_apply, ROLE_OPERATOR,
	  ROUTE_JSON_BODY | ROUTE_LONG, "plans" },

	{ "GET", "/api/v1/runs", api_runs_list, ROLE_VIEWER, SETTLED_KEPT, "runs" },
	{ "GET", "/api/v1/runs/:id", api_runs_get, ROLE_VIEWER, SETTLED_KEPT, "runs" },
	{ "GET", "/api/v1/runs/:id/telemetry", api_runs_telemetry, ROLE_VIEWER, TENANT_SETTLED,
	  "runs" },

	{ "GET", "/api/v1/environments", api_environments_list, ROLE_VIEWER, TENANT_KEPT,
	  "environments" },
	{ "POST", "/api/v1/environments", api_environments_create, ROLE_ADMIN, TENANT_JSON,
	  "environments" },
	{ "GET", "/api/v1/environments/promotions", api_environments_promotions, ROLE_VIEWER,
	  0, "environments" },
	{ "POST", "/api/v1/environments/cleanup", api_environments_cleanup, ROLE_ADMIN, 0,
	  "environments" },
	{ "DELETE", "/api/v1/environments/:name", api_environments_delete, ROLE_ADMIN,
	  TENANT_SETTLED, "environments" },

	{ "POST", "/api/v1/plans/:id/augment", api_plans_augment, ROLE_OPERATOR,
	  TENANT_JSON | ROUTE_LONG, "plans" },

	{ "GET", "/api/v1/settings", api_settings_get, ROLE_VIEWER, ROUTE_TENANT_TXN, "settings" },
	{ "PATCH", "/api/v1/settings", api_settings_patch, ROLE_ADMIN, TENANT_JSON, "settings" },
	{ "PUT", "/api/v1/settings/llm-key", api_settings_put_key, ROLE_ADMIN, TENANT_JSON,
	  "settings" },
	{ "DELETE", "/api/v1/settings/llm-key", api_settings_delete_key, ROLE_ADMIN,
	  ROUTE_TENANT_TXN, "settings" },
	{ "POST", "/api/v1/settings/llm-key/test", api_settings_test_key, ROLE_ADMIN, TENANT_JSON,
	  "settings" },

	{ "GET", "/api/v1/models", api_models_list, ROLE_VIEWER, SETTLED_KEPT, "models" },
	{ "GET", "/api/v1/models/:name", api_models_get, ROLE_VIEWER, SETTLED_KEPT, "models" },
	{ "GET", "/api/v1/models/:name/lineage", api_models_lineage, ROLE_VIEWER,
	  SETTLED_KEPT,
	  "models" },

	{ "GET", "/api/v1/billing/plans", api_billing_plans, ROLE_NONE, ROUTE_PUBLIC, "billing" },
	{ "GET", "/api/v1/billing/subscription", api_billing_subscription, ROLE_VIEWER,
	  ROUTE_TENANT_TXN, "billing" },
	{ "GET", "/api/v1/billing/quota/:limit", api_billing_quota, ROLE_VIEWER,
	  ROUTE_TENANT_TXN, "billing" },
	/* checkout commits the new Stripe customer before the session: its own transactions */
	{ "POST", "/api/v1/billing/checkout", api_billing_checkout, ROLE_ADMIN, ROUTE_JSON_BODY,
	  "billing" },
	{ "POST", "/api/v1/billing/portal", api_billing_portal, ROLE_ADMIN,
	  ROUTE_TENANT_TXN | ROUTE_JSON_BODY, "billing" },
	/* Stripe signs the raw body: no JSON parsing before the signature is checked */
	{ "POST", "/api/v1/billing/webhook", api_billing_webhook, ROLE_NONE, ROUTE_PUBLIC,
	  "billing" },
	/* the path the earlier implementation's Stripe endpoints were registered with */
	{ "POST", "/api/v1/billing/webhooks", api_billing_webhook, ROLE_NONE, ROUTE_PUBLIC,
	  "billing" },

	{ "GET", "/api/v1/health", api_health_get, ROLE_NONE, ROUTE_PUBLIC, "health" },
	{ "GET", "/ready", api_ready_get, ROLE_NONE, ROUTE_PUBLIC, "health" },
};

static const struct http_app app = {
	routes, sizeof(routes) / sizeof(routes[0]), api_authenticate, api_bind_tenant,
	api_end_lost_applies, api_defer_tenant, api_session_refused
};

const struct http_app *api_app(void)
{
	return &app;
}
