/* test_sessions.c: sessions end at once (role, disable, logout, password), cookie sessions, CORS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#include "session_util.h"

#define ALLOWED_ORIGIN "http://app.ironlayer.test"   /* cors_allowed_origins of the test stack */

static long status_of(const char *method, const char *path, const char *token,
		      const char *body)
{
	struct resp *r = body ? api_json(method, path, token, body) :
			 api(method, path, token, NULL, NULL, NULL);
	long s = r->status;

	resp_free(r);
	return s;
}

/* An admin-only route without a tenant transaction of the dispatcher's (its own). */
#define ADMIN_OWN_TXN_ROUTE "/api/v1/billing/checkout"
#define CHECKOUT_BODY "{\"tier\":\"team\",\"success_url\":\"https://app.example.com/ok\"," \
	"\"cancel_url\":\"https://app.example.com/no\"}"

START_TEST(test_sessions__demoted_admin_gets_403_with_the_old_token)
{
	struct tenant t;
	char args[256];
	struct resp *r;

	tenant_new(&t, "demote");
	ck_assert_int_eq(status_of("DELETE", "/api/v1/settings/llm-key", t.token, NULL), 200);
	snprintf(args, sizeof(args), "user set-role --email %s --role viewer", t.email);
	ck_assert_int_eq(run_cli(args, NULL, NULL), 0);
	/* the same token, not refreshed: the role is the database's, now */
	r = api("DELETE", "/api/v1/settings/llm-key", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 403);
	ck_assert_str_eq(resp_str(r, "code"), "forbidden");
	resp_free(r);
	ck_assert_int_eq(status_of("POST", ADMIN_OWN_TXN_ROUTE, t.token, CHECKOUT_BODY), 403);
	ck_assert_int_eq(status_of("POST", "/api/v1/environments", t.token,
				   "{\"name\":\"nope\",\"schema_prefix\":\"nope\"}"), 403);
	r = api("GET", "/api/v1/auth/me", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);      /* still a viewer */
	ck_assert_str_eq(resp_str(r, "role"), "viewer");
	resp_free(r);
	tenant_free(&t);
}
END_TEST

/* An access token for user/tenant claiming role and epoch, signed with the stack's secret. */
static char *forge(const char *sub, const char *tenant, const char *role, long epoch)
{
	char *secret = conf_value("jwt_secret"), *enc;
	long now = (long)time(NULL);
	jwt_t *jwt;

	ck_assert_int_eq(jwt_new(&jwt), 0);
	jwt_add_grant(jwt, "sub", sub);
	jwt_add_grant(jwt, "tenant_id", tenant);
	jwt_add_grant(jwt, "role", role);
	jwt_add_grant(jwt, "jti", "forged");
	jwt_add_grant(jwt, "iss", "ironlayer");
	jwt_add_grant(jwt, "typ", "access");
	jwt_add_grant_int(jwt, "iat", now - 5);
	jwt_add_grant_int(jwt, "exp", now + 600);
	jwt_add_grant_int(jwt, "epoch", epoch);
	jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
	enc = jwt_encode_str(jwt);
	jwt_free(jwt);
	free(secret);
	return enc;
}

START_TEST(test_sessions__role_claim_is_informational_and_epoch_must_match)
{
	char viewer[160], args[512], *sub, *tok;
	struct tenant t;
	struct resp *r;

	tenant_new(&t, "claim");
	snprintf(viewer, sizeof(viewer), "%s@example.com", unique("claimv"));
	snprintf(args, sizeof(args), "user add --tenant %s --email %s --role viewer",
		 t.tenant_id, viewer);
	ck_assert_int_eq(run_cli(args, "viewer password 1\n", NULL), 0);
	{
		char *b = login_json(viewer, "viewer password 1");

		r = api_json("POST", "/api/v1/auth/login", NULL, b);
		free(b);
	}
	ck_assert_status(r, 200);
	sub = must_str(r, "user.id");
	resp_free(r);
	/* a token saying "admin" for a viewer: the database says viewer */
	tok = forge(sub, t.tenant_id, "admin", 0);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", tok, NULL), 200);
	ck_assert_int_eq(status_of("DELETE", "/api/v1/settings/llm-key", tok, NULL), 403);
	ck_assert_int_eq(status_of("POST", ADMIN_OWN_TXN_ROUTE, tok, CHECKOUT_BODY), 403);
	free(tok);
	/* a token of an epoch the user is not at */
	tok = forge(sub, t.tenant_id, "viewer", 7);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	ck_assert_int_eq(status_of("POST", ADMIN_OWN_TXN_ROUTE, tok, CHECKOUT_BODY), 401);
	free(tok);
	free(sub);
	tenant_free(&t);
}
END_TEST

START_TEST(test_sessions__disable_ends_the_access_token_at_once)
{
	struct tenant t;
	char args[256];

	tenant_new(&t, "disable");
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", t.token, NULL), 200);
	snprintf(args, sizeof(args), "user disable --email %s", t.email);
	ck_assert_int_eq(run_cli(args, NULL, NULL), 0);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", t.token, NULL), 401);
	ck_assert_int_eq(status_of("GET", "/api/v1/plans", t.token, NULL), 401);
	ck_assert_int_eq(status_of("POST", ADMIN_OWN_TXN_ROUTE, t.token, CHECKOUT_BODY), 401);
	tenant_free(&t);
}
END_TEST

START_TEST(test_sessions__logout_ends_the_same_access_token)
{
	char email[160], body[256], *access, *refresh, *other;
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("logout"));
	r = signup(email, TEST_PASSWORD);
	access = must_str(r, "access_token");
	refresh = must_str(r, "refresh_token");
	resp_free(r);
	{
		char *b = login_json(email, TEST_PASSWORD);

		r = api_json("POST", "/api/v1/auth/login", NULL, b);  /* a second device */
		free(b);
	}
	other = must_str(r, "refresh_token");
	resp_free(r);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", access, NULL), 200);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", refresh);
	ck_assert_int_eq(status_of("POST", "/api/v1/auth/logout", NULL, body), 204);
	r = api("GET", "/api/v1/auth/me", access, NULL, NULL, NULL);
	ck_assert_status(r, 401);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_token");
	resp_free(r);
	ck_assert_int_eq(status_of("POST", ADMIN_OWN_TXN_ROUTE, access, CHECKOUT_BODY), 401);
	/* the other device's refresh token still works: it gets a fresh access token */
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", other);
	r = api_json("POST", "/api/v1/auth/refresh", NULL, body);
	ck_assert_status(r, 200);
	free(access);
	access = must_str(r, "access_token");
	resp_free(r);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", access, NULL), 200);
	free(access);
	free(refresh);
	free(other);
}
END_TEST

static struct resp *change_password(const char *token, const char *current, const char *new)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"current_password\":\"%s\",\"new_password\":\"%s\"}",
		 current, new);
	return api_json("POST", "/api/v1/auth/password", token, body);
}

START_TEST(test_sessions__password_change_ends_every_old_token)
{
	char email[160], body[256], *a_access, *b_access, *b_refresh, *fresh, *login;
	static const char new_pw[] = "a new and longer passphrase";
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("passwd"));
	r = signup(email, TEST_PASSWORD);
	a_access = must_str(r, "access_token");
	resp_free(r);
	login = login_json(email, TEST_PASSWORD);
	r = api_json("POST", "/api/v1/auth/login", NULL, login);
	b_access = must_str(r, "access_token");
	b_refresh = must_str(r, "refresh_token");
	resp_free(r);

	r = change_password(a_access, "not the password", new_pw);
	ck_assert_status(r, 403);
	ck_assert_str_eq(resp_str(r, "code"), "wrong_password");
	resp_free(r);
	r = change_password(a_access, TEST_PASSWORD, "short");
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "new_password");
	resp_free(r);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", a_access, NULL), 200);

	r = change_password(a_access, TEST_PASSWORD, new_pw);
	ck_assert_status(r, 200);
	fresh = must_str(r, "access_token");
	ck_assert_ptr_nonnull(resp_str(r, "refresh_token"));
	ck_assert_str_eq(resp_str(r, "user.email"), email);
	resp_free(r);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", a_access, NULL), 401);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", b_access, NULL), 401);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", b_refresh);
	ck_assert_int_eq(status_of("POST", "/api/v1/auth/refresh", NULL, body), 401);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", fresh, NULL), 200);
	ck_assert_int_eq(status_of("POST", "/api/v1/auth/login", NULL, login), 401);
	free(login);
	login = login_json(email, new_pw);
	ck_assert_int_eq(status_of("POST", "/api/v1/auth/login", NULL, login), 200);
	free(login);
	free(a_access);
	free(b_access);
	free(b_refresh);
	free(fresh);
}
END_TEST

/* ---- cookie sessions ------------------------------------------------- */

struct browser {
	char *refresh;     /* the refresh_token cookie */
	char *csrf;        /* the csrf_token cookie */
	char cookie[512];  /* the Cookie header a browser sends to /api/v1/auth */
	char csrf_header[128];
};

/* Takes the session cookies r sets; fails when it sets none. */
static void browser_take(struct browser *b, struct resp *r)
{
	free(b->refresh);
	free(b->csrf);
	b->refresh = cookie_set(r, "refresh_token", NULL);
	b->csrf = cookie_set(r, "csrf_token", NULL);
	ck_assert_msg(b->refresh != NULL && b->csrf != NULL, "no session cookies: %s", r->headers);
	snprintf(b->cookie, sizeof(b->cookie), "Cookie: refresh_token=%s; csrf_token=%s",
		 b->refresh, b->csrf);
	snprintf(b->csrf_header, sizeof(b->csrf_header), "X-CSRF-Token: %s", b->csrf);
}

static void browser_free(struct browser *b)
{
	free(b->refresh);
	free(b->csrf);
}

/* A POST the browser sends to an auth route: cookies, Origin, and the CSRF header if asked. */
static struct resp *browser_post(struct browser *b, const char *path, const char *csrf_header)
{
	struct send_opts o = { NULL, NULL, { b->cookie, "Origin: " ALLOWED_ORIGIN, csrf_header,
					     NULL } };

	return must_send("POST", path, "", &o);
}

static void assert_cleared(struct resp *r, const char *name)
{
	char *attrs = NULL, *v = cookie_set(r, name, &attrs);

	ck_assert_msg(v != NULL, "%s not cleared: %s", name, r->headers);
	ck_assert_str_eq(v, "");
	ck_assert_ptr_nonnull(strstr(attrs, "Max-Age=0"));
	free(v);
	free(attrs);
}

START_TEST(test_sessions__cookie_login_refresh_session_logout)
{
	struct send_opts origin = { NULL, NULL, { "Origin: " ALLOWED_ORIGIN, NULL } };
	struct browser b = { 0 };
	char email[160], *login, *attrs = NULL, *access, *old, *v;
	char bearer[2048];
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("cookie"));
	resp_free(signup(email, TEST_PASSWORD));
	login = login_json(email, TEST_PASSWORD);
	r = must_send("POST", "/api/v1/auth/login", login, &origin);
	free(login);
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(resp_str(r, "access_token"));
	ck_assert_ptr_null(resp_str(r, "refresh_token"));  /* a browser: the cookie alone */
	ck_assert_str_eq(resp_str(r, "user.email"), email);
	v = cookie_set(r, "refresh_token", &attrs);
	ck_assert_ptr_nonnull(v);
	ck_assert_msg(strstr(attrs, "; HttpOnly") && strstr(attrs, "; SameSite=Strict") &&
		      strstr(attrs, "; Path=/api/v1/auth;") && !strstr(attrs, "Secure"),
		      "refresh cookie attributes: %s", attrs);
	free(v);
	free(attrs);
	v = cookie_set(r, "csrf_token", &attrs);
	ck_assert_uint_eq(strlen(v), 64);
	ck_assert_msg(strstr(attrs, "; Path=/;") && !strstr(attrs, "HttpOnly") &&
		      strstr(attrs, "; SameSite=Strict"), "csrf cookie attributes: %s", attrs);
	free(v);
	free(attrs);
	browser_take(&b, r);
	resp_free(r);

	/* refresh by cookie: no CSRF header, a wrong one, then the right one */
	r = browser_post(&b, "/api/v1/auth/refresh", NULL);
	ck_assert_status(r, 403);
	ck_assert_str_eq(resp_str(r, "code"), "csrf_required");
	resp_free(r);
	r = browser_post(&b, "/api/v1/auth/refresh",
			 "X-CSRF-Token: 00000000000000000000000000000000000000000000000000000000"
			 "00000000");
	ck_assert_status(r, 403);
	ck_assert_str_eq(resp_str(r, "code"), "csrf_mismatch");
	resp_free(r);
	r = browser_post(&b, "/api/v1/auth/refresh", b.csrf_header);
	ck_assert_status(r, 200);
	ck_assert_ptr_nonnull(resp_str(r, "access_token"));
	ck_assert_ptr_null(resp_str(r, "refresh_token"));
	old = strdup(b.refresh);
	browser_take(&b, r);
	ck_assert_str_ne(b.refresh, old);
	resp_free(r);

	/* page load: the session comes back from the cookie alone (rotated again) */
	{
		struct send_opts o = { NULL, NULL, { b.cookie, NULL } };

		r = must_send("GET", "/api/v1/auth/session", NULL, &o);
	}
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "token_type"), "bearer");
	ck_assert_str_eq(resp_str(r, "user.email"), email);
	ck_assert_ptr_nonnull(resp_str(r, "tenant_id"));
	ck_assert_ptr_null(resp_str(r, "refresh_token"));
	access = must_str(r, "access_token");
	browser_take(&b, r);
	resp_free(r);
	snprintf(bearer, sizeof(bearer), "%s", access);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", bearer, NULL), 200);

	/* logout by cookie: 204, cookies cleared, the cookie and the access token dead */
	r = browser_post(&b, "/api/v1/auth/logout", b.csrf_header);
	ck_assert_status(r, 204);
	assert_cleared(r, "refresh_token");
	assert_cleared(r, "csrf_token");
	resp_free(r);
	{
		struct send_opts o = { NULL, NULL, { b.cookie, NULL } };

		r = must_send("GET", "/api/v1/auth/session", NULL, &o);
	}
	ck_assert_status(r, 401);
	assert_cleared(r, "refresh_token");
	resp_free(r);
	r = browser_post(&b, "/api/v1/auth/refresh", b.csrf_header);
	ck_assert_status(r, 401);
	resp_free(r);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", bearer, NULL), 401);
	free(old);
	free(access);
	browser_free(&b);
}
END_TEST

START_TEST(test_sessions__reused_cookie_ends_the_session)
{
	struct send_opts origin = { NULL, NULL, { "Origin: " ALLOWED_ORIGIN, NULL } };
	struct browser b = { 0 }, thief = { 0 };
	char email[160], *login, *access;
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("reuse"));
	resp_free(signup(email, TEST_PASSWORD));
	login = login_json(email, TEST_PASSWORD);
	r = must_send("POST", "/api/v1/auth/login", login, &origin);
	free(login);
	browser_take(&b, r);
	browser_take(&thief, r);          /* a copy of the cookies */
	resp_free(r);
	r = browser_post(&b, "/api/v1/auth/refresh", b.csrf_header);
	ck_assert_status(r, 200);
	access = must_str(r, "access_token");
	browser_take(&b, r);
	resp_free(r);
	/* the copy is presented after the owner used it: the whole session ends */
	r = browser_post(&thief, "/api/v1/auth/refresh", thief.csrf_header);
	ck_assert_status(r, 401);
	assert_cleared(r, "refresh_token");
	resp_free(r);
	r = browser_post(&b, "/api/v1/auth/refresh", b.csrf_header);
	ck_assert_status(r, 401);
	resp_free(r);
	ck_assert_int_eq(status_of("GET", "/api/v1/auth/me", access, NULL), 401);
	free(access);
	browser_free(&b);
	browser_free(&thief);
}
END_TEST

/* ---- cross-origin -------------------------------------------------------- */

START_TEST(test_sessions__preflight_from_allowed_and_refused_origin)
{
	struct send_opts allowed = { NULL, NULL, { "Origin: " ALLOWED_ORIGIN,
		"Access-Control-Request-Method: POST",
		"Access-Control-Request-Headers: authorization, content-type, x-csrf-token", NULL } };
	struct send_opts refused = { NULL, NULL, { "Origin: https://evil.example.net",
		"Access-Control-Request-Method: POST", NULL } };
	struct tenant t;
	struct resp *r;

	r = must_send("OPTIONS", "/api/v1/plans/generate", NULL, &allowed);
	ck_assert_status(r, 204);
	ck_assert_str_eq(resp_header(r, "Access-Control-Allow-Origin"), ALLOWED_ORIGIN);
	ck_assert_str_eq(resp_header(r, "Access-Control-Allow-Credentials"), "true");
	ck_assert_ptr_nonnull(strstr(resp_header(r, "Access-Control-Allow-Methods"), "POST"));
	ck_assert_ptr_nonnull(strstr(resp_header(r, "Access-Control-Allow-Headers"),
				     "Authorization, Content-Type, X-CSRF-Token"));
	resp_free(r);
	r = must_send("OPTIONS", "/api/v1/plans/generate", NULL, &refused);
	ck_assert_int_lt(r->status, 300);
	ck_assert_ptr_null(resp_header(r, "Access-Control-Allow-Origin"));
	ck_assert_ptr_null(resp_header(r, "Access-Control-Allow-Methods"));
	resp_free(r);

	/* the actual requests: the allowed origin may read the answer and its headers */
	tenant_new(&t, "cors");
	allowed.token = t.token;
	allowed.headers[1] = NULL;
	r = must_send("GET", "/api/v1/plans", NULL, &allowed);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_header(r, "Access-Control-Allow-Origin"), ALLOWED_ORIGIN);
	ck_assert_ptr_nonnull(strstr(resp_header(r, "Access-Control-Expose-Headers"),
				     "X-Total-Count, Link"));
	resp_free(r);
	refused.token = t.token;
	refused.headers[1] = NULL;
	r = must_send("GET", "/api/v1/plans", NULL, &refused);
	ck_assert_status(r, 200);
	ck_assert_ptr_null(resp_header(r, "Access-Control-Allow-Origin"));
	resp_free(r);
	tenant_free(&t);
}
END_TEST

Suite *suite_sessions(void)
{
	Suite *s = suite_create("sessions");
	TCase *tc = tcase_create("sessions");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sessions__demoted_admin_gets_403_with_the_old_token);
	tcase_add_test(tc, test_sessions__role_claim_is_informational_and_epoch_must_match);
	tcase_add_test(tc, test_sessions__disable_ends_the_access_token_at_once);
	tcase_add_test(tc, test_sessions__logout_ends_the_same_access_token);
	tcase_add_test(tc, test_sessions__password_change_ends_every_old_token);
	tcase_add_test(tc, test_sessions__cookie_login_refresh_session_logout);
	tcase_add_test(tc, test_sessions__reused_cookie_ends_the_session);
	tcase_add_test(tc, test_sessions__preflight_from_allowed_and_refused_origin);
	suite_add_tcase(s, tc);
	return s;
}
