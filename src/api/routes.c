/* routes.c: every route the API serves, with its minimum role */
#include "api/api.h"

#define PUBLIC_JSON (ROUTE_PUBLIC | ROUTE_JSON_BODY)

static const struct route routes[] = {
	{ "POST", "/api/v1/auth/signup", api_auth_signup, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "POST", "/api/v1/auth/login", api_auth_login, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "POST", "/api/v1/auth/refresh", api_auth_refresh, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "POST", "/api/v1/auth/logout", api_auth_logout, ROLE_NONE, PUBLIC_JSON, "auth" },
	{ "GET", "/api/v1/auth/me", api_auth_me, ROLE_VIEWER, ROUTE_TENANT_TXN, "auth" },
	{ "GET", "/api/v1/health", api_health_get, ROLE_NONE, ROUTE_PUBLIC, "health" },
	{ "GET", "/ready", api_ready_get, ROLE_NONE, ROUTE_PUBLIC, "health" },
};

static const struct http_app app = {
	routes, sizeof(routes) / sizeof(routes[0]), api_authenticate
};

const struct http_app *api_app(void)
{
	return &app;
}
