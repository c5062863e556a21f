/* routes.c: every route the API serves, with its minimum role */
#include "api/api.h"

static const struct route routes[] = {
	{ "GET", "/api/v1/health", api_health_get, ROLE_NONE, ROUTE_PUBLIC, "health" },
	{ "GET", "/ready", api_ready_get, ROLE_NONE, ROUTE_PUBLIC, "health" },
};

static const struct http_app app = {
	routes, sizeof(routes) / sizeof(routes[0]), NULL
};

const struct http_app *api_app(void)
{
	return &app;
}
