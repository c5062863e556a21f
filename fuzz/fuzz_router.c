/* fuzz_router.c: libFuzzer target for the route matcher and the dispatcher's steps */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/query.h"
#include "http/req.h"
#include "http/router.h"
#include "util/arena.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* How many ':' segments pattern has: the params a match must capture. */
static int count_params(const char *pattern)
{
	int n = 0;

	for (; *pattern != '\0'; pattern++)
		if (pattern[0] == '/' && pattern[1] == ':')
			n++;
	return n;
}

/* Checks what the matcher promised: one non-empty clean param per ':' segment. */
static int echo(struct req *r)
{
	int i;

	if (r->route == NULL || r->nparam != count_params(r->route->pattern))
		abort();
	for (i = 0; i < r->nparam; i++) {
		const char *p = req_param(r, i);

		if (p == NULL || *p == '\0')
			abort();
		for (; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
	req_json(r, 200, NULL);
	return 0;
}

/* The shapes of the API's table: literals, params, params mid-path, nested. */
static const struct route routes[] = {
	{ "GET", "/api/v1/health", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "POST", "/api/v1/auth/login", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "GET", "/api/v1/plans", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "GET", "/api/v1/plans/:id", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "POST", "/api/v1/plans/:id/approve", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "POST", "/api/v1/plans/:id/apply", echo, ROLE_VIEWER, 0, "t" },
	{ "GET", "/api/v1/environments/promotions", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "DELETE", "/api/v1/environments/:name", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "PUT", "/api/v1/settings/llm-key", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "DELETE", "/api/v1/settings/llm-key", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "GET", "/api/v1/models/:name/lineage", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "GET", "/a/:x/:y/:z/:w/:v", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "GET", "/", echo, ROLE_NONE, ROUTE_PUBLIC, "t" },
};

static const struct http_app app = { routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL,
					 NULL };

/* Splits "METHOD target" at the first space; target at '?' as the server does. */
static void fill_request(struct req *r, char *in)
{
	char *sp = strchr(in, ' '), *q;

	r->method = "GET";
	r->path = in;
	if (sp != NULL) {
		*sp = '\0';
		r->method = in;
		r->path = sp + 1;
	}
	q = strchr(r->path, '?');
	if (q != NULL)
		*q = '\0';
	query_parse(r, q ? q + 1 : NULL);
}

static int status_expected(int status)
{
	return status == 200 || status == 204 || status == 401 || status == 404 ||
	       status == 405 || status == 422;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	const struct route *rt;
	struct req r;
	char *in, allow[12];
	int rc;

	if (a == NULL || (in = arena_alloc(a, size + 1)) == NULL) {
		arena_free(a);
		return 0;
	}
	memcpy(in, data, size);
	in[size] = '\0';
	req_init(&r, a, NULL, NULL, NULL);
	fill_request(&r, in);
	/* a small Allow buffer: the list must be cut, never overrun */
	rc = router_match(&rt, app.routes, app.nroutes, &r, allow, sizeof(allow));
	if (strlen(allow) >= sizeof(allow) || (rc != 0 && rc != IL_ENOTFOUND && rc != IL_ECONFLICT))
		abort();
	http_dispatch(&app, &r);
	if (!status_expected(r.status))
		abort();
	arena_free(a);
	return 0;
}
