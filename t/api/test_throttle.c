/* test_throttle.c: login and signup throttling per account, per address, under concurrency */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_util.h"

/*
 * The stack runs with low limits for this suite (restarted around it): 5
 * failures per account (the default), 10 per address, 3 signups per address
 * per hour, and 127.0.0.9 as the one trusted proxy. Each test sends from
 * loopback addresses of its own (curl binds them), so their counters never
 * meet.
 */
#define PER_ACCOUNT 5
#define PER_ADDRESS 10
#define SIGNUPS 3
#define TRUSTED_PROXY "127.0.0.9"

static char *saved_per_address, *saved_signups;

static void restart_stack(void)
{
	char args[512];

	snprintf(args, sizeof(args), "up --port %s --builddir %s", getenv("IL_TEST_PORT"),
		 getenv("IL_TEST_BUILDDIR"));
	if (stack(args) != 0)
		fprintf(stderr, "throttle: the stack did not come up\n");
}

static char *saved(const char *name)
{
	const char *v = getenv(name);

	return v ? strdup(v) : NULL;
}

static void restore(const char *name, char *value)
{
	if (value != NULL)
		setenv(name, value, 1);
	else
		unsetenv(name);
	free(value);
}

static void low_limits(void)
{
	saved_per_address = saved("IRONLAYER_LOGIN_MAX_FAILURES_PER_ADDRESS");
	saved_signups = saved("IRONLAYER_SIGNUP_MAX_PER_ADDRESS_PER_HOUR");
	setenv("IRONLAYER_LOGIN_MAX_FAILURES_PER_ACCOUNT", "5", 1);
	setenv("IRONLAYER_LOGIN_MAX_FAILURES_PER_ADDRESS", "10", 1);
	setenv("IRONLAYER_SIGNUP_MAX_PER_ADDRESS_PER_HOUR", "3", 1);
	setenv("IRONLAYER_TRUSTED_PROXIES", TRUSTED_PROXY, 1);
	restart_stack();
}

static void usual_limits(void)
{
	unsetenv("IRONLAYER_LOGIN_MAX_FAILURES_PER_ACCOUNT");
	unsetenv("IRONLAYER_TRUSTED_PROXIES");
	restore("IRONLAYER_LOGIN_MAX_FAILURES_PER_ADDRESS", saved_per_address);
	restore("IRONLAYER_SIGNUP_MAX_PER_ADDRESS_PER_HOUR", saved_signups);
	restart_stack();
}

/* Signs up email from source; returns the status. */
static long signup_from(const char *source, const char *email)
{
	struct send_opts o = { source, NULL, { NULL } };
	char body[512];
	struct resp *r;
	long s;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"display_name\":"
		 "\"Throttle\"}", email, TEST_PASSWORD);
	r = must_send("POST", "/api/v1/auth/signup", body, &o);
	s = r->status;
	resp_free(r);
	return s;
}

/* A login of email/password from source, with an extra header (or NULL). */
static struct resp *login_from(const char *source, const char *email, const char *password,
			       const char *header)
{
	struct send_opts o = { source, NULL, { header, NULL } };
	char *body = login_json(email, password);
	struct resp *r = must_send("POST", "/api/v1/auth/login", body, &o);

	free(body);
	return r;
}

static long login_status(const char *source, const char *email, const char *password,
			 const char *header)
{
	struct resp *r = login_from(source, email, password, header);
	long s = r->status;

	resp_free(r);
	return s;
}

static char *failures_logged(const char *email)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT coalesce(sum(count), 0) || ':' || count(DISTINCT tenant_id)"
		 " FROM security_events WHERE event = 'login_failed' AND subject_hash ="
		 " encode(sha256(convert_to('%s', 'UTF8')), 'hex')", email);
	return psql1(sql);
}

START_TEST(test_throttle__one_account_from_three_addresses_is_429)
{
	static const char *const from[3] = { "127.0.0.2", "127.0.0.3", "127.0.0.4" };
	char email[160], *out;
	struct resp *r;
	long retry;
	int i;

	snprintf(email, sizeof(email), "%s@example.com", unique("acct"));
	ck_assert_int_eq(signup_from("127.0.1.1", email), 201);
	for (i = 0; i < PER_ACCOUNT; i++)
		ck_assert_int_eq(login_status(from[i % 3], email, "wrong password!", NULL), 401);
	r = login_from(from[PER_ACCOUNT % 3], email, "wrong password!", NULL);
	ck_assert_status(r, 429);
	ck_assert_str_eq(resp_str(r, "code"), "too_many_attempts");
	retry = strtol(resp_header(r, "Retry-After"), NULL, 10);
	ck_assert_msg(retry > 800 && retry <= 900, "Retry-After %ld", retry);
	resp_free(r);
	/* the right password, from a fourth address: the account waits all the same */
	ck_assert_int_eq(login_status("127.0.0.5", email, TEST_PASSWORD, NULL), 429);
	/* the web server saw each bound address as REMOTE_ADDR */
	ck_assert(access_log_has_client("127.0.0.2"));
	ck_assert(access_log_has_client("127.0.0.3"));
	/* five failures in the security log, in one row of the account's tenant */
	out = failures_logged(email);
	ck_assert_str_eq(out, "5:1");
	free(out);
}
END_TEST

START_TEST(test_throttle__thirty_emails_from_one_address_is_429)
{
	char email[160];
	int i, refused = 0;

	for (i = 0; i < 30; i++) {
		long s;

		snprintf(email, sizeof(email), "%s@example.com", unique("spray"));
		s = login_status("127.0.2.1", email, "wrong password!", NULL);
		ck_assert_msg(s == (i < PER_ADDRESS ? 401 : 429), "attempt %d: %ld", i + 1, s);
		refused += s == 429;
	}
	ck_assert_int_eq(refused, 30 - PER_ADDRESS);
	/* another address is not affected */
	snprintf(email, sizeof(email), "%s@example.com", unique("spray"));
	ck_assert_int_eq(login_status("127.0.2.2", email, "wrong password!", NULL), 401);
}
END_TEST

struct racer {
	pthread_barrier_t *start;
	const char *email;
	char source[32];
	long status;
};

static void *race(void *arg)
{
	struct racer *rc = arg;
	struct send_opts o = { rc->source, NULL, { NULL } };
	char body[512];
	struct resp *r;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"wrong password!\"}",
		 rc->email);
	pthread_barrier_wait(rc->start);
	r = send_req("POST", "/api/v1/auth/login", body, &o);
	rc->status = r ? r->status : -1;
	resp_free(r);
	return NULL;
}

START_TEST(test_throttle__ten_concurrent_bad_logins_stay_within_the_limit)
{
	struct racer racers[10];
	pthread_t th[10];
	pthread_barrier_t start;
	char email[160], want[32], *out;
	int i, n401 = 0, n429 = 0;

	snprintf(email, sizeof(email), "%s@example.com", unique("race"));
	ck_assert_int_eq(signup_from("127.0.1.2", email), 201);
	pthread_barrier_init(&start, NULL, 10);
	for (i = 0; i < 10; i++) {
		racers[i].start = &start;
		racers[i].email = email;
		snprintf(racers[i].source, sizeof(racers[i].source), "127.0.3.%d", i + 1);
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, &racers[i]), 0);
	}
	for (i = 0; i < 10; i++) {
		pthread_join(th[i], NULL);
		n401 += racers[i].status == 401;
		n429 += racers[i].status == 429;
	}
	pthread_barrier_destroy(&start);
	ck_assert_int_eq(n401 + n429, 10);
	ck_assert_msg(n401 <= PER_ACCOUNT, "%d wrong passwords were checked, limit %d", n401,
		      PER_ACCOUNT);
	ck_assert_int_eq(n401, PER_ACCOUNT);   /* and none admitted was lost */
	out = failures_logged(email);
	snprintf(want, sizeof(want), "%d:1", n401);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

START_TEST(test_throttle__signups_per_address_are_capped)
{
	char email[160];
	struct resp *r;
	long retry;
	int i;

	for (i = 0; i < SIGNUPS; i++) {
		snprintf(email, sizeof(email), "%s@example.com", unique("many"));
		ck_assert_int_eq(signup_from("127.0.4.1", email), 201);
	}
	snprintf(email, sizeof(email), "%s@example.com", unique("many"));
	{
		struct send_opts o = { "127.0.4.1", NULL, { NULL } };
		char body[512];

		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\","
			 "\"display_name\":\"Throttle\"}", email, TEST_PASSWORD);
		r = must_send("POST", "/api/v1/auth/signup", body, &o);
	}
	ck_assert_status(r, 429);
	retry = strtol(resp_header(r, "Retry-After"), NULL, 10);
	ck_assert_msg(retry > 3000 && retry <= 3600, "Retry-After %ld", retry);
	resp_free(r);
	{
		char sql[512], *out;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM users WHERE email = '%s'", email);
		out = psql1(sql);
		ck_assert_str_eq(out, "0");   /* refused before any account was made */
		free(out);
	}
	ck_assert_int_eq(signup_from("127.0.4.2", email), 201);
}
END_TEST

START_TEST(test_throttle__spoofed_forwarded_for_is_ignored)
{
	char email[160], xff[96];
	int i;

	/* an untrusted peer names a new address each time: still one address */
	for (i = 0; i < PER_ADDRESS; i++) {
		snprintf(email, sizeof(email), "%s@example.com", unique("xff"));
		snprintf(xff, sizeof(xff), "X-Forwarded-For: 203.0.113.%d", i + 1);
		ck_assert_int_eq(login_status("127.0.5.1", email, "wrong password!", xff), 401);
	}
	snprintf(email, sizeof(email), "%s@example.com", unique("xff"));
	ck_assert_int_eq(login_status("127.0.5.1", email, "wrong password!",
				      "X-Forwarded-For: 203.0.113.200"), 429);

	/* behind the trusted proxy: the address it appended is the client */
	for (i = 0; i < PER_ADDRESS; i++) {
		snprintf(email, sizeof(email), "%s@example.com", unique("xff"));
		ck_assert_int_eq(login_status(TRUSTED_PROXY, email, "wrong password!",
					      "X-Forwarded-For: 198.51.100.10"), 401);
	}
	snprintf(email, sizeof(email), "%s@example.com", unique("xff"));
	/* an entry the client wrote itself, left of the proxy's, changes nothing */
	ck_assert_int_eq(login_status(TRUSTED_PROXY, email, "wrong password!",
				      "X-Forwarded-For: 198.51.100.99, 198.51.100.10"), 429);
	/* another client behind the same proxy is counted apart */
	ck_assert_int_eq(login_status(TRUSTED_PROXY, email, "wrong password!",
				      "X-Forwarded-For: 198.51.100.11"), 401);
}
END_TEST

Suite *suite_throttle(void)
{
	Suite *s = suite_create("throttle");
	TCase *tc = tcase_create("throttle");

	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, low_limits, usual_limits);
	tcase_add_test(tc, test_throttle__one_account_from_three_addresses_is_429);
	tcase_add_test(tc, test_throttle__thirty_emails_from_one_address_is_429);
	tcase_add_test(tc, test_throttle__ten_concurrent_bad_logins_stay_within_the_limit);
	tcase_add_test(tc, test_throttle__signups_per_address_are_capped);
	tcase_add_test(tc, test_throttle__spoofed_forwarded_for_is_ignored);
	suite_add_tcase(s, tc);
	return s;
}
