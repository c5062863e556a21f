/* test_http.c: SQL splitting, query decoding, routing, dispatch errors, bodies, CORS, CSRF,
 * client address, slots */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/migrate.h"
#include "http/body.h"
#include "http/csrf.h"
#include "http/query.h"
#include "http/req.h"
#include "http/router.h"
#include "http/slots.h"
#include "suites.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"

struct collected {
	char stmt[8][128];
	int n;
};

static int collect(const char *s, size_t n, void *arg)
{
	struct collected *c = arg;

	ck_assert_int_lt(c->n, 8);
	ck_assert_uint_lt(n, 128);
	memcpy(c->stmt[c->n], s, n);
	c->stmt[c->n][n] = '\0';
	c->n++;
	return 0;
}

START_TEST(test_sqlsplit__honours_quotes_comments_and_dollar_quotes)
{
	const char *sql =
		"CREATE TABLE a (x text DEFAULT ';');\n"
		"-- a comment; with a semicolon\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
		"/* block; /* nested; */ still */ SELECT \"we;ird\";\n"
		"   \n-- trailing comment only\n";
	struct collected c = { .n = 0 };

	ck_assert_int_eq(sql_split(sql, strlen(sql), collect, &c), 0);
	ck_assert_int_eq(c.n, 3);
	ck_assert_str_eq(c.stmt[0], "CREATE TABLE a (x text DEFAULT ';')");
	ck_assert_str_eq(c.stmt[1], "\n-- a comment; with a semicolon\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$");
	ck_assert_str_eq(c.stmt[2], "\n/* block; /* nested; */ still */ SELECT \"we;ird\"");
}
END_TEST

Suite *suite_sqlsplit(void)
{
	Suite *s = suite_create("sqlsplit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sqlsplit__honours_quotes_comments_and_dollar_quotes);
	suite_add_tcase(s, tc);
	return s;
}

START_TEST(test_query__decodes_and_rejects_bad_escapes)
{
	struct arena *a = arena_new(0);
	struct req r;

	ck_assert_str_eq(percent_decode(a, "a%2Fb+c", 7, 1), "a/b c");
	ck_assert_str_eq(percent_decode(a, "a%2Fb+c", 7, 0), "a/b+c");
	ck_assert_ptr_null(percent_decode(a, "%4", 2, 1));
	ck_assert_ptr_null(percent_decode(a, "%zz", 3, 1));
	ck_assert_ptr_null(percent_decode(a, "a%00b", 5, 1));
	ck_assert_ptr_null(percent_decode(a, "%0a", 3, 1));

	req_init(&r, a, NULL, NULL, NULL);
	query_parse(&r, "limit=5&search=orders%20daily&flag&&tag=a");
	ck_assert_int_eq(r.nquery, 4);
	ck_assert_str_eq(req_query(&r, "limit"), "5");
	ck_assert_str_eq(req_query(&r, "search"), "orders daily");
	ck_assert_str_eq(req_query(&r, "flag"), "");
	ck_assert_ptr_null(req_query(&r, "nope"));
	ck_assert_int_eq(r.query_invalid, 0);

	req_init(&r, a, NULL, NULL, NULL);
	query_parse(&r, "x=%ZZ");
	ck_assert_int_eq(r.query_invalid, 1);
	arena_free(a);
}
END_TEST

Suite *suite_query(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_query__decodes_and_rejects_bad_escapes);
	suite_add_tcase(s, tc);
	return s;
}

static int echo_params(struct req *r)
{
	json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < r->nparam; i++)
		json_object_object_add(o, i == 0 ? "p0" : "p1",
				       json_object_new_string(r->param[i]));
	req_json(r, 200, o);
	return 0;
}

static const struct field echo_fields[] = {
	{ "email", FIELD_STRING, 1, 16, 0, 0, NULL },
	{ "count", FIELD_INT, 0, 0, 1, 10, NULL },
};

static int echo_body(struct req *r)
{
	struct field_value v[2];

	if (body_read(r, echo_fields, 2, v) != 0)
		return 0;
	req_json(r, 201, json_object_new_string(v[0].str));
	return 0;
}

static int fake_auth(struct req *r)
{
	const char *h = req_header(r, "Authorization");

	if (h == NULL) {
		req_error(r, 401, "not_authenticated", "missing bearer token");
		return -1;
	}
	r->who.role = strcmp(h, "Bearer admin") == 0 ? ROLE_ADMIN : ROLE_VIEWER;
	return 0;
}

struct fixture {
	struct arena *a;
	struct il_config cfg;
	struct req r;
	char *env[8];
	int nenv;
	char run_dir[64];
};

static struct fixture fx;

/* Long work: by the time it runs, it holds the only slot (a second take fails). */
static int long_work(struct req *r)
{
	int fd = slot_take(fx.run_dir, r->cfg->apply_workers);

	ck_assert_int_eq(fd, IL_ECONFLICT);
	req_json(r, 200, json_object_new_string("done"));
	return 0;
}

static const struct route test_routes[] = {
	{ "GET", "/api/v1/models/:name", echo_params, ROLE_VIEWER, 0, "t" },
	{ "GET", "/api/v1/plans/:id/runs/:run", echo_params, ROLE_NONE, ROUTE_PUBLIC, "t" },
	{ "DELETE", "/api/v1/models/:name", echo_params, ROLE_ADMIN, 0, "t" },
	{ "POST", "/api/v1/echo", echo_body, ROLE_NONE, ROUTE_PUBLIC | ROUTE_JSON_BODY, "t" },
	{ "POST", "/api/v1/long", long_work, ROLE_NONE, ROUTE_PUBLIC | ROUTE_LONG, "t" },
};
static const struct http_app test_app = { test_routes, 5, fake_auth, NULL, NULL, NULL, NULL };

static struct req *request(const char *method, const char *path, const char *auth)
{
	arena_reset(fx.a);
	memset(fx.env, 0, sizeof(fx.env));
	fx.nenv = 0;
	if (auth != NULL)
		fx.env[fx.nenv++] = arena_printf(fx.a, "HTTP_AUTHORIZATION=%s", auth);
	req_init(&fx.r, fx.a, &fx.cfg, NULL, fx.env);
	fx.r.method = method;
	fx.r.path = path;
	return &fx.r;
}

static void setup(void)
{
	fx.a = arena_new(0);
	memset(&fx.cfg, 0, sizeof(fx.cfg));
	fx.cfg.max_body_bytes = 1024;
	snprintf(fx.run_dir, sizeof(fx.run_dir), "/tmp/ironlayer-slots.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.run_dir));
	fx.cfg.run_dir = fx.run_dir;
	fx.cfg.apply_workers = 1;
}

static void teardown(void)
{
	char cmd[128];

	arena_free(fx.a);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.run_dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Adds a FastCGI parameter ("HTTP_ORIGIN=...") to the current request. */
static void with_env(const char *kv)
{
	ck_assert_int_lt(fx.nenv, 7);
	fx.env[fx.nenv++] = arena_strdup(fx.a, kv);
}

START_TEST(test_router__captures_decoded_params_with_dots)
{
	struct req *r = request("GET", "/api/v1/plans/3f%2A/runs/r1", NULL);

	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body_out, "{\"p0\":\"3f*\",\"p1\":\"r1\"}");

	r = request("GET", "/api/v1/models/analytics.orders_daily", "Bearer v");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body_out, "{\"p0\":\"analytics.orders_daily\"}");
}
END_TEST

START_TEST(test_router__unknown_path_is_404_json)
{
	struct req *r = request("GET", "/api/v1/models", NULL);

	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 404);
	ck_assert_str_eq(r->body_out,
			 "{\"detail\":\"no such resource: /api/v1/models\",\"code\":\"not_found\"}");
	r = request("GET", "/api/v1/models/", NULL);
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 404);
	r = request("GET", "/api/v1/models/a/b", NULL);
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 404);
}
END_TEST

START_TEST(test_router__wrong_method_is_405_with_allow)
{
	struct req *r = request("PUT", "/api/v1/models/x", NULL);

	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 405);
	ck_assert_str_eq(strbuf_cstr(&r->headers), "Allow: GET, DELETE\r\n");
	ck_assert_str_eq(r->error_code, "method_not_allowed");
}
END_TEST

START_TEST(test_router__authentication_then_role)
{
	struct req *r = request("DELETE", "/api/v1/models/x", NULL);

	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 401);
	r = request("DELETE", "/api/v1/models/x", "Bearer viewer");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 403);
	ck_assert_str_eq(r->body_out,
			 "{\"detail\":\"this action needs the admin role\",\"code\":\"forbidden\"}");
	r = request("DELETE", "/api/v1/models/x", "Bearer admin");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 200);
}
END_TEST

static struct req *post(const char *ctype, const char *body)
{
	struct req *r = request("POST", "/api/v1/echo", NULL);

	r->content_type = ctype;
	r->body = body;
	r->body_len = strlen(body);
	return r;
}

START_TEST(test_dispatch__body_errors_have_their_statuses)
{
	struct req *r = post("text/plain", "{}");

	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 415);
	r = post("application/json; charset=utf-8", "{\"email\": ");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 400);
	ck_assert_str_eq(r->error_code, "invalid_json");
	r = post("application/json", "{} trailing");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 400);
	r = post("application/json", "[1]");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 422);
	r = post("application/json", "{}");
	r->body_too_large = 1;
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 413);
	ck_assert_str_eq(r->body_out, "{\"detail\":\"request body exceeds 1024 bytes\","
				      "\"code\":\"payload_too_large\"}");
}
END_TEST

START_TEST(test_body__every_bad_field_is_listed_with_its_loc)
{
	struct req *r = post("application/json", "{\"email\": 5, \"count\": 11}");

	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 422);
	ck_assert_str_eq(r->body_out,
		"{\"detail\":[{\"loc\":[\"body\",\"email\"],\"msg\":\"Input should be a valid string\","
		"\"type\":\"string_type\"},{\"loc\":[\"body\",\"count\"],"
		"\"msg\":\"Input should be between 1 and 10\",\"type\":\"range_error\"}],"
		"\"code\":\"validation_error\"}");
	r = post("application/json", "");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 422);
	ck_assert_ptr_nonnull(strstr(r->body_out, "\"Field required\""));
	r = post("application/json", "{\"email\": \"a\\u0000b\"}");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 422);
	r = post("application/json", "{\"email\": \"12345678901234567\"}");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 422);
	r = post("application/json", "{\"email\": \"ok@x\", \"extra\": [1]}");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 201);
	ck_assert_str_eq(r->body_out, "\"ok@x\"");
}
END_TEST

START_TEST(test_body__query_int_bounds)
{
	struct req *r = request("GET", "/x", NULL);
	int64_t v;

	query_parse(r, "limit=0&offset=abc&n=7");
	ck_assert_int_eq(query_int(r, "n", 20, 1, 100, &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(query_int(r, "missing", 20, 1, 100, &v), 0);
	ck_assert_int_eq(v, 20);
	ck_assert_int_eq(query_int(r, "limit", 20, 1, 100, &v), -1);
	ck_assert_int_eq(query_int(r, "offset", 0, 0, 1000, &v), -1);
	ck_assert_int_eq(req_validation_finish(r), 1);
	ck_assert_int_eq(r->status, 422);
	ck_assert_ptr_nonnull(strstr(r->body_out, "\"loc\":[\"query\",\"limit\"]"));
	ck_assert_ptr_nonnull(strstr(r->body_out, "\"type\":\"int_parsing\""));
}
END_TEST

START_TEST(test_slots__n_at_once_then_conflict_until_one_is_released)
{
	int a = slot_take(fx.run_dir, 2), b = slot_take(fx.run_dir, 2), c;

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(slot_take(fx.run_dir, 2), IL_ECONFLICT);
	slot_release(a);
	c = slot_take(fx.run_dir, 2);
	ck_assert_int_ge(c, 0);
	slot_release(b);
	slot_release(c);
	ck_assert_int_eq(slot_take("/nonexistent/ironlayer-run", 2), IL_EUNAVAIL);
}
END_TEST

START_TEST(test_dispatch__long_work_without_a_free_slot_is_503_apply_busy_at_once)
{
	int held = slot_take(fx.run_dir, 1);
	struct req *r = request("POST", "/api/v1/long", NULL);

	ck_assert_int_ge(held, 0);
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 503);
	ck_assert_str_eq(r->error_code, "apply_busy");
	ck_assert_str_eq(strbuf_cstr(&r->headers), "Retry-After: 5\r\n");
	slot_release(held);
	r = request("POST", "/api/v1/long", NULL);
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 200);
	/* and the dispatcher gave the slot back */
	held = slot_take(fx.run_dir, 1);
	ck_assert_int_ge(held, 0);
	slot_release(held);
}
END_TEST

START_TEST(test_cors__preflight_only_for_allowed_origins)
{
	struct req *r;
	const char *h;

	fx.cfg.cors_allowed_origins = "https://app.example.com, http://localhost:5173";
	r = request("OPTIONS", "/api/v1/models/x", NULL);
	with_env("HTTP_ORIGIN=https://app.example.com");
	with_env("HTTP_ACCESS_CONTROL_REQUEST_METHOD=DELETE");
	http_dispatch(&test_app, r);           /* no credentials, yet no 401: a preflight */
	ck_assert_int_eq(r->status, 204);
	ck_assert_ptr_null(r->body_out);
	h = strbuf_cstr(&r->headers);
	ck_assert_ptr_nonnull(strstr(h, "Access-Control-Allow-Origin: https://app.example.com\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "Access-Control-Allow-Credentials: true\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "Access-Control-Expose-Headers: X-Total-Count, Link"));
	ck_assert_ptr_nonnull(strstr(h, "Access-Control-Allow-Methods: GET, DELETE, OPTIONS\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "X-CSRF-Token"));
	ck_assert_ptr_nonnull(strstr(h, "Allow: GET, DELETE, OPTIONS\r\n"));

	r = request("OPTIONS", "/api/v1/models/x", NULL);
	with_env("HTTP_ORIGIN=https://evil.example.net");
	with_env("HTTP_ACCESS_CONTROL_REQUEST_METHOD=DELETE");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 204);
	ck_assert_ptr_null(strstr(strbuf_cstr(&r->headers), "Access-Control"));

	r = request("OPTIONS", "/api/v1/nothing", NULL);
	with_env("HTTP_ORIGIN=https://app.example.com");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 404);
	/* an allowed origin reads every answer, errors included */
	r = request("DELETE", "/api/v1/models/x", NULL);
	with_env("HTTP_ORIGIN=http://localhost:5173");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 401);
	ck_assert_ptr_nonnull(strstr(strbuf_cstr(&r->headers),
				     "Access-Control-Allow-Origin: http://localhost:5173\r\n"));
	fx.cfg.cors_allowed_origins = "";
	r = request("GET", "/api/v1/models/x", "Bearer v");
	with_env("HTTP_ORIGIN=https://app.example.com");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_null(strstr(strbuf_cstr(&r->headers), "Access-Control"));
}
END_TEST

START_TEST(test_csrf__cookie_posts_need_the_matching_header)
{
	char good[IL_SHA256_HEX_LEN + 1], line[128];
	struct req *r;

	fx.cfg.jwt_secret = "0123456789abcdef0123456789abcdef";
	csrf_token_for(&fx.cfg, "the-refresh-token", good);
	r = post("application/json", "{\"email\": \"a@b\"}");
	with_env("HTTP_COOKIE=csrf_token=x; refresh_token=the-refresh-token");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 403);
	ck_assert_str_eq(r->error_code, "csrf_required");

	r = post("application/json", "{\"email\": \"a@b\"}");
	with_env("HTTP_COOKIE=refresh_token=the-refresh-token");
	with_env("HTTP_X_CSRF_TOKEN=0000000000000000000000000000000000000000000000000000000000000000");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 403);
	ck_assert_str_eq(r->error_code, "csrf_mismatch");

	r = post("application/json", "{\"email\": \"a@b\"}");
	with_env("HTTP_COOKIE=refresh_token=the-refresh-token");
	snprintf(line, sizeof(line), "HTTP_X_CSRF_TOKEN=%s", good);
	with_env(line);
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 201);

	/* no session cookie (the CLI, bearer clients): no CSRF rule */
	r = post("application/json", "{\"email\": \"a@b\"}");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 201);
	/* safe methods are never checked */
	r = request("GET", "/api/v1/plans/1/runs/2", NULL);
	with_env("HTTP_COOKIE=refresh_token=the-refresh-token");
	http_dispatch(&test_app, r);
	ck_assert_int_eq(r->status, 200);
}
END_TEST

START_TEST(test_req__cookies_are_parsed_and_set_with_their_flags)
{
	struct req *r = request("GET", "/x", NULL);

	with_env("HTTP_COOKIE=a=1; refresh_token=abc_-DEF; csrf_token=ff");
	ck_assert_str_eq(req_cookie(r, "refresh_token"), "abc_-DEF");
	ck_assert_str_eq(req_cookie(r, "csrf_token"), "ff");
	ck_assert_ptr_null(req_cookie(r, "refresh"));
	ck_assert_ptr_null(req_cookie(r, "b"));
	req_set_cookie(r, "refresh_token", "v", "/api/v1/auth", 60, COOKIE_HTTPONLY);
	r->tls = 1;
	req_set_cookie(r, "csrf_token", "w", "/", 0, 0);
	ck_assert_str_eq(strbuf_cstr(&r->headers),
		"Set-Cookie: refresh_token=v; Path=/api/v1/auth; Max-Age=60; SameSite=Strict;"
		" HttpOnly\r\n"
		"Set-Cookie: csrf_token=w; Path=/; Max-Age=0; SameSite=Strict; Secure\r\n");
}
END_TEST

START_TEST(test_req__client_address_trusts_only_configured_proxies)
{
	struct req *r;

	fx.cfg.trusted_proxies = "10.0.0.0/8, 127.0.0.9";
	/* an untrusted peer: its X-Forwarded-For is ignored */
	r = request("GET", "/x", NULL);
	r->remote_addr = "198.51.100.4";
	with_env("HTTP_X_FORWARDED_FOR=203.0.113.1");
	ck_assert_str_eq(req_client_addr(r), "198.51.100.4");
	/* a trusted proxy: the right-most entry that is not a trusted proxy */
	r = request("GET", "/x", NULL);
	r->remote_addr = "127.0.0.9";
	with_env("HTTP_X_FORWARDED_FOR=203.0.113.66, 198.51.100.7, 10.1.1.1");
	ck_assert_str_eq(req_client_addr(r), "198.51.100.7");
	/* garbage where the client should be: the last trusted hop */
	r = request("GET", "/x", NULL);
	r->remote_addr = "127.0.0.9";
	with_env("HTTP_X_FORWARDED_FOR=1.2.3.4, <script>, 10.1.1.1");
	ck_assert_str_eq(req_client_addr(r), "10.1.1.1");
	/* only trusted entries: the left-most one */
	r = request("GET", "/x", NULL);
	r->remote_addr = "127.0.0.9";
	with_env("HTTP_X_FORWARDED_FOR=10.2.2.2,10.1.1.1");
	ck_assert_str_eq(req_client_addr(r), "10.2.2.2");
	/* no other header is believed */
	r = request("GET", "/x", NULL);
	r->remote_addr = "127.0.0.9";
	with_env("HTTP_X_REAL_IP=203.0.113.5");
	with_env("HTTP_FORWARDED=for=203.0.113.5");
	ck_assert_str_eq(req_client_addr(r), "127.0.0.9");
	r = request("GET", "/x", NULL);
	ck_assert_str_eq(req_client_addr(r), "unknown");
}
END_TEST

Suite *suite_router(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("dispatch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_router__captures_decoded_params_with_dots);
	tcase_add_test(tc, test_router__unknown_path_is_404_json);
	tcase_add_test(tc, test_router__wrong_method_is_405_with_allow);
	tcase_add_test(tc, test_router__authentication_then_role);
	tcase_add_test(tc, test_dispatch__body_errors_have_their_statuses);
	tcase_add_test(tc, test_cors__preflight_only_for_allowed_origins);
	tcase_add_test(tc, test_csrf__cookie_posts_need_the_matching_header);
	tcase_add_test(tc, test_req__cookies_are_parsed_and_set_with_their_flags);
	tcase_add_test(tc, test_req__client_address_trusts_only_configured_proxies);
	tcase_add_test(tc, test_slots__n_at_once_then_conflict_until_one_is_released);
	tcase_add_test(tc, test_dispatch__long_work_without_a_free_slot_is_503_apply_busy_at_once);
	suite_add_tcase(s, tc);
	return s;
}

Suite *suite_body(void)
{
	Suite *s = suite_create("body");
	TCase *tc = tcase_create("fields");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_body__every_bad_field_is_listed_with_its_loc);
	tcase_add_test(tc, test_body__query_int_bounds);
	suite_add_tcase(s, tc);
	return s;
}
