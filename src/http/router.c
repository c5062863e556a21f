/* router.c: route matching and the dispatcher */
#include "http/router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "http/cors.h"
#include "http/csrf.h"
#include "http/query.h"
#include "http/respcache.h"
#include "http/slots.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/json.h"

/* Matches path against pattern, capturing :params into r. 1 on a match. */
static int match_pattern(const char *pattern, const char *path, struct req *r)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		const char *pe, *se;

		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchrnul(p, '/');
		se = strchrnul(s, '/');
		if (*p == ':') {
			char *v;

			if (se == s || n == IL_MAX_ROUTE_PARAMS)
				return 0;
			v = percent_decode(r->arena, s, (size_t)(se - s), 0);
			if (v == NULL || *v == '\0')
				return 0;
			r->param[n++] = v;
		} else if (pe - p != se - s || memcmp(p, s, (size_t)(pe - p)) != 0) {
			return 0;
		}
		p = pe;
		s = se;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	r->nparam = n;
	return 1;
}

int router_match(const struct route **out, const struct route *routes, size_t n,
		 struct req *r, char *allow, size_t allowlen)
{
	size_t i, used = 0;
	int path_matched = 0;

	allow[0] = '\0';
	if (strlen(r->path) > IL_MAX_PATH)
		return IL_ENOTFOUND;
	for (i = 0; i < n; i++) {
		if (!match_pattern(routes[i].pattern, r->path, r))
			continue;
		if (strcmp(routes[i].method, r->method) == 0) {
			*out = &routes[i];
			return 0;
		}
		if (strstr(allow, routes[i].method) == NULL) {
			int w = snprintf(allow + used, allowlen - used, "%s%s",
					 path_matched ? ", " : "", routes[i].method);

			if (w > 0 && (size_t)w < allowlen - used)
				used += (size_t)w;
		}
		path_matched = 1;
	}
	r->nparam = 0;
	return path_matched ? IL_ECONFLICT : IL_ENOTFOUND;
}

/* application/json, with or without parameters such as charset. */
static int is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Parses the body into r->json; 0, or non-zero with the error response set. */
static int parse_json_body(struct req *r)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t consumed;

	if (r->body_len == 0) {
		r->json = json_object_new_object();
		return json_arena_own(r->arena, r->json) < 0 ? -1 : 0;
	}
	if (!is_json_type(r->content_type)) {
		req_error(r, 415, "unsupported_media_type",
			  "request body must be application/json");
		return -1;
	}
	tok = json_tokener_new_ex(32);
	if (tok == NULL)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	jerr = json_tokener_get_error(tok);
	consumed = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj == NULL || jerr != json_tokener_success || consumed != r->body_len) {
		if (obj != NULL)
			json_object_put(obj);
		req_error(r, 400, "invalid_json", "request body is not valid JSON");
		return -1;
	}
	if (json_arena_own(r->arena, obj) < 0)
		return -1;
	if (!json_object_is_type(obj, json_type_object)) {
		req_invalid(r, "body", NULL, "Input should be a valid dictionary", "dict_type");
		req_validation_finish(r);
		return -1;
	}
	r->json = obj;
	return 0;
}

/*
 * Opens the tenant transaction of a ROUTE_TENANT_TXN route (through the
 * application's bind_tenant, which also reads the caller's role); 0 to go on.
 */
static int open_tenant(const struct http_app *app, struct req *r)
{
	int rc;

	if (app->bind_tenant != NULL) {
		if (app->bind_tenant(r) == 0)
			return 0;
		if (r->status == 0)
			req_error_from_code(r, IL_ERR);
		return -1;
	}
	rc = db_begin_tenant(r->db, r->arena, r->who.tenant_id);
	if (rc < 0) {
		req_error_from_code(r, rc == IL_EUNAVAIL ? rc : IL_ERR);
		return -1;
	}
	return 0;
}

/*
 * A read (a GET every role may make) opens its tenant transaction with its
 * first query: BEGIN, the binding, the user check and that query in one round
 * trip, and its COMMIT goes out without waiting.
 */
static int deferrable(const struct http_app *app, const struct route *rt, const struct req *r)
{
	return app->defer_tenant != NULL && app->refused != NULL &&
	       (rt->flags & ROUTE_TENANT_TXN) && rt->min_role <= ROLE_VIEWER &&
	       strcmp(r->method, "GET") == 0;
}

/*
 * After a read's handler: a user check still deferred (the handler answered
 * without a query) runs now, so a refused caller gets its 401 whatever the
 * handler said; then the role (every role may read, but the database says).
 */
static void finish_deferred(const struct http_app *app, const struct route *rt,
			    struct req *r)
{
	int rc = db_deferred_flush(r->db, r->arena);

	if (db_refused(r->db)) {
		r->error_code = NULL;
		app->refused(r);
	} else if (rc < 0) {
		r->error_code = NULL;
		req_error_from_code(r, rc == IL_EUNAVAIL ? rc : IL_ERR);
	} else if (r->who.role < rt->min_role && r->status < 500) {
		/* (after a server error the role may never have been read) */
		r->error_code = NULL;
		req_error(r, 403, "forbidden", "this action needs the %s role",
			  role_name(rt->min_role));
	}
}

/* Authentication, then the role the database holds (checked once it is read). */
static int authorize(const struct http_app *app, const struct route *rt, struct req *r)
{
	if (app->authenticate == NULL) {
		req_error(r, 401, "not_authenticated", "authentication required");
		req_header_add(r, "WWW-Authenticate", "Bearer");
		return -1;
	}
	if (app->authenticate(r) != 0)
		return -1;
	if (deferrable(app, rt, r)) {
		r->kept_lookup = (rt->flags & ROUTE_KEPT) && respcache_holds(r);
		if (app->defer_tenant(r) != 0)
			return -1;
		r->deferred = 1;
		return 0;
	}
	if ((rt->flags & ROUTE_TENANT_TXN) && open_tenant(app, r) != 0)
		return -1;
	if (r->who.role < rt->min_role) {
		req_error(r, 403, "forbidden", "this action needs the %s role",
			  role_name(rt->min_role));
		return -1;
	}
	return 0;
}

/* Everything between routing and the handler; 0 to go on. */
static int admit(const struct http_app *app, const struct route *rt, struct req *r)
{
	if (csrf_check(r) != 0)
		return -1;
	if (!(rt->flags & ROUTE_PUBLIC) && authorize(app, rt, r) != 0)
		return -1;
	if (r->query_invalid) {
		req_invalid(r, "query", NULL, "malformed query string", "query_invalid");
		req_validation_finish(r);
		return -1;
	}
	if ((rt->flags & ROUTE_JSON_BODY) && parse_json_body(r) != 0) {
		if (r->status == 0)
			req_error_from_code(r, IL_ENOMEM);
		return -1;
	}
	return 0;
}

/*
 * A read with an answer kept under its key (ROUTE_KEPT, r->kept_lookup): its
 * user check went out alone, before the handler, and said the tenant's data
 * version. 1 when r is answered, from the kept answer or with an error (a
 * refusal finish_deferred turns into its 401); 0 to run the handler,
 * whose first statement then goes out behind a second check (defer_tenant).
 *
 * A kept answer is given without settling (app->settle): it was kept only
 * when no plan was applying (keep_answer), and the same version means that
 * nothing of the tenant moved since, so none is applying now.
 */
static int kept_answer(const struct http_app *app, const struct route *rt, struct req *r)
{
	int rc = db_deferred_flush(r->db, r->arena);

	if (rc < 0 || db_refused(r->db)) {
		req_error_from_code(r, rc == IL_EUNAVAIL ? rc : IL_ERR);
		return 1;
	}
	/* kept only for a role the route admits, given only to the same role */
	if (r->data_version >= 0 && respcache_answer(r, r->data_version)) {
		r->kept_given = 1;
		return 1;
	}
	return app->defer_tenant(r) != 0;
}

/*
 * Keeps a kept read's 200 under the version its first check saw (before any
 * of the handler's statements); not an answer that was itself a kept one,
 * nor when the route settles and a plan may have been applying.
 */
static void keep_answer(const struct route *rt, const struct req *r, size_t headers_from)
{
	if ((rt->flags & ROUTE_KEPT) && r->deferred && !r->kept_given && r->data_version >= 0 &&
	    !((rt->flags & ROUTE_SETTLE) && r->applying))
		respcache_keep(r, r->data_version, headers_from);
}

/* The handler, after app->settle where the route asks for it. */
static int settle_then_handle(const struct http_app *app, const struct route *rt,
			      struct req *r)
{
	int rc;

	/* a deferred read settles when its first query goes out (defer_tenant) */
	if ((rt->flags & ROUTE_SETTLE) && app->settle != NULL && !r->nothing_to_settle &&
	    !r->deferred && (rc = app->settle(r)) < 0) {
		req_error_from_code(r, rc == IL_EUNAVAIL ? rc : IL_ERR);
		return rc;
	}
	return rt->handler(r);
}

static void run_handler(const struct http_app *app, const struct route *rt, struct req *r)
{
	size_t headers_from = r->headers.len;   /* what the handler adds is kept */
	int rc = 0;

	if (!(r->kept_lookup && r->deferred && kept_answer(app, rt, r)))
		rc = settle_then_handle(app, rt, r);
	if (rc < 0 && r->status == 0)
		req_error_from_code(r, rc);
	if (r->status == 0)
		req_error_from_code(r, IL_ERR);
	if (!(rt->flags & ROUTE_TENANT_TXN))
		return;
	if (r->deferred)
		finish_deferred(app, rt, r);
	if (r->status >= 400) {
		db_rollback(r->db, r->arena);
	} else if ((rc = r->deferred ? db_commit_nowait(r->db, r->arena) :
			  db_commit(r->db, r->arena)) < 0) {
		r->error_code = NULL;
		req_error_from_code(r, rc == IL_EUNAVAIL ? rc : IL_ERR);
	} else {
		keep_answer(rt, r, headers_from);
	}
}

/* Seconds a client refused for want of a slot is told to wait. */
#define HTTP_BUSY_RETRY_AFTER "5"

/*
 * A slot for long work, or -1 after a 503: refused at once rather than queued,
 * so a full apply pool never makes anyone wait on a socket.
 */
static int take_slot(struct req *r)
{
	int fd = slot_take(r->cfg->run_dir, r->cfg->apply_workers);

	if (fd >= 0)
		return fd;
	if (fd == IL_ECONFLICT)
		req_error(r, 503, "apply_busy", "all %ld apply workers are busy; try again in "
			  HTTP_BUSY_RETRY_AFTER " s", r->cfg->apply_workers);
	else
		req_error(r, 503, "apply_busy", "no apply worker can be reserved now; try again"
			  " in " HTTP_BUSY_RETRY_AFTER " s");
	req_header_add(r, "Retry-After", HTTP_BUSY_RETRY_AFTER);
	return -1;
}

void http_dispatch(const struct http_app *app, struct req *r)
{
	const struct route *rt = NULL;
	char allow[128];
	int rc, slot = -1;

	cors_apply(r);   /* first: a browser must be able to read every answer, errors too */
	/* an oversized body was never read, whatever the route: refuse it first */
	if (r->body_too_large) {
		req_error(r, 413, "payload_too_large", "request body exceeds %ld bytes",
			  r->cfg ? r->cfg->max_body_bytes : (long)IL_DEFAULT_MAX_BODY);
		return;
	}
	rc = router_match(&rt, app->routes, app->nroutes, r, allow, sizeof(allow));
	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "no such resource: %.200s", r->path);
		return;
	}
	/* OPTIONS (a CORS preflight) comes before authentication: browsers send no credentials */
	if (rc == IL_ECONFLICT && strcmp(r->method, "OPTIONS") == 0) {
		cors_options(r, allow);
		return;
	}
	if (rc == IL_ECONFLICT) {
		req_error(r, 405, "method_not_allowed", "method %s is not allowed here; use %s",
			  r->method, allow);
		req_header_add(r, "Allow", allow);
		return;
	}
	r->route = rt;
	/* a bodiless POST came back through lighttpd's error handler to the api pool:
	 * long work must not run there, so it needs its (empty) body */
	if (r->bodiless_post && (rt->flags & ROUTE_LONG)) {
		req_error(r, 411, "length_required", "send a body with this POST, even {} "
			  "(curl -d '{}'): it runs in the apply pool");
		return;
	}
	/* long work waits for nothing: no free slot is a 503 at once */
	if (admit(app, rt, r) != 0 ||
	    ((rt->flags & ROUTE_LONG) && r->cfg != NULL && (slot = take_slot(r)) < 0)) {
		if (r->deferred)
			finish_deferred(app, rt, r);
		if (rt->flags & ROUTE_TENANT_TXN)
			db_rollback(r->db, r->arena);
		return;
	}
	run_handler(app, rt, r);
	slot_release(slot);
}
