/* test_auth.c: signup, login, refresh, me, logout, tokens, throttling, RLS, audit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#include "harness.h"

#define PASSWORD "correct horse battery"

/* The display name signup() gives an account. */
static const char *display_name_for(const char *email)
{
	static char name[256];

	snprintf(name, sizeof(name), "Test %s", email);
	return name;
}

static char *login_body(const char *email, const char *password)
{
	char *b;

	ck_assert_int_ne(asprintf(&b, "{\"email\":\"%s\",\"password\":\"%s\"}", email, password),
			 -1);
	return b;
}

static struct resp *login(const char *email, const char *password)
{
	char *b = login_body(email, password);
	struct resp *r = api_json("POST", "/api/v1/auth/login", NULL, b);

	free(b);
	return r;
}

static struct resp *refresh(const char *token)
{
	char b[512];

	snprintf(b, sizeof(b), "{\"refresh_token\":\"%s\"}", token);
	return api_json("POST", "/api/v1/auth/refresh", NULL, b);
}

START_TEST(test_signup__creates_admin_tenant_and_dev_environment)
{
	const char *email = unique("signup");
	char mixed[160], *tenant, *sql, *out;
	struct resp *r, *me;

	snprintf(mixed, sizeof(mixed), "%s@Example.COM", email);
	r = signup(mixed, PASSWORD);
	ck_assert_str_eq(resp_str(r, "token_type"), "bearer");
	ck_assert_int_eq(resp_int(r, "expires_in"), 900);
	ck_assert_str_eq(resp_str(r, "user.role"), "admin");
	ck_assert_str_eq(resp_str(r, "user.display_name"), display_name_for(mixed));
	ck_assert_uint_eq(strlen(resp_str(r, "refresh_token")), 43);
	tenant = must_str(r, "tenant_id");
	ck_assert_str_eq(resp_str(r, "user.tenant_id"), tenant);
	ck_assert_ptr_nonnull(strstr(resp_str(r, "user.email"), "@example.com"));

	me = api("GET", "/api/v1/auth/me", resp_str(r, "access_token"), NULL, NULL, NULL);
	ck_assert_status(me, 200);
	ck_assert_str_eq(resp_str(me, "id"), resp_str(r, "user.id"));
	ck_assert_str_eq(resp_str(me, "tenant_name"), display_name_for(mixed));
	ck_assert_str_eq(resp_str(me, "role"), "admin");
	ck_assert_ptr_nonnull(resp_str(me, "created_at"));

	ck_assert_int_ne(asprintf(&sql, "SELECT name || ',' || executor || ',' || schema_prefix"
				  " FROM environments WHERE tenant_id = '%s'", tenant), -1);
	out = psql("ironlayer", sql);
	ck_assert_msg(strncmp(out, "dev,postgres,t", 14) == 0, "environments: %s", out);
	free(out);
	free(sql);
	free(tenant);
	resp_free(me);
	resp_free(r);
}
END_TEST

START_TEST(test_signup__duplicate_email_is_409_case_insensitive)
{
	const char *local = unique("dup");
	char email[160], body[512];
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", local);
	resp_free(signup(email, PASSWORD));
	r = api_json("POST", "/api/v1/auth/signup", NULL, "{}");
	ck_assert_status(r, 422);
	resp_free(r);
	snprintf(body, sizeof(body),
		 "{\"email\":\"%s@EXAMPLE.com\",\"password\":\"%s\",\"display_name\":\"x\"}",
		 local, PASSWORD);
	r = api_json("POST", "/api/v1/auth/signup", NULL, body);
	ck_assert_status(r, 409);
	ck_assert_str_eq(resp_str(r, "code"), "email_taken");
	resp_free(r);
}
END_TEST

START_TEST(test_signup__invalid_fields_are_422_with_loc)
{
	struct resp *r = api_json("POST", "/api/v1/auth/signup", NULL,
				  "{\"email\":\"not-an-email\",\"password\":\"short\","
				  "\"display_name\":\"x\"}");

	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "code"), "validation_error");
	ck_assert_str_eq(resp_str(r, "detail.0.loc.0"), "body");
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "email");
	ck_assert_str_eq(resp_str(r, "detail.0.msg"), "value is not a valid email address");
	ck_assert_str_eq(resp_str(r, "detail.1.loc.1"), "password");
	ck_assert_str_eq(resp_str(r, "detail.1.msg"), "Password must be at least 10 characters");
	resp_free(r);

	r = api_json("POST", "/api/v1/auth/signup", NULL,
		     "{\"email\":\"same@example.com\",\"password\":\"SAME@example.com\","
		     "\"display_name\":\"x\"}");
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.msg"), "Password must not be the email address");
	resp_free(r);

	r = api("POST", "/api/v1/auth/signup", NULL, "text/plain", "{}", NULL);
	ck_assert_status(r, 415);
	resp_free(r);
	r = api_json("POST", "/api/v1/auth/signup", NULL, "{\"email\":");
	ck_assert_status(r, 400);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_json");
	resp_free(r);
}
END_TEST

START_TEST(test_login__ok_and_wrong_password_is_401_generic)
{
	char email[160];
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("login"));
	resp_free(signup(email, PASSWORD));
	r = login(email, PASSWORD);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "user.email"), email);
	ck_assert_ptr_nonnull(resp_str(r, "access_token"));
	resp_free(r);

	r = login(email, "wrong password!");
	ck_assert_status(r, 401);
	ck_assert_str_eq(resp_str(r, "detail"), "invalid email or password");
	ck_assert_str_eq(resp_header(r, "WWW-Authenticate"), "Bearer");
	resp_free(r);
	r = login("nobody-at-all@example.com", "wrong password!");
	ck_assert_status(r, 401);
	ck_assert_str_eq(resp_str(r, "detail"), "invalid email or password");
	resp_free(r);
}
END_TEST

START_TEST(test_login__throttled_after_five_failures_then_recovers)
{
	char email[160], *sql, *out;
	struct resp *r;
	int i;

	snprintf(email, sizeof(email), "%s@example.com", unique("throttle"));
	resp_free(signup(email, PASSWORD));
	for (i = 0; i < 5; i++) {
		r = login(email, "wrong password!");
		ck_assert_status(r, 401);
		resp_free(r);
	}
	r = login(email, PASSWORD); /* even the right password waits */
	ck_assert_status(r, 429);
	ck_assert_str_eq(resp_str(r, "code"), "too_many_attempts");
	ck_assert_int_gt(strtol(resp_header(r, "Retry-After"), NULL, 10), 800);
	ck_assert_int_le(strtol(resp_header(r, "Retry-After"), NULL, 10), 900);
	resp_free(r);

	/* let the 15-minute window pass */
	out = psql("ironlayer", "UPDATE auth_throttle SET window_start = now() - interval '16 minutes'");
	free(out);
	r = login(email, PASSWORD);
	ck_assert_status(r, 200);
	resp_free(r);
	/* the failures went to the security log, not to the tenant's audit chain */
	ck_assert_int_ne(asprintf(&sql, "SELECT sum(count) FROM security_events WHERE subject_hash"
				  " = encode(sha256(convert_to('%s', 'UTF8')), 'hex')", email), -1);
	out = psql1(sql);
	free(sql);
	ck_assert_str_eq(out, "5");
	free(out);
	/* success cleared the failures: four more wrong tries are still only 401 */
	for (i = 0; i < 4; i++) {
		r = login(email, "wrong password!");
		ck_assert_status(r, 401);
		resp_free(r);
	}
}
END_TEST

START_TEST(test_refresh__rotates_and_reuse_revokes_the_family)
{
	char email[160], *first, *second, *third;
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("refresh"));
	r = signup(email, PASSWORD);
	first = must_str(r, "refresh_token");
	resp_free(r);

	r = refresh(first);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "token_type"), "bearer");
	second = must_str(r, "refresh_token");
	ck_assert_str_ne(second, first);
	resp_free(r);

	r = refresh(first); /* reuse of a spent token */
	ck_assert_status(r, 401);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_refresh_token");
	resp_free(r);
	r = refresh(second); /* its whole family is gone */
	ck_assert_status(r, 401);
	resp_free(r);

	r = login(email, PASSWORD); /* a new login starts a new family */
	ck_assert_status(r, 200);
	third = must_str(r, "refresh_token");
	resp_free(r);
	r = api_json("POST", "/api/v1/auth/logout", NULL, "{}"); /* nothing to end: 204 all the same */
	ck_assert_status(r, 204);
	resp_free(r);
	r = api_json("POST", "/api/v1/auth/logout", NULL, "{\"refresh_token\": 5}");
	ck_assert_status(r, 422);
	resp_free(r);
	{
		char b[256];

		snprintf(b, sizeof(b), "{\"refresh_token\":\"%s\"}", third);
		r = api_json("POST", "/api/v1/auth/logout", NULL, b);
	}
	ck_assert_status(r, 204);
	ck_assert_uint_eq(r->len, 0);
	resp_free(r);
	r = refresh(third);
	ck_assert_status(r, 401);
	resp_free(r);
	free(first);
	free(second);
	free(third);
}
END_TEST

/* A JWT signed with key (NULL: alg none) carrying the given claims. */
static char *make_jwt(const char *key, const char *alg_override, const char *typ,
		      long exp_delta, const char *sub, const char *tenant)
{
	jwt_t *jwt;
	char *enc;
	long now = (long)time(NULL);

	ck_assert_int_eq(jwt_new(&jwt), 0);
	jwt_add_grant(jwt, "sub", sub);
	jwt_add_grant(jwt, "tenant_id", tenant);
	jwt_add_grant(jwt, "role", "admin");
	jwt_add_grant(jwt, "jti", "test-jti");
	jwt_add_grant(jwt, "iss", "ironlayer");
	jwt_add_grant(jwt, "typ", typ);
	jwt_add_grant_int(jwt, "iat", now - 10);
	jwt_add_grant_int(jwt, "exp", now + exp_delta);
	if (key != NULL)
		jwt_set_alg(jwt, alg_override ? jwt_str_alg(alg_override) : JWT_ALG_HS256,
			    (const unsigned char *)key, (int)strlen(key));
	enc = jwt_encode_str(jwt);
	jwt_free(jwt);
	return enc;
}

static void expect_401(const char *token, const char *what)
{
	struct resp *r = api("GET", "/api/v1/auth/me", token, NULL, NULL, NULL);

	ck_assert_msg(r->status == 401, "%s: expected 401, got %ld", what, r->status);
	ck_assert_str_eq(resp_header(r, "WWW-Authenticate"), "Bearer");
	resp_free(r);
}

START_TEST(test_tokens__forged_expired_and_misused_are_401)
{
	char email[160], *secret = conf_value("jwt_secret"), *sub, *tenant, *good, *t;
	char tampered[4096];
	struct resp *r;
	char *dot;

	ck_assert_ptr_nonnull(secret);
	snprintf(email, sizeof(email), "%s@example.com", unique("tokens"));
	r = signup(email, PASSWORD);
	sub = must_str(r, "user.id");
	tenant = must_str(r, "tenant_id");
	good = must_str(r, "access_token");
	resp_free(r);

	t = make_jwt(secret, NULL, "access", 600, sub, tenant);
	r = api("GET", "/api/v1/auth/me", t, NULL, NULL, NULL);
	ck_assert_status(r, 200); /* the forging helper itself makes valid tokens */
	resp_free(r);
	free(t);

	expect_401(NULL, "no token");
	expect_401("not-a-jwt", "garbage");
	t = make_jwt(NULL, NULL, "access", 600, sub, tenant);
	expect_401(t, "alg none");
	free(t);
	t = make_jwt("another secret that is long enough 1234", NULL, "access", 600, sub, tenant);
	expect_401(t, "wrong secret");
	free(t);
	t = make_jwt(secret, "HS512", "access", 600, sub, tenant);
	expect_401(t, "HS512");
	free(t);
	t = make_jwt(secret, NULL, "access", -5, sub, tenant);
	expect_401(t, "expired");
	free(t);
	t = make_jwt(secret, NULL, "refresh", 600, sub, tenant);
	expect_401(t, "typ refresh");
	free(t);
	t = make_jwt(secret, NULL, "access", 600, sub, "00000000-0000-4000-8000-000000000000");
	expect_401(t, "unknown tenant");
	free(t);

	/* flip one character of the payload: the signature no longer matches */
	snprintf(tampered, sizeof(tampered), "%s", good);
	dot = strchr(tampered, '.');
	ck_assert_ptr_nonnull(dot);
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	expect_401(tampered, "tampered payload");
	free(secret);
	free(sub);
	free(tenant);
	free(good);
}
END_TEST

START_TEST(test_cli__user_add_set_role_disable)
{
	char admin_email[160], viewer_email[160], args[512], *tenant, *out;
	struct resp *r;

	snprintf(admin_email, sizeof(admin_email), "%s@example.com", unique("admin"));
	snprintf(viewer_email, sizeof(viewer_email), "%s@example.com", unique("viewer"));
	r = signup(admin_email, PASSWORD);
	tenant = must_str(r, "tenant_id");
	resp_free(r);

	snprintf(args, sizeof(args), "user add --tenant %s --email %s --role viewer", tenant,
		 viewer_email);
	ck_assert_int_eq(run_cli(args, "viewer password 1\n", NULL), 0);
	ck_assert_int_eq(run_cli(args, "viewer password 1\n", &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "already exists"));
	free(out);
	r = login(viewer_email, "viewer password 1");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "user.role"), "viewer");
	ck_assert_str_eq(resp_str(r, "tenant_id"), tenant);
	resp_free(r);

	snprintf(args, sizeof(args), "user list --tenant %s", tenant);
	ck_assert_int_eq(run_cli(args, NULL, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, viewer_email));
	ck_assert_ptr_nonnull(strstr(out, "\tviewer\t"));
	free(out);

	snprintf(args, sizeof(args), "user set-role --email %s --role operator", viewer_email);
	ck_assert_int_eq(run_cli(args, NULL, NULL), 0);
	r = login(viewer_email, "viewer password 1");
	ck_assert_str_eq(resp_str(r, "user.role"), "operator");
	{
		char *access = must_str(r, "access_token");

		resp_free(r);
		snprintf(args, sizeof(args), "user disable --email %s", viewer_email);
		ck_assert_int_eq(run_cli(args, NULL, NULL), 0);
		expect_401(access, "disabled user's token");
		free(access);
	}
	r = login(viewer_email, "viewer password 1");
	ck_assert_status(r, 401);
	resp_free(r);
	free(tenant);
}
END_TEST

START_TEST(test_rls__worker_role_sees_only_its_tenant)
{
	char a_email[160], b_email[160], *a, *b, *sql, *out;
	struct resp *r;

	snprintf(a_email, sizeof(a_email), "%s@example.com", unique("tenanta"));
	snprintf(b_email, sizeof(b_email), "%s@example.com", unique("tenantb"));
	r = signup(a_email, PASSWORD);
	a = must_str(r, "tenant_id");
	resp_free(r);
	r = signup(b_email, PASSWORD);
	b = must_str(r, "tenant_id");
	resp_free(r);

	/* as the workers' role, bound to tenant B, with no WHERE clause at all */
	ck_assert_int_ne(asprintf(&sql,
		"SET ROLE ironlayer_app;\n"
		"BEGIN; SELECT set_config('app.tenant_id', '%s', true);\n"
		"SELECT 'users:' || count(*) || ':' || count(*) FILTER (WHERE tenant_id = '%s') FROM users;\n"
		"SELECT 'envs:' || count(*) FROM environments;\n"
		"SELECT 'tenants:' || string_agg(id::text, ',') FROM tenants;\n"
		"COMMIT;\n"
		"SELECT 'unbound:' || count(*) FROM users;\n", b, a), -1);
	out = psql("ironlayer", sql);
	ck_assert_msg(strstr(out, "users:1:0") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "envs:1") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "unbound:0") != NULL, "%s", out);
	{
		char want[128];

		snprintf(want, sizeof(want), "tenants:%s\n", b);
		ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	}
	free(out);
	free(sql);
	/* and the role cannot write around the audit function */
	out = psql("ironlayer", "SET ROLE ironlayer_app; DELETE FROM audit_log;");
	ck_assert_msg(strstr(out, "permission denied") != NULL, "%s", out);
	free(out);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_audit__chain_verifies_and_tampering_is_detected)
{
	char email[160], *out, *id, *orig, *sql;
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("audit"));
	resp_free(signup(email, PASSWORD));
	resp_free(login(email, "wrong password!"));
	resp_free(login(email, PASSWORD));
	ck_assert_msg(run_cli("audit verify", NULL, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "audit log intact") != NULL, "%s", out);
	free(out);

	/* a failed login is no row of the chain (anyone could append those) */
	out = psql1("SELECT count(*) FROM audit_log WHERE action = 'login_failed'");
	ck_assert_str_eq(out, "0");
	free(out);
	id = psql("ironlayer", "SELECT id FROM audit_log WHERE action = 'login' "
			       "ORDER BY id DESC LIMIT 1");
	id[strcspn(id, "\n")] = '\0';
	ck_assert_int_ne(asprintf(&sql, "SELECT metadata::text FROM audit_log WHERE id = %s", id),
			 -1);
	orig = psql("ironlayer", sql);
	free(sql);
	orig[strcspn(orig, "\n")] = '\0';
	ck_assert_int_ne(asprintf(&sql, "UPDATE audit_log SET metadata = '{\"forged\": true}' "
				  "WHERE id = %s", id), -1);
	free(psql("ironlayer", sql));
	free(sql);
	ck_assert_int_eq(run_cli("audit verify", NULL, &out), 1);
	{
		char want[64];

		snprintf(want, sizeof(want), "audit log broken at row %s:", id);
		ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	}
	free(out);
	/* put it back so later runs see an intact chain */
	ck_assert_int_ne(asprintf(&sql, "UPDATE audit_log SET metadata = '%s' WHERE id = %s",
				  orig, id), -1);
	free(psql("ironlayer", sql));
	free(sql);
	ck_assert_int_eq(run_cli("audit verify", NULL, NULL), 0);
	free(orig);
	free(id);
	r = NULL;
	(void)r;
}
END_TEST

Suite *suite_auth(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_signup__creates_admin_tenant_and_dev_environment);
	tcase_add_test(tc, test_signup__duplicate_email_is_409_case_insensitive);
	tcase_add_test(tc, test_signup__invalid_fields_are_422_with_loc);
	tcase_add_test(tc, test_login__ok_and_wrong_password_is_401_generic);
	tcase_add_test(tc, test_login__throttled_after_five_failures_then_recovers);
	tcase_add_test(tc, test_refresh__rotates_and_reuse_revokes_the_family);
	tcase_add_test(tc, test_tokens__forged_expired_and_misused_are_401);
	tcase_add_test(tc, test_cli__user_add_set_role_disable);
	tcase_add_test(tc, test_rls__worker_role_sees_only_its_tenant);
	tcase_add_test(tc, test_audit__chain_verifies_and_tampering_is_detected);
	suite_add_tcase(s, tc);
	return s;
}
