/* router.h: the route table and the dispatcher that enforces it */
#ifndef IL_ROUTER_H
#define IL_ROUTER_H

#include <stddef.h>

#include "http/req.h"

typedef int (*handler_fn)(struct req *r);

enum route_flag {
	ROUTE_PUBLIC = 1 << 0,     /* no bearer token needed */
	ROUTE_JSON_BODY = 1 << 1,  /* the body must be a JSON object */
	ROUTE_TENANT_TXN = 1 << 2, /* run inside a transaction bound to the caller's tenant
	                            * (opened before the role check; not for public routes) */
	/*
	 * Long work (apply, generate, augment): runs only in one of the
	 * host's apply_workers slots (http/slots.h), else 503 apply_busy at once.
	 */
	ROUTE_LONG = 1 << 3,
	/* app->settle runs first, in the tenant transaction (ROUTE_TENANT_TXN only) */
	ROUTE_SETTLE = 1 << 4,
	/*
	 * A read whose 200 answers are kept per caller and URL and given again
	 * while the tenant's data version stays (http/respcache.h): the handler
	 * must answer from the tenant's rows and the request alone, not the
	 * clock. Deferred reads only (a GET every role may make).
	 */
	ROUTE_KEPT = 1 << 5
};

/*
 * One row of the table. pattern segments starting with ':' match any one
 * non-empty path segment, percent-decoded into r->param[] in order.
 */
struct route {
	const char *method;
	const char *pattern;
	handler_fn handler;
	enum role min_role;
	unsigned flags;
	const char *tag;           /* the OpenAPI tag: groups routes in docs */
};

struct http_app {
	const struct route *routes;
	size_t nroutes;
	/*
	 * Fills r->who from the Authorization header; returns 0, or non-zero
	 * after recording a 401 (or 503) response. r->who.role must be the
	 * role the database holds by the time the role is checked: here, or in
	 * bind_tenant on ROUTE_TENANT_TXN routes.
	 */
	int (*authenticate)(struct req *r);
	/*
	 * Opens the tenant transaction of a ROUTE_TENANT_TXN route for r->who
	 * (the authenticator may leave its database checks, the role included,
	 * to this step, to save a round trip); returns 0, or non-zero after
	 * recording a response. NULL: a plain db_begin_tenant.
	 */
	int (*bind_tenant)(struct req *r);
	/*
	 * Settles what a dead worker left behind (the API ends the applies
	 * whose worker is gone) before a ROUTE_SETTLE handler looks; returns
	 * 0 or a negative il_err code. NULL: nothing to settle. Skipped when
	 * bind_tenant set r->nothing_to_settle (it can tell in its round trip).
	 */
	int (*settle)(struct req *r);
	/*
	 * For a GET that every role may make (a read): instead of bind_tenant,
	 * defers the opening of the tenant transaction and the user check to
	 * the handler's first statement (db_defer_tenant), which fills r->who
	 * and settles when it goes out; returns 0, or non-zero after recording
	 * a response. NULL: bind_tenant as for every other route.
	 */
	int (*defer_tenant)(struct req *r);
	/* Records the 401 of a caller the deferred user check refused. */
	void (*refused)(struct req *r);
};

/*
 * Finds the route for r->method and r->path. Returns 0 and sets *out;
 * IL_ENOTFOUND when no pattern matches the path; IL_ECONFLICT when patterns
 * match but not the method, with the accepted methods written to allow
 * ("GET, POST").
 */
int router_match(const struct route **out, const struct route *routes, size_t n,
		 struct req *r, char *allow, size_t allowlen);

/*
 * Runs the steps every request goes through, in this order: CORS headers
 * (for an allowed Origin, on every answer), body size (413), route (404),
 * OPTIONS (204 with Allow, a CORS preflight), method (405 with Allow), CSRF
 * (403, for a state-changing request that carries the session cookie),
 * authentication (401), tenant transaction (503), role (403), query string
 * (422), content type (415), JSON syntax (400), a slot for long work (503
 * apply_busy, at once), settling, handler. The response is left in r.
 */
void http_dispatch(const struct http_app *app, struct req *r);

#endif
