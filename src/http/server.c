/* server.c: the FastCGI accept loop, request reading and response writing */
#include "http/server.h"

#include <fcgiapp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/db.h"
#include "http/query.h"
#include "http/req.h"
#include "http/respcache.h"
#include "http/router.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/parse.h"

static volatile sig_atomic_t stopping;

static void on_stop_signal(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked accept() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int request_id_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return n > 0 && n <= IL_MAX_REQUEST_ID;
}

static void set_request_id(struct req *r)
{
	const char *given = req_header(r, "X-Request-Id");
	unsigned char raw[16];

	if (given != NULL && request_id_ok(given)) {
		memcpy(r->request_id, given, strlen(given) + 1);
		return;
	}
	if (crypto_random(raw, sizeof(raw)) < 0)
		memset(raw, 0, sizeof(raw));
	hex_encode(raw, sizeof(raw), r->request_id);
}

/* Reads the body, or marks it too large without reading it. */
static void read_body(struct req *r, FCGX_Request *fr)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	long max = r->cfg->max_body_bytes;
	int64_t len = 0;
	char *buf;

	if (cl == NULL || *cl == '\0')
		return;
	if (parse_i64(cl, 0, INT64_MAX, &len) < 0 || len > max) {
		r->body_too_large = 1;
		return;
	}
	if (len == 0)
		return;
	buf = arena_alloc(r->arena, (size_t)len + 1);
	if (buf == NULL) {
		r->body_too_large = 1;
		return;
	}
	r->body_len = (size_t)FCGX_GetStr(buf, (int)len, fr->in);
	buf[r->body_len] = '\0';
	r->body = buf;
}

/*
 * lighttpd answers a POST without Content-Length (curl -X POST, no -d) with
 * 411 itself. Its server.error-handler (fcgi-conf/lighttpd.conf) hands such
 * an error to us as a GET with the error in REDIRECT_STATUS (otherwise 200)
 * and the original REQUEST_URI; only the web server sets REDIRECT_STATUS
 * (client headers come as HTTP_*). The error status, or 0.
 */
static int web_server_error(FCGX_Request *fr)
{
	const char *st = FCGX_GetParam("REDIRECT_STATUS", fr->envp);
	int64_t status = 0;

	if (st == NULL || parse_i64(st, 400, 599, &status) < 0)
		return 0;
	return (int)status;
}

static void read_request(struct req *r, FCGX_Request *fr)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	const char *m = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	const char *q, *https;

	r->method = m ? m : "GET";
	r->web_error = web_server_error(fr);
	/* a 411 only ever comes from a POST: served as that POST with an empty
	 * body, which JSON routes read as {}; any other error is answered as such */
	if (r->web_error == 411) {
		r->method = "POST";
		r->web_error = 0;
		r->bodiless_post = 1;
	}
	if (uri == NULL)
		uri = FCGX_GetParam("SCRIPT_NAME", fr->envp);
	if (uri == NULL || *uri == '\0')
		uri = "/";
	q = strchr(uri, '?');
	r->path = q ? arena_strndup(r->arena, uri, (size_t)(q - uri)) : uri;
	if (r->path == NULL)
		r->path = "/";
	query_parse(r, q ? q + 1 : FCGX_GetParam("QUERY_STRING", fr->envp));
	r->content_type = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	r->remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	https = FCGX_GetParam("HTTPS", fr->envp);
	r->tls = https != NULL && strcasecmp(https, "on") == 0;
	set_request_id(r);
	if (web_server_error(fr) == 0)    /* a handed-over error has no body left */
		read_body(r, fr);
}

/* The JSON of an error the web server met itself (as in fcgi-conf/errors/). */
static void answer_web_error(struct req *r)
{
	static const struct {
		int status;
		const char *code, *detail;
	} errors[] = {
		{ 400, "bad_request", "bad request" }, { 403, "forbidden", "forbidden" },
		{ 404, "not_found", "not found" },
		{ 405, "method_not_allowed", "method not allowed" },
		{ 408, "request_timeout", "request timeout" },
		{ 413, "payload_too_large", "request too large" },
		{ 414, "uri_too_long", "request URI too long" },
		{ 416, "range_not_satisfiable", "range not satisfiable" },
		{ 417, "expectation_failed", "expectation failed" },
		{ 431, "request_header_fields_too_large", "request header fields too large" },
		{ 501, "not_implemented", "not implemented" },
		{ 502, "bad_gateway", "bad gateway" },
		{ 503, "service_unavailable", "service unavailable" },
		{ 504, "gateway_timeout", "gateway timeout" },
		{ 505, "http_version_not_supported", "HTTP version not supported" },
	};
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].status == r->web_error) {
			req_error(r, r->web_error, errors[i].code, "%s", errors[i].detail);
			return;
		}
	if (r->web_error >= 500)
		req_error(r, 500, "internal_error", "internal server error");
	else
		req_error(r, 400, "bad_request", "bad request");
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : "Error";
	}
}

/*
 * The only place response headers are written. (Formatting happens here, not
 * in FCGX_FPrintF, whose printf subset lacks %zu.)
 */
static void write_response(struct req *r, FCGX_Request *fr)
{
	const char *extra = strbuf_cstr(&r->headers);
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n", r->status,
		     reason_phrase(r->status));
	if (r->body_out != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: %s\r\n"
			      "Content-Length: %zu\r\n",
			      r->type_out ? r->type_out : "application/json; charset=utf-8",
			      r->body_out_len);
	snprintf(head + n, sizeof(head) - (size_t)n,
		 "X-Content-Type-Options: nosniff\r\n"
		 "Cache-Control: no-store\r\n"
		 "X-Request-Id: %s\r\n", r->request_id);
	FCGX_PutS(head, fr->out);
	if (extra != NULL)
		FCGX_PutS(extra, fr->out);
	FCGX_PutS("\r\n", fr->out);
	if (r->body_out != NULL && strcmp(r->method, "HEAD") != 0)
		FCGX_PutStr(r->body_out, (int)r->body_out_len, fr->out);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* One access-log line; the path only (query strings may carry secrets). */
static void log_request(struct req *r, const struct timespec *t0)
{
	struct strbuf sb;
	char ts[32];
	const char *line;

	if (!log_enabled(IL_LOG_INFO))
		return;
	log_timestamp(ts, sizeof(ts));
	strbuf_init(&sb, r->arena, IL_MAX_LOG_LINE);
	strbuf_addf(&sb, "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"method\":", ts);
	strbuf_add_json_string(&sb, r->method, strlen(r->method));
	strbuf_adds(&sb, ",\"path\":");
	strbuf_add_json_string(&sb, r->path, strnlen(r->path, 512));
	strbuf_addf(&sb, ",\"status\":%d,\"duration_ms\":%.3f,\"request_id\":\"%s\"",
		    r->status, ms_since(t0), r->request_id);
	if (r->who.tenant_id != NULL)
		strbuf_addf(&sb, ",\"tenant_id\":\"%s\"", r->who.tenant_id);
	if (r->error_code != NULL)
		strbuf_addf(&sb, ",\"error\":\"%s\"", r->error_code);
	strbuf_addc(&sb, '}');
	line = strbuf_cstr(&sb);
	if (line != NULL)
		log_line(line);
}

static void serve_one(const struct http_app *app, const struct il_config *cfg,
		      struct db *db, void *ctx, struct arena *a, FCGX_Request *fr)
{
	struct timespec t0;
	struct req r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	req_init(&r, a, cfg, db, fr->envp);
	r.ctx = ctx;
	read_request(&r, fr);
	if (r.web_error)
		answer_web_error(&r);
	else
		http_dispatch(app, &r);
	db_rollback(db, a); /* a handler that left a transaction open loses it */
	write_response(&r, fr);
	log_request(&r, &t0);
}

int http_serve(const struct http_app *app, const struct il_config *cfg,
	       struct db *db, void *ctx, int listen_fd)
{
	struct arena *a = arena_new(0);
	FCGX_Request fr;

	if (a == NULL || FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
		log_error("cannot initialise FastCGI");
		arena_free(a);
		return -1;
	}
	install_signals();
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		serve_one(app, cfg, db, ctx, a, &fr);
		FCGX_Finish_r(&fr);
		arena_reset(a);
	}
	FCGX_Free(&fr, 1);
	arena_free(a);
	respcache_clear();
	return 0;
}
