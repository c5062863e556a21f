/* test_token.c: access tokens, and the worker's cache of the ones it verified */
#include <string.h>
#include <unistd.h>

#include "suites.h"

#include "http/token.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"

#define USER "0b9f6a8e-1c1d-4c8e-9d2a-5f2b7a1e3c41"
#define TENANT "5d0e2f6b-8a7c-4e21-b0c3-9e4f1a2b3c4d"

static void test_config(struct il_config *cfg, const char *secret, long ttl)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->jwt_secret = secret;
	cfg->jwt_issuer = "ironlayer-test";
	cfg->access_token_ttl = ttl;
}

/*
 * A verified token is remembered: the second use gives the same claims, a
 * token one character off is still refused, a new secret refuses the
 * remembered token, and a remembered token expires on time.
 */
START_TEST(test_token__cache_keeps_every_check)
{
	struct arena *a = arena_new(1 << 16);
	struct access_claims c;
	struct il_config cfg, other;
	char *tok, *forged;
	int k;

	test_config(&cfg, "unit-test-secret-0123456789abcdef0123456789", 2);
	test_config(&other, "another-secret-0123456789abcdef0123456789", 2);
	tok = token_issue_access(a, &cfg, USER, TENANT, ROLE_ADMIN, 3);
	ck_assert_ptr_nonnull(tok);
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(token_verify_access(&c, a, &cfg, tok), 0);
		ck_assert_str_eq(c.sub, USER);
		ck_assert_str_eq(c.tenant_id, TENANT);
		ck_assert_int_eq(c.epoch, 3);
		ck_assert_int_eq(c.role, ROLE_ADMIN);
	}
	forged = arena_strdup(a, tok);
	forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(token_verify_access(&c, a, &cfg, forged), IL_EINVALID);
	ck_assert_int_eq(token_verify_access(&c, a, &other, tok), IL_EINVALID);
	ck_assert_int_eq(token_verify_access(&c, a, &cfg, tok), 0);
	sleep(3);
	ck_assert_int_eq(token_verify_access(&c, a, &cfg, tok), IL_ESTALE);
	ck_assert_int_eq(token_verify_access(&c, a, &cfg, tok), IL_ESTALE);
	arena_free(a);
}
END_TEST

Suite *suite_token(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_token__cache_keeps_every_check);
	suite_add_tcase(s, tc);
	return s;
}
