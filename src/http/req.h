/* req.h: one HTTP request and its response, as handlers see them */
#ifndef IL_REQ_H
#define IL_REQ_H

#include <stddef.h>

#include <json-c/json.h>

#include "util/limits.h"
#include "util/strbuf.h"

struct arena;
struct db;
struct il_config;
struct route;

/* Roles in increasing order of power; a route names the least it accepts. */
enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 };

const char *role_name(enum role role);
/* ROLE_NONE when name is not a role. */
enum role role_parse(const char *name);

struct query_param {
	const char *name;
	const char *value;
};

/*
 * Who is calling, filled by the authenticator: the ids and the token epoch
 * come from the access token, the email and the role from the database.
 */
struct identity {
	const char *user_id;
	const char *tenant_id;
	const char *email;
	enum role role;
	long token_epoch;
};

struct req {
	struct arena *arena;          /* everything below lives here */
	const struct il_config *cfg;
	struct db *db;
	void *ctx;                    /* the application's worker-lifetime state */

	/* input */
	const char *method;
	const char *path;             /* without the query string */
	struct query_param query[IL_MAX_QUERY_PARAMS];
	int nquery;
	int query_invalid;            /* malformed percent-encoding or too many */
	const char *param[IL_MAX_ROUTE_PARAMS]; /* decoded :params of the route */
	int nparam;
	char *const *env;             /* FastCGI parameters (HTTP_* headers) */
	const char *content_type;
	const char *remote_addr;
	int tls;                      /* the web server says HTTPS=on */
	const char *body;
	size_t body_len;
	int body_too_large;
	json_object *json;            /* the parsed body on JSON routes */
	int web_error;                /* an error status the web server handed over, or 0 */
	int bodiless_post;            /* a POST lighttpd refused (411) and handed over */
	char request_id[IL_MAX_REQUEST_ID + 1];
	struct identity who;
	const struct route *route;
	int nothing_to_settle;        /* bind_tenant saw that app->settle has nothing to do */
	int deferred;                 /* the tenant transaction opens with the first query */
	int applying;                 /* a plan of the tenant may be applying (the check) */
	int kept_lookup;              /* an answer is kept for this read: look before the handler */
	int kept_given;               /* the answer is a kept one (respcache_answer) */
	long long data_version;       /* the tenant's data version the check saw, or -1 */

	/* output */
	int status;
	struct strbuf headers;        /* extra "Name: value\r\n" lines */
	const char *body_out;         /* serialised response, NULL for none */
	size_t body_out_len;
	const char *type_out;         /* its Content-Type; NULL means JSON */
	const char *error_code;       /* set once an error was recorded */
	json_object *validation;      /* 422 detail list being built */
};

/* Prepares r for a new request; env may be NULL in unit tests. */
void req_init(struct req *r, struct arena *a, const struct il_config *cfg,
	      struct db *db, char *const *env);

/* A request header by its HTTP name ("Authorization"), or NULL. */
const char *req_header(const struct req *r, const char *name);
/* The first value of query parameter name, or NULL. */
const char *req_query(const struct req *r, const char *name);
/* Route parameter i (0-based, in pattern order). */
const char *req_param(const struct req *r, int i);

/* Adds a response header; name and value must be safe (no CR/LF). */
void req_header_add(struct req *r, const char *name, const char *value);

/*
 * The client's address: REMOTE_ADDR; when that is a trusted proxy
 * (trusted_proxies), the right-most X-Forwarded-For entry that is not one,
 * which is the address the outermost trusted proxy saw. No other header is
 * read. "unknown" when the web server passed no REMOTE_ADDR.
 */
const char *req_client_addr(struct req *r);

/* The value of cookie name in the request's Cookie header, or NULL. */
const char *req_cookie(struct req *r, const char *name);

enum cookie_flag { COOKIE_HTTPONLY = 1 << 0 };
/*
 * Adds "Set-Cookie: name=value; Path=path; Max-Age=max_age; SameSite=Strict"
 * with HttpOnly when asked and Secure when the request came over TLS. name
 * and value must be cookie-safe (no ';', ',', space, quote or control).
 */
void req_set_cookie(struct req *r, const char *name, const char *value, const char *path,
		    long max_age, unsigned flags);

/*
 * Sets the response to status with body (ownership of body moves to the
 * request; NULL sends no body, as for 204).
 */
void req_json(struct req *r, int status, json_object *body);
/* A response that is not JSON: text (kept, not copied) of the given content type. */
void req_text(struct req *r, int status, const char *content_type, const char *text,
	      size_t len);
/* An error response {"detail": message, "code": code}. */
void req_error(struct req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * Adds one validation failure; loc is "body", "query" or "path", field the
 * field name (NULL for the whole part). req_validation_finish turns them into
 * a 422 and returns 1 when there were any, else 0.
 */
void req_invalid(struct req *r, const char *loc, const char *field,
		 const char *msg, const char *type);
int req_validation_finish(struct req *r);

/* Maps an il_err code to a generic error response (500, 503, 404 …). */
void req_error_from_code(struct req *r, int code);

#endif
