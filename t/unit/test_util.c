/* test_util.c: arena, strbuf, parse, config, secrets and address lists */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"
#include <openssl/evp.h>

#include "util/arena.h"
#include "util/config.h"
#include "util/ipmatch.h"
#include "util/limits.h"
#include "util/parse.h"
#include "util/secret.h"
#include "util/strbuf.h"

static int cleanup_calls[4];
static int cleanup_order;

static void note_cleanup(void *p)
{
	cleanup_calls[(intptr_t)p] = ++cleanup_order;
}

START_TEST(test_arena__alloc_is_aligned_and_distinct)
{
	struct arena *a = arena_new(256);
	char *p = arena_alloc(a, 3), *q = arena_alloc(a, 5);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((uintptr_t)p % 16, 0);
	ck_assert_uint_eq((uintptr_t)q % 16, 0);
	ck_assert_ptr_ne(p, q);
	ck_assert_uint_eq(arena_used(a), 8);
	arena_free(a);
}
END_TEST

START_TEST(test_arena__large_and_many_allocations_survive_reset)
{
	struct arena *a = arena_new(1024);
	int round, i;

	for (round = 0; round < 3; round++) {
		char *big = arena_alloc(a, 100000);

		ck_assert_ptr_nonnull(big);
		memset(big, 'x', 100000);
		for (i = 0; i < 1000; i++) {
			char *s = arena_printf(a, "item-%d", i);

			ck_assert_str_eq(s, arena_printf(a, "item-%d", i));
		}
		arena_reset(a);
		ck_assert_uint_eq(arena_used(a), 0);
	}
	arena_free(a);
}
END_TEST

START_TEST(test_arena__cleanups_run_last_first_on_reset)
{
	struct arena *a = arena_new(0);

	memset(cleanup_calls, 0, sizeof(cleanup_calls));
	cleanup_order = 0;
	ck_assert_int_eq(arena_on_reset(a, note_cleanup, (void *)(intptr_t)1), 0);
	ck_assert_int_eq(arena_on_reset(a, note_cleanup, (void *)(intptr_t)2), 0);
	arena_reset(a);
	ck_assert_int_eq(cleanup_calls[2], 1);
	ck_assert_int_eq(cleanup_calls[1], 2);
	arena_reset(a);
	ck_assert_int_eq(cleanup_order, 2);
	arena_free(a);
}
END_TEST

START_TEST(test_arena__injected_failure_hits_the_nth_allocation)
{
	struct arena *a = arena_new(0);

	arena_fail_after(a, 3);
	ck_assert_ptr_nonnull(arena_alloc(a, 1));
	ck_assert_ptr_nonnull(arena_alloc(a, 1));
	ck_assert_ptr_null(arena_alloc(a, 1));
	ck_assert_ptr_nonnull(arena_alloc(a, 1));
	ck_assert_ptr_null(arena_calloc(a, SIZE_MAX / 2, 4));
	arena_free(a);
}
END_TEST

Suite *suite_arena(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_arena__alloc_is_aligned_and_distinct);
	tcase_add_test(tc, test_arena__large_and_many_allocations_survive_reset);
	tcase_add_test(tc, test_arena__cleanups_run_last_first_on_reset);
	tcase_add_test(tc, test_arena__injected_failure_hits_the_nth_allocation);
	suite_add_tcase(s, tc);
	return s;
}

START_TEST(test_strbuf__appends_and_formats)
{
	struct arena *a = arena_new(0);
	struct strbuf sb;

	strbuf_init(&sb, a, 1000);
	strbuf_adds(&sb, "plan ");
	strbuf_addf(&sb, "%d/%s", 42, "x");
	strbuf_addc(&sb, '!');
	ck_assert_str_eq(strbuf_cstr(&sb), "plan 42/x!");
	ck_assert_uint_eq(sb.len, 10);
	arena_free(a);
}
END_TEST

START_TEST(test_strbuf__overflowing_max_fails_and_stays_failed)
{
	struct arena *a = arena_new(0);
	struct strbuf sb;

	strbuf_init(&sb, a, 8);
	ck_assert_int_eq(strbuf_adds(&sb, "12345678"), 0);
	ck_assert_int_eq(strbuf_addc(&sb, '9'), -1);
	ck_assert_int_eq(strbuf_adds(&sb, ""), -1);
	ck_assert_ptr_null(strbuf_cstr(&sb));
	arena_free(a);
}
END_TEST

START_TEST(test_strbuf__json_string_escapes_controls_and_quotes)
{
	struct arena *a = arena_new(0);
	struct strbuf sb;

	strbuf_init(&sb, a, 100);
	strbuf_add_json_string(&sb, "a\"b\\c\n\x01", 7);
	ck_assert_str_eq(strbuf_cstr(&sb), "\"a\\\"b\\\\c\\n\\u0001\"");
	arena_free(a);
}
END_TEST

Suite *suite_strbuf(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_strbuf__appends_and_formats);
	tcase_add_test(tc, test_strbuf__overflowing_max_fails_and_stays_failed);
	tcase_add_test(tc, test_strbuf__json_string_escapes_controls_and_quotes);
	suite_add_tcase(s, tc);
	return s;
}

START_TEST(test_parse__i64_accepts_only_whole_numbers_in_range)
{
	int64_t v = 0;

	ck_assert_int_eq(parse_i64("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(parse_i64("-5", -10, 10, &v), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(parse_i64("101", 0, 100, &v), -1);
	ck_assert_int_eq(parse_i64("12abc", 0, 100, &v), -1);
	ck_assert_int_eq(parse_i64("", 0, 100, &v), -1);
	ck_assert_int_eq(parse_i64(" 1", 0, 100, &v), -1);
	ck_assert_int_eq(parse_i64("99999999999999999999", 0, INT64_MAX, &v), -1);
}
END_TEST

START_TEST(test_parse__hex_round_trip_and_bools)
{
	unsigned char bytes[3];
	char hex[7];
	int b = -1;

	ck_assert_int_eq(hex_decode("00fFa1", bytes, 3), 0);
	hex_encode(bytes, 3, hex);
	ck_assert_str_eq(hex, "00ffa1");
	ck_assert_int_eq(hex_decode("0g", bytes, 1), -1);
	ck_assert_int_eq(hex_decode("abc", bytes, 1), -1);
	ck_assert_int_eq(parse_bool("Yes", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(parse_bool("off", &b), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(parse_bool("maybe", &b), -1);
}
END_TEST

START_TEST(test_parse__identifiers_and_stored_numbers)
{
	ck_assert_int_eq(ident_ok("stg_orders2", IL_MAX_IDENT, 0), 1);
	ck_assert_int_eq(ident_ok("_tmp", IL_MAX_IDENT, 0), 0);
	ck_assert_int_eq(ident_ok("_tmp", IL_MAX_IDENT, IDENT_LEADING_UNDERSCORE), 1);
	ck_assert_int_eq(ident_ok("", IL_MAX_IDENT, IDENT_LEADING_UNDERSCORE), 0);
	ck_assert_int_eq(ident_ok("Orders", IL_MAX_IDENT, 0), 0);
	ck_assert_int_eq(ident_ok("a\"b", IL_MAX_IDENT, 0), 0);
	ck_assert_int_eq(ident_ok("abcd", 4, 0), 1);
	ck_assert_int_eq(ident_ok("abcde", 4, 0), 0);
	ck_assert_double_eq(parse_double_or("2.5", 7), 2.5);
	ck_assert_double_eq(parse_double_or("2.5x", 7), 7);
	ck_assert_double_eq(parse_double_or("inf", 7), 7);
	ck_assert_double_eq(parse_double_or(NULL, 7), 7);
}
END_TEST

Suite *suite_parse(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse__i64_accepts_only_whole_numbers_in_range);
	tcase_add_test(tc, test_parse__hex_round_trip_and_bools);
	tcase_add_test(tc, test_parse__identifiers_and_stored_numbers);
	suite_add_tcase(s, tc);
	return s;
}

static const char *write_temp(const char *text)
{
	static char path[] = "/tmp/il-config-XXXXXX";
	int fd;

	memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

#define GOOD_SECRETS \
	"jwt_secret = 0123456789abcdef0123456789abcdef\n" \
	"master_key = " \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"

START_TEST(test_config__file_then_environment_override)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	char err[256] = "";
	const char *path = write_temp("# comment\n database_url = dbname=x \n"
				      "max_body_bytes = 2048\n" GOOD_SECRETS
				      "repo_roots = /srv/a:/srv/b\n"
				      "shared_repo_roots = /srv/shared\n");

	setenv("IRONLAYER_MAX_BODY_BYTES", "4096", 1);
	ck_assert_int_eq(config_load(&cfg, a, path, CONFIG_NEED_DB | CONFIG_NEED_SECRETS,
				     err, sizeof(err)), 0);
	unsetenv("IRONLAYER_MAX_BODY_BYTES");
	ck_assert_str_eq(cfg.database_url, "dbname=x");
	ck_assert_str_eq(cfg.migrate_database_url, "dbname=x");
	ck_assert_int_eq(cfg.max_body_bytes, 4096);
	ck_assert_int_eq(cfg.n_repo_roots, 2);
	ck_assert_str_eq(cfg.repo_root[1], "/srv/b");
	ck_assert_int_eq(cfg.n_shared_repo_roots, 1);
	ck_assert_str_eq(cfg.shared_repo_root[0], "/srv/shared");
	ck_assert_int_eq(cfg.master_key[1], 0x11);
	ck_assert_int_eq(cfg.access_token_ttl, 900);
	unlink(path);
	arena_free(a);
}
END_TEST

START_TEST(test_config__errors_name_the_problem)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	char err[256];
	const char *path;

	path = write_temp("databse_url = x\n");
	ck_assert_int_eq(config_load(&cfg, a, path, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":1: unknown key 'databse_url'"));
	unlink(path);

	path = write_temp("shared_repo_roots = /srv/ok:relative/dir\n");
	ck_assert_int_eq(config_load(&cfg, a, path, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "shared_repo_roots: 'relative/dir' is not an absolute path"));
	unlink(path);

	path = write_temp("max_body_bytes = 10\n");
	ck_assert_int_eq(config_load(&cfg, a, path, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "max_body_bytes must be a whole number from 1024"));
	unlink(path);

	path = write_temp("database_url = x\njwt_secret = short\nmaster_key = 00\n");
	ck_assert_int_eq(config_load(&cfg, a, path, CONFIG_NEED_SECRETS, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "jwt_secret must be at least 32 bytes");
	unlink(path);

	path = write_temp(GOOD_SECRETS);
	ck_assert_int_eq(config_load(&cfg, a, path, CONFIG_NEED_DB, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "database_url is required"));
	/* the variable that works, spelled as it works, and the file that was read */
	ck_assert_ptr_nonnull(strstr(err, "IRONLAYER_DATABASE_URL"));
	ck_assert_ptr_null(strstr(err, "IRONLAYER_database_url"));
	ck_assert_ptr_nonnull(strstr(err, path));
	unlink(path);

	path = write_temp("cors_allowed_origins = https://app.example.com, *\n");
	ck_assert_int_eq(config_load(&cfg, a, path, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cors_allowed_origins: '*' is not an origin"));
	unlink(path);
	path = write_temp("cors_allowed_origins = https://app.example.com/ui\n");
	ck_assert_int_eq(config_load(&cfg, a, path, 0, err, sizeof(err)), -1);
	unlink(path);
	path = write_temp("trusted_proxies = 10.0.0.0/8 proxy.example.com\n");
	ck_assert_int_eq(config_load(&cfg, a, path, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "trusted_proxies: 'proxy.example.com'"));
	unlink(path);
	path = write_temp("cors_allowed_origins = https://app.example.com http://localhost:5173\n"
			  "trusted_proxies = 10.0.0.0/8, ::1\n");
	ck_assert_int_eq(config_load(&cfg, a, path, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.login_max_failures_per_account, 5);
	ck_assert_int_eq(cfg.signup_max_per_address_per_hour, 10);
	unlink(path);

	ck_assert_int_eq(config_load(&cfg, a, "/nonexistent/il.conf", 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot read config file /nonexistent/il.conf"));
	arena_free(a);
}
END_TEST

Suite *suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_config__file_then_environment_override);
	tcase_add_test(tc, test_config__errors_name_the_problem);
	suite_add_tcase(s, tc);
	return s;
}

static void secret_config(struct il_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(cfg->master_key, 0x42, 32);
	cfg->master_key_version = 2;
	memset(cfg->master_key_previous, 0x17, 32);
	cfg->master_key_previous_version = 1;
}

START_TEST(test_secret__round_trip_bound_to_tenant_and_purpose)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	const char *sealed, *plain = NULL;
	char tampered[512];

	secret_config(&cfg);
	ck_assert_int_eq(secret_seal(&sealed, a, &cfg, "tenant-a", SECRET_LLM_KEY,
				     "sk-live-123"), 0);
	ck_assert_int_eq(strncmp(sealed, "\\x0002", 6), 0);   /* format 0, key version 2 */
	ck_assert_ptr_null(strstr(sealed, "736b2d6c697665")); /* "sk-live" in hex */
	ck_assert_uint_eq(strlen(sealed), 2 + 2 * (SECRET_OVERHEAD + 11));
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "tenant-a", SECRET_LLM_KEY, sealed), 0);
	ck_assert_str_eq(plain, "sk-live-123");
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "tenant-b", SECRET_LLM_KEY, sealed), -1);
	/* the same tenant's blob moved to another column does not open there */
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "tenant-a", SECRET_CONNECTION, sealed), -1);
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "tenant-a", SECRET_WAREHOUSE_PASSWORD,
				     sealed), -1);
	snprintf(tampered, sizeof(tampered), "%s", sealed);
	tampered[40] = tampered[40] == '0' ? '1' : '0';
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "tenant-a", SECRET_LLM_KEY, tampered), -1);
	ck_assert_int_eq(secret_version(sealed), 2);
	ck_assert_int_eq(secret_is_current(&cfg, sealed), 1);
	arena_free(a);
}
END_TEST

START_TEST(test_secret__relabelled_key_version_does_not_open)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	const char *sealed, *plain = NULL;
	char relabelled[512];

	secret_config(&cfg);
	memcpy(cfg.master_key_previous, cfg.master_key, 32);  /* same key, two labels */
	ck_assert_int_eq(secret_seal(&sealed, a, &cfg, "t", SECRET_CONNECTION, "dsn"), 0);
	snprintf(relabelled, sizeof(relabelled), "%s", sealed);
	relabelled[5] = '1';                                  /* \x0002 -> \x0001 */
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "t", SECRET_CONNECTION, sealed), 0);
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "t", SECRET_CONNECTION, relabelled), -1);
	arena_free(a);
}
END_TEST

/* A blob of the legacy format (before 010): version || nonce || ct || tag, AAD = tenant. */
static const char *legacy_seal(struct arena *a, const unsigned char key[32], int version,
			       const char *tenant, const char *plain)
{
	size_t n = strlen(plain), total = 1 + 12 + n + 16;
	unsigned char *blob = arena_alloc(a, total);
	char *hex = arena_alloc(a, 2 * total + 3);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0;

	blob[0] = (unsigned char)version;
	memset(blob + 1, 0x5a, 12);
	ck_assert(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, blob + 1) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)tenant,
				    (int)strlen(tenant)) == 1);
	ck_assert(EVP_EncryptUpdate(ctx, blob + 13, &len, (const unsigned char *)plain,
				    (int)n) == 1);
	ck_assert(EVP_EncryptFinal_ex(ctx, blob + 13 + len, &len) == 1);
	ck_assert(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, blob + 13 + n) == 1);
	EVP_CIPHER_CTX_free(ctx);
	hex[0] = '\\';
	hex[1] = 'x';
	hex_encode(blob, total, hex + 2);
	return hex;
}

START_TEST(test_secret__legacy_blobs_open_until_resealed)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	const char *old, *plain = NULL;

	secret_config(&cfg);
	old = legacy_seal(a, cfg.master_key, 2, "t", "sk-old-key");
	ck_assert_int_eq(secret_version(old), 2);
	ck_assert_int_eq(secret_is_current(&cfg, old), 0);   /* rotate-master-key re-seals it */
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "t", SECRET_LLM_KEY, old), 0);
	ck_assert_str_eq(plain, "sk-old-key");
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "u", SECRET_LLM_KEY, old), -1);
	old = legacy_seal(a, cfg.master_key_previous, 1, "t", "pw");
	ck_assert_int_eq(secret_open(&plain, a, &cfg, "t", SECRET_WAREHOUSE_PASSWORD, old), 0);
	ck_assert_str_eq(plain, "pw");
	arena_free(a);
}
END_TEST

START_TEST(test_secret__previous_key_opens_until_rotated_away)
{
	struct arena *a = arena_new(0);
	struct il_config old, now;
	const char *sealed, *plain = NULL;

	secret_config(&now);
	memset(&old, 0, sizeof(old));
	memset(old.master_key, 0x17, 32);
	old.master_key_version = 1;
	ck_assert_int_eq(secret_seal(&sealed, a, &old, "t", SECRET_CONNECTION, "dsn=secret"), 0);
	ck_assert_int_eq(secret_is_current(&now, sealed), 0);
	ck_assert_int_eq(secret_open(&plain, a, &now, "t", SECRET_CONNECTION, sealed), 0);
	ck_assert_str_eq(plain, "dsn=secret");
	now.master_key_previous_version = 0;
	ck_assert_int_eq(secret_open(&plain, a, &now, "t", SECRET_CONNECTION, sealed), -1);
	arena_free(a);
}
END_TEST

START_TEST(test_ipmatch__addresses_and_networks)
{
	ck_assert_int_eq(ip_match("10.0.0.0/8", "10.1.2.3"), 1);
	ck_assert_int_eq(ip_match("10.0.0.0/8", "11.1.2.3"), 0);
	ck_assert_int_eq(ip_match("192.0.2.7", "192.0.2.7"), 1);
	ck_assert_int_eq(ip_match("192.0.2.7", "192.0.2.8"), 0);
	ck_assert_int_eq(ip_match("192.0.2.0/25", "192.0.2.127"), 1);
	ck_assert_int_eq(ip_match("192.0.2.0/25", "192.0.2.128"), 0);
	ck_assert_int_eq(ip_match("127.0.0.1", "::ffff:127.0.0.1"), 1);
	ck_assert_int_eq(ip_match("2001:db8::/32", "2001:db8:1::5"), 1);
	ck_assert_int_eq(ip_match("2001:db8::/32", "2001:db9::5"), 0);
	ck_assert_int_eq(ip_match("0.0.0.0/0", "203.0.113.9"), 1);
	ck_assert_int_eq(ip_match("10.0.0.0/8", "not-an-ip"), 0);
	ck_assert_int_eq(ip_match("10.0.0.0/33", NULL), -1);
	ck_assert_int_eq(ip_match("example.com", NULL), -1);
	ck_assert_int_eq(ip_match("10.0.0.0/x", NULL), -1);
	ck_assert_int_eq(ip_in_list("192.0.2.1, 10.0.0.0/8 ::1", "::1"), 1);
	ck_assert_int_eq(ip_in_list("192.0.2.1, 10.0.0.0/8", "198.51.100.1"), 0);
	ck_assert_int_eq(ip_in_list("", "127.0.0.1"), 0);
}
END_TEST

Suite *suite_secret(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_secret__round_trip_bound_to_tenant_and_purpose);
	tcase_add_test(tc, test_secret__relabelled_key_version_does_not_open);
	tcase_add_test(tc, test_secret__legacy_blobs_open_until_resealed);
	tcase_add_test(tc, test_secret__previous_key_opens_until_rotated_away);
	tcase_add_test(tc, test_ipmatch__addresses_and_networks);
	suite_add_tcase(s, tc);
	return s;
}
