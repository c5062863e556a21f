/* test_messages.c: what a newcomer reads: token errors, bodiless POSTs, numbers, empty plans */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#include "harness.h"

/* An access token for the user, signed with the stack's secret, expiring exp_delta from now. */
static char *access_token(const char *sub, const char *tenant, long exp_delta)
{
	char *secret = conf_value("jwt_secret"), *enc, *out;
	long now = (long)time(NULL);
	jwt_t *jwt;

	ck_assert_ptr_nonnull(secret);
	ck_assert_int_eq(jwt_new(&jwt), 0);
	jwt_add_grant(jwt, "sub", sub);
	jwt_add_grant(jwt, "tenant_id", tenant);
	jwt_add_grant(jwt, "role", "admin");
	jwt_add_grant(jwt, "jti", "messages-jti");
	jwt_add_grant(jwt, "iss", "ironlayer");
	jwt_add_grant(jwt, "typ", "access");
	jwt_add_grant_int(jwt, "iat", now - 120);
	jwt_add_grant_int(jwt, "exp", now + exp_delta);
	jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
	enc = jwt_encode_str(jwt);
	out = strdup(enc);
	free(enc);
	jwt_free(jwt);
	free(secret);
	return out;
}

static void expect_401(const char *extra_header, const char *code, const char *needle)
{
	struct resp *r = api("GET", "/api/v1/auth/me", NULL, NULL, NULL, extra_header);

	ck_assert_status(r, 401);
	ck_assert_str_eq(resp_str(r, "code"), code);
	ck_assert_msg(strstr(resp_str(r, "detail"), needle) != NULL, "%s", r->body);
	resp_free(r);
}

START_TEST(test_messages__expired_garbage_and_bearerless_tokens_differ)
{
	char header[4096], email[160], *sub, *tenant, *good, *old;
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("tok"));
	r = signup(email, TEST_PASSWORD);
	sub = must_str(r, "user.id");
	tenant = must_str(r, "tenant_id");
	good = must_str(r, "access_token");
	old = access_token(sub, tenant, -60);
	resp_free(r);
	snprintf(header, sizeof(header), "Authorization: Bearer %s", old);
	expect_401(header, "token_expired", "/api/v1/auth/refresh");
	expect_401("Authorization: Bearer not-a-token", "invalid_token", "invalid access token");
	/* the token without its scheme: say what the header must look like */
	snprintf(header, sizeof(header), "Authorization: %s", good);
	expect_401(header, "not_authenticated", "'Bearer <access token>'");
	expect_401(NULL, "not_authenticated", "missing bearer token");
	free(sub);
	free(tenant);
	free(good);
	free(old);
}
END_TEST

static struct resp *refresh(const char *token)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", token);
	return api_json("POST", "/api/v1/auth/refresh", NULL, body);
}

START_TEST(test_messages__a_reused_refresh_token_says_the_session_is_revoked)
{
	char email[160], *first, *second;
	struct resp *r;

	snprintf(email, sizeof(email), "%s@example.com", unique("reuse"));
	r = signup(email, TEST_PASSWORD);
	first = must_str(r, "refresh_token");
	resp_free(r);
	r = refresh(first);
	ck_assert_status(r, 200);
	second = must_str(r, "refresh_token");
	resp_free(r);
	r = refresh(first);
	ck_assert_status(r, 401);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_refresh_token");
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail"), "already used"));
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail"), "revoked"));
	resp_free(r);
	r = refresh(second);    /* the rest of the family: revoked, and it says so */
	ck_assert_status(r, 401);
	ck_assert_ptr_nonnull(strstr(resp_str(r, "detail"), "session was revoked"));
	resp_free(r);
	r = refresh("never-issued-token");
	ck_assert_status(r, 401);
	ck_assert_str_eq(resp_str(r, "detail"), "refresh token is invalid or expired");
	resp_free(r);
	free(first);
	free(second);
}
END_TEST

static char *generate(const struct tenant *t, const char *base, const char *target,
		      struct resp **out)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":"
		 "\"%s\",\"as_of\":\"2026-11-05\"}", tenant_repo(t), base, target);
	*out = api_json("POST", "/api/v1/plans/generate", t->token, body);
	ck_assert_msg((*out)->status == 201 || (*out)->status == 200, "%s", (*out)->body);
	return must_str(*out, "plan_id");
}

/* 1 when the suite runs behind Apache (IRONLAYER_TEST_FRONTEND=apache) instead of lighttpd */
static int behind_apache(void)
{
	const char *fe = getenv("IRONLAYER_TEST_FRONTEND");

	return fe != NULL && strcmp(fe, "apache") == 0;
}

/* curl -X POST without -d: no Content-Length, which lighttpd itself answers with 411 */
START_TEST(test_messages__a_post_without_a_body_is_an_empty_object)
{
	struct tenant t;
	struct resp *r;
	char path[256], *id;

	tenant_new(&t, "nobody");
	id = generate(&t, "tags/c1", "tags/c2", &r);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
	r = api("POST", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "approved");
	resp_free(r);
	/* long work runs in the apply pool, which the handed-over request never reaches:
	 * it is told to send a body instead of running in the api pool */
	snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", id);
	r = api("POST", path, t.token, NULL, NULL, NULL);
	if (behind_apache()) {
		/* Apache routes the bodiless request by its path: it reaches the apply pool */
		ck_assert_status(r, 200);
		ck_assert_str_eq(resp_str(r, "status"), "applied");
		resp_free(r);
	} else {
		ck_assert_status(r, 411);
		ck_assert_str_eq(resp_str(r, "code"), "length_required");
		resp_free(r);
		r = api_json("POST", path, t.token, "{}");
		ck_assert_status(r, 200);
		resp_free(r);
	}
	snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
	/* a client cannot pose as the web server: its header arrives as HTTP_REDIRECT_STATUS */
	r = api("GET", path, t.token, NULL, NULL, "Redirect-Status: 411");
	ck_assert_status(r, 405);
	resp_free(r);
	r = api("GET", "/api/v1/health", NULL, NULL, NULL, "Redirect-Status: 503");
	ck_assert_status(r, 200);
	resp_free(r);
	/* the same holds where a field is required: a 422 naming it, not a 411 */
	snprintf(path, sizeof(path), "/api/v1/plans/%s/reject", id);
	r = api("POST", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 422);
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "reason");
	resp_free(r);
	free(id);

	/* Content-Length: 0 and no type, as a browser's fetch or axios sends a bodiless
	 * POST: an empty body on both front ends, long work included */
	id = generate(&t, "tags/c2", "tags/c4", &r);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
	r = api("POST", path, t.token, NULL, "", "Content-Type:");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "approved");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", id);
	r = api("POST", path, t.token, NULL, "", "Content-Type:");
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

/*
 * 1 when a JSON text writes a number with an exponent (1.3e-05): an 'e' or
 * 'E' right after a digit outside every string (ids such as "c59c244e-0cd1"
 * are strings and do not count).
 */
static int json_has_exponent(const char *text)
{
	const char *s;
	int in_string = 0;

	for (s = text; *s != '\0'; s++) {
		if (in_string) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				in_string = 0;
		} else if (*s == '"') {
			in_string = 1;
		} else if ((*s == 'e' || *s == 'E') && s > text && s[-1] >= '0' && s[-1] <= '9') {
			return 1;
		}
	}
	return 0;
}

START_TEST(test_messages__costs_are_written_one_way_and_empty_plans_need_no_approval)
{
	struct tenant t;
	struct resp *r;
	char path[256], *id, *again;

	tenant_new(&t, "numbers");
	id = generate(&t, "tags/c1", "tags/c2", &r);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
	resp_free(api_json("POST", path, t.token, "{}"));
	snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", id);
	r = api_json("POST", path, t.token, "{}");
	ck_assert_status(r, 200);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/telemetry", resp_str(r, "runs.0.run_id"));
	resp_free(r);
	r = api("GET", path, t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_msg(!json_has_exponent(r->body), "exponent in %s", r->body);
	resp_free(r);
	/* estimated from the runs just made: costs of a few millionths of a dollar */
	again = generate(&t, "tags/c2", "tags/c4", &r);
	ck_assert_msg(!json_has_exponent(r->body), "exponent in %s", r->body);
	resp_free(r);
	r = api("GET", "/api/v1/plans", t.token, NULL, NULL, NULL);
	ck_assert_status(r, 200);
	ck_assert_msg(!json_has_exponent(r->body), "exponent in %s", r->body);
	ck_assert_ptr_nonnull(strstr(r->body, "\"estimated_cost_usd\":0.0"));
	resp_free(r);
	free(again);

	/* c2 -> c3 is a cosmetic edit only: no steps, so nothing waits for approval */
	free(id);
	id = generate(&t, "tags/c2", "tags/c3", &r);
	ck_assert_int_eq(resp_int(r, "summary.total_steps"), 0);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	free(id);
	tenant_free(&t);
}
END_TEST

Suite *suite_messages(void)
{
	Suite *s = suite_create("messages");
	TCase *tc = tcase_create("messages");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_messages__expired_garbage_and_bearerless_tokens_differ);
	tcase_add_test(tc, test_messages__a_reused_refresh_token_says_the_session_is_revoked);
	tcase_add_test(tc, test_messages__a_post_without_a_body_is_an_empty_object);
	tcase_add_test(tc, test_messages__costs_are_written_one_way_and_empty_plans_need_no_approval);
	suite_add_tcase(s, tc);
	return s;
}
