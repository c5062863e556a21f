/* databricks.c (exec): runs plan steps through the Databricks SQL Statement Execution API */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "exec/databricks_int.h"
#include "exec/exec.h"
#include "exec/netguard.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/httpc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/strbuf.h"

#define DBX_STATEMENTS_PATH "/api/2.0/sql/statements"
#define DBX_MAX_RESPONSE (1024 * 1024)        /* we never fetch result sets */
#define DBX_MAX_STATEMENT_ID 128
#define DBX_BACKOFF_BASE_MS 250L
#define DBX_BACKOFF_CAP_MS 30000L
#define DBX_HTTP_TIMEOUT_S 60L
#define DBX_CONNECT_TIMEOUT_S 10L
#define DBX_CANCEL_TIMEOUT_MS 5000L   /* the cancel itself, once a statement's time is up */

struct dbx {
	const char *host;            /* base URL without a trailing slash */
	const char *token;           /* only for scrubbing error text; never logged */
	const char *warehouse_id;
	long timeout_seconds;
	long poll_interval_ms;
	int max_retries;
	struct httpc *http;          /* one handle, so connections are reused; holds the token */
	const char *resolve;         /* host:port:address, the checked address pinned, or NULL */
	long long call_deadline_ms;  /* no request or retry of this call goes past it (0: none) */
};

/* One HTTP exchange after retries; error is set when it did not succeed. */
struct reply {
	long status;                 /* 0 when the transfer itself failed */
	long retry_after_s;          /* Retry-After in seconds; 0 when absent */
	json_object *body;           /* the answer when it was a JSON object */
	const char *transfer_error;
	const char *error;
};

/* What one statement came to. */
struct stmt {
	int ok;
	const char *id;
	const char *error;
	long long rows;
};

/* The statements of one step, the last one being the step's main statement. */
enum dbx_state { DBX_RUNNING, DBX_SUCCEEDED, DBX_FAILED, DBX_CANCELED };

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* A non-empty string member, or NULL. */
static const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);
	const char *s;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return *s != '\0' ? s : NULL;
}

/* The request's timeouts: the usual ones, or less when the call's deadline is nearer. */
static void set_timeouts(struct dbx *d)
{
	long long total = DBX_HTTP_TIMEOUT_S * 1000, connect = DBX_CONNECT_TIMEOUT_S * 1000;

	if (d->call_deadline_ms > 0) {
		long long left = d->call_deadline_ms - exec_now_ms();

		if (left < 1)
			left = 1;
		if (left < total)
			total = left;
		if (left < connect)
			connect = left;
	}
	httpc_set_timeouts_ms(d->http, (long)total, (long)connect);
}

/* One request: body NULL means GET, otherwise a POST of body. */
static int http_once(struct dbx *d, struct arena *a, const char *url, const char *body,
		     struct reply *rp)
{
	struct httpc_response res;
	json_object *o;
	int rc;

	*rp = (struct reply){ .status = 0 };
	set_timeouts(d);
	if ((rc = httpc_send(&res, d->http, a, url, body, body ? strlen(body) : 0)) < 0)
		return rc;
	if (res.result != HTTPC_OK) {
		rp->transfer_error = res.error;   /* no answer, or more of one than we read */
		return 0;
	}
	rp->status = res.status;
	rp->retry_after_s = res.retry_after_seconds;
	o = *res.body != '\0' ? json_tokener_parse(res.body) : NULL;
	if (o != NULL && json_arena_own(a, o) < 0)
		return IL_ENOMEM;
	rp->body = o != NULL && json_object_is_type(o, json_type_object) ? o : NULL;
	return 0;
}

static int retryable(const struct reply *rp)
{
	return rp->status == 0 || rp->status == 429 || rp->status >= 500;
}

static long backoff_ms(const struct reply *rp, int attempt)
{
	long ms = DBX_BACKOFF_BASE_MS << (attempt < 10 ? attempt : 10);

	if (rp->retry_after_s > 0)
		ms = rp->retry_after_s * 1000;
	return ms > DBX_BACKOFF_CAP_MS ? DBX_BACKOFF_CAP_MS : ms;
}

/* "HTTP 400 INVALID_PARAMETER_VALUE: message", from the API's error object. */
static const char *api_error(struct arena *a, const struct reply *rp, int attempts)
{
	const char *code = jstr(rp->body, "error_code");
	const char *msg = jstr(rp->body, "message");
	const char *tail = attempts > 1 ? arena_printf(a, " (after %d attempts)", attempts) : "";

	if (rp->status == 0)
		return arena_printf(a, "databricks request failed: %s%s", rp->transfer_error,
				    tail ? tail : "");
	if (rp->status >= 200 && rp->status < 300)
		return arena_printf(a, "databricks answered HTTP %ld without a JSON object",
				    rp->status);
	return arena_printf(a, "databricks answered HTTP %ld%s%s%s%s%s", rp->status,
			    code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "",
			    tail ? tail : "");
}

/* A call with retries on 429, 5xx and transfer errors; rp->error says why it failed. */
static int api_call(struct dbx *d, struct arena *a, const char *path, const char *body,
		    struct reply *rp)
{
	const char *url = arena_printf(a, "%s%s", d->host, path);
	int attempt, rc;

	rp->error = NULL;
	if (url == NULL)
		return IL_ENOMEM;
	for (attempt = 0;; attempt++) {
		if ((rc = http_once(d, a, url, body, rp)) < 0)
			return rc;
		if (rp->status >= 200 && rp->status < 300 && rp->body != NULL)
			return 0;
		if (!retryable(rp) || attempt >= d->max_retries ||
		    (d->call_deadline_ms > 0 &&
		     exec_now_ms() + backoff_ms(rp, attempt) >= d->call_deadline_ms))
			break;
		log_warn("databricks %s %s answered %ld; retry %d of %d", body ? "POST" : "GET",
			 path, rp->status, attempt + 1, d->max_retries);
		sleep_ms(backoff_ms(rp, attempt));
	}
	rp->error = api_error(a, rp, attempt + 1);
	return rp->error != NULL ? 0 : IL_ENOMEM;
}

static int add_str(json_object *o, const char *key, const char *value)
{
	json_object *v = json_object_new_string(value);

	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* The POST body for one statement, in a; NULL when out of memory. */
static const char *submit_body(const struct dbx *d, struct arena *a, const struct exec_step *s,
			       const char *sql, int with_schema)
{
	json_object *o = json_object_new_object();
	const char *text = NULL;

	if (o == NULL)
		return NULL;
	if (add_str(o, "statement", sql) < 0 || add_str(o, "warehouse_id", d->warehouse_id) < 0 ||
	    (s->catalog != NULL && add_str(o, "catalog", s->catalog) < 0) ||
	    (with_schema && add_str(o, "schema", s->schema) < 0) ||
	    add_str(o, "wait_timeout", "0s") < 0 || add_str(o, "on_wait_timeout", "CONTINUE") < 0)
		goto out;
	text = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return text;
}

static enum dbx_state state_of(json_object *answer)
{
	const char *s = jstr(jget(answer, "status"), "state");

	if (s == NULL)
		return DBX_RUNNING;
	if (strcmp(s, "SUCCEEDED") == 0 || strcmp(s, "CLOSED") == 0)
		return DBX_SUCCEEDED;
	if (strcmp(s, "FAILED") == 0)
		return DBX_FAILED;
	if (strcmp(s, "CANCELED") == 0)
		return DBX_CANCELED;
	return DBX_RUNNING;        /* PENDING, RUNNING, or a state we do not know yet */
}

/* num_affected_rows from the one-row summary of a DML or CTAS statement, else -1. */
static long long affected_rows(json_object *answer)
{
	json_object *cols = jget(jget(jget(answer, "manifest"), "schema"), "columns");
	json_object *rows = jget(jget(answer, "result"), "data_array");
	json_object *row, *cell;
	int64_t v;
	size_t i;

	if (cols == NULL || rows == NULL || !json_object_is_type(cols, json_type_array) ||
	    !json_object_is_type(rows, json_type_array) || json_object_array_length(rows) < 1)
		return -1;
	row = json_object_array_get_idx(rows, 0);
	for (i = 0; i < json_object_array_length(cols); i++) {
		const char *name = jstr(json_object_array_get_idx(cols, i), "name");

		if (name == NULL || strcmp(name, "num_affected_rows") != 0)
			continue;
		cell = row != NULL && json_object_is_type(row, json_type_array) ?
		       json_object_array_get_idx(row, i) : NULL;
		if (cell != NULL && json_object_is_type(cell, json_type_string) &&
		    parse_i64(json_object_get_string(cell), 0, INT64_MAX, &v) == 0)
			return v;
		return -1;
	}
	return -1;
}

/* 1 when id can go into a URL path as it is. */
static int statement_id_ok(const char *id)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n <= DBX_MAX_STATEMENT_ID && strspn(id, ok) == n;
}

/* Fills st from a terminal answer. */
static void finish(struct arena *a, json_object *answer, enum dbx_state state, struct stmt *st)
{
	json_object *err = jget(jget(answer, "status"), "error");
	const char *msg = jstr(err, "message");

	if (state == DBX_SUCCEEDED) {
		st->ok = 1;
		st->rows = affected_rows(answer);
	} else if (state == DBX_FAILED) {
		st->error = msg ? msg : "statement failed without a message";
	} else {
		st->error = msg ? arena_printf(a, "statement was cancelled: %s", msg) :
			    "statement was cancelled by the warehouse";
	}
}

/*
 * Asks the warehouse to cancel st, which we give up on because of why (it
 * timed out, or polling failed); st ends failed either way.
 */
static int cancel(struct dbx *d, struct arena *a, struct stmt *st, const char *why)
{
	struct reply rp;
	const char *path = arena_printf(a, DBX_STATEMENTS_PATH "/%s/cancel", st->id);
	int rc;

	if (path == NULL || why == NULL)
		return IL_ENOMEM;
	d->call_deadline_ms = exec_now_ms() + DBX_CANCEL_TIMEOUT_MS;
	if ((rc = api_call(d, a, path, "", &rp)) < 0)
		return rc;
	log_warn("databricks statement %s given up; cancel %s", st->id,
		 rp.error ? "failed" : "requested");
	st->error = rp.error == NULL ? arena_printf(a, "%s; statement cancelled", why) :
		    arena_printf(a, "%s; cancelling the statement failed: %s", why, rp.error);
	return st->error != NULL ? 0 : IL_ENOMEM;
}

/* Polls until the statement in rp is terminal or its deadline passes. */
static int await(struct dbx *d, struct arena *a, struct reply *rp, struct stmt *st,
		 long long deadline_ms, long limit_s)
{
	const char *path = arena_printf(a, DBX_STATEMENTS_PATH "/%s", st->id);
	const char *timed_out = arena_printf(a, "timed out after %ld s", limit_s);
	enum dbx_state state;
	long long left;
	int rc;

	if (path == NULL || timed_out == NULL)
		return IL_ENOMEM;
	while ((state = state_of(rp->body)) == DBX_RUNNING) {
		left = deadline_ms - exec_now_ms();
		if (left <= 0)
			return cancel(d, a, st, timed_out);
		sleep_ms(left < d->poll_interval_ms ? (long)left + 1 : d->poll_interval_ms);
		if ((rc = api_call(d, a, path, NULL, rp)) < 0)
			return rc;
		if (rp->error != NULL)  /* the statement may still be running */
			return cancel(d, a, st,
				      exec_now_ms() >= deadline_ms ? timed_out : rp->error);
	}
	finish(a, rp->body, state, st);
	return 0;
}

/*
 * Submits one statement and waits for it: databricks_timeout_seconds at
 * most, and never past the step's deadline.
 */
static int run_statement(struct dbx *d, struct arena *a, const struct exec_step *s,
			 const char *sql, int with_schema, struct stmt *st)
{
	long long deadline = exec_now_ms() + (long long)d->timeout_seconds * 1000;
	long limit = d->timeout_seconds;
	const char *body = submit_body(d, a, s, sql, with_schema);
	struct reply rp;
	int rc;

	if (body == NULL)
		return IL_ENOMEM;
	if (s->deadline_ms > 0 && s->deadline_ms < deadline) {
		deadline = s->deadline_ms;
		limit = s->timeout_seconds;
	}
	d->call_deadline_ms = deadline;
	if ((rc = api_call(d, a, DBX_STATEMENTS_PATH, body, &rp)) < 0)
		return rc;
	if (rp.error != NULL) {
		st->error = exec_now_ms() >= deadline ?
			    arena_printf(a, "timed out after %ld s", limit) : rp.error;
		return 0;
	}
	st->id = jstr(rp.body, "statement_id");
	if (!statement_id_ok(st->id)) {
		st->id = NULL;
		st->error = "databricks answered without a usable statement_id";
		return 0;
	}
	return await(d, a, &rp, st, deadline, limit);
}

/* exec_error_text of msg with every copy of the token blotted out. */
static const char *error_text(const struct dbx *d, struct arena *a, const char *msg)
{
	size_t tn = strlen(d->token);
	struct strbuf sb;
	const char *p, *hit;

	if (msg == NULL || strstr(msg, d->token) == NULL)
		return exec_error_text(a, msg);
	strbuf_init(&sb, a, strlen(msg) + (strlen(msg) / tn + 1) * 10);
	for (p = msg; (hit = strstr(p, d->token)) != NULL; p = hit + tn) {
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_adds(&sb, "[redacted]");
	}
	strbuf_adds(&sb, p);
	return strbuf_cstr(&sb) ? exec_error_text(a, strbuf_cstr(&sb)) : NULL;
}

static int dbx_run(struct executor *ex, struct arena *a, const struct exec_step *s,
		   struct exec_result *res)
{
	struct dbx *d = ex->state;
	double t0 = now_seconds();
	struct step_sql p;
	struct stmt st;
	int i, rc;

	memset(res, 0, sizeof(*res));
	res->rows = -1;
	if (d->http == NULL)
		return IL_ERR;                 /* run after close */
	rc = dbx_step_statements(&p, a, s);
	if (rc == IL_EINVALID) {
		res->error = exec_error_text(a, "step has an invalid name, key, range or SQL");
		rc = res->error != NULL ? 0 : IL_ENOMEM;
		goto out;
	}
	for (i = 0; rc == 0 && i < p.n; i++) {
		memset(&st, 0, sizeof(st));
		st.rows = -1;
		if ((rc = run_statement(d, a, s, p.sql[i], p.with_schema[i], &st)) < 0)
			goto out;
		res->statement_id = st.id;     /* of the last statement tried */
		if (!st.ok) {
			res->error = error_text(d, a, st.error);
			rc = res->error != NULL ? 0 : IL_ENOMEM;
			goto out;
		}
		res->rows = st.rows;
	}
	res->ok = rc == 0;
out:
	res->runtime_seconds = now_seconds() - t0;
	return rc;
}

static void dbx_close(struct executor *ex)
{
	struct dbx *d = ex ? ex->state : NULL;

	if (d == NULL)
		return;
	httpc_close(d->http);
	d->http = NULL;
}

static void close_hook(void *ex)
{
	dbx_close(ex);
}

static int opts_ok(const struct exec_databricks_opts *o)
{
	return o->host != NULL && o->address != NULL &&
	       o->token != NULL && *o->token != '\0' && strpbrk(o->token, "\r\n") == NULL &&
	       o->warehouse_id != NULL && *o->warehouse_id != '\0' && o->timeout_seconds > 0 &&
	       o->poll_interval_ms > 0 && o->max_retries >= 0 && o->max_retries <= 20;
}

/*
 * The host's one "host:port:address" entry, so curl connects to the address
 * that was checked and never asks DNS itself. An address literal host needs
 * none, but must be that address. 0, IL_EINVALID or IL_ENOMEM.
 */
static int pin_address(struct dbx *d, struct arena *a, const struct exec_dbx_url *u,
		       const char *address)
{
	struct net_addr want, got;
	const char *entry;

	if (net_addr_parse(&want, address) < 0)
		return IL_EINVALID;
	if (u->literal)
		return net_addr_parse(&got, u->host) == 0 && got.family == want.family &&
		       memcmp(got.b, want.b, sizeof(got.b)) == 0 ? 0 : IL_EINVALID;
	entry = arena_printf(a, want.family == AF_INET6 ? "%s:%ld:[%s]" : "%s:%ld:%s", u->host,
			     u->port, address);
	d->resolve = entry;
	return entry != NULL ? 0 : IL_ENOMEM;
}

/*
 * The one handle every request of the executor goes through: HTTPS only, to
 * the pinned address, no redirect followed, no proxy from the environment (a
 * proxy would resolve the name itself), TLS verified (against ca_file too
 * when set), answers capped. The Authorization line is the only copy the
 * handle keeps of the token.
 */
static int open_http(struct dbx *d, struct arena *a, const char *ca_file)
{
	struct httpc_options o;
	const char *lines[5];

	lines[0] = arena_printf(a, "Authorization: Bearer %s", d->token);
	lines[1] = "Content-Type: application/json";
	lines[2] = "Accept: application/json";
	lines[3] = "Expect:";
	lines[4] = NULL;
	if (lines[0] == NULL)
		return IL_ENOMEM;
	memset(&o, 0, sizeof(o));
	o.allow_http = 0;
	o.max_redirects = 0;
	o.no_proxy = 1;
	o.timeout_seconds = DBX_HTTP_TIMEOUT_S;
	o.connect_timeout_seconds = DBX_CONNECT_TIMEOUT_S;
	o.max_response = DBX_MAX_RESPONSE;
	o.headers = lines;
	o.resolve = d->resolve;
	o.ca_file = ca_file != NULL && *ca_file != '\0' ? ca_file : NULL;
	return httpc_open(&d->http, &o);
}

int exec_databricks_open(struct executor **out, struct arena *a,
			 const struct exec_databricks_opts *opts)
{
	struct executor *ex = arena_calloc(a, 1, sizeof(*ex));
	struct dbx *d = arena_calloc(a, 1, sizeof(*d));
	struct exec_dbx_url u;
	const char *why;
	int rc;

	*out = NULL;
	if (!opts_ok(opts))
		return IL_EINVALID;
	if (ex == NULL || d == NULL)
		return IL_ENOMEM;
	if ((rc = exec_dbx_url_parse(&u, &why, a, opts->host)) < 0)
		return rc;
	d->host = u.base;
	d->token = arena_strdup(a, opts->token);
	d->warehouse_id = arena_strdup(a, opts->warehouse_id);
	d->timeout_seconds = opts->timeout_seconds;
	d->poll_interval_ms = opts->poll_interval_ms;
	d->max_retries = opts->max_retries;
	ex->name = "databricks";
	ex->run = dbx_run;
	ex->close = dbx_close;
	ex->state = d;
	/* closes the handle at the arena's reset if the caller never does; close is idempotent */
	if (arena_on_reset(a, close_hook, ex) < 0)
		return IL_ENOMEM;
	if ((rc = pin_address(d, a, &u, opts->address)) < 0)
		return rc;
	if (d->token == NULL || d->warehouse_id == NULL || open_http(d, a, opts->ca_file) < 0) {
		dbx_close(ex);
		return IL_ENOMEM;
	}
	*out = ex;
	return 0;
}
