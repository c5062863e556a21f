/* test_pg_provision.c: the tenant's connection string (warehouse_dsn with its database) */
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include "exec/exec.h"
#include "suites.h"
#include "util/arena.h"

/* The value of key in conninfo as libpq reads it (static copy), or NULL. */
static const char *option(const char *conninfo, const char *key)
{
	static char out[256];
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL), *o;
	const char *found = NULL;

	ck_assert_ptr_nonnull(opts);
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL) {
			snprintf(out, sizeof(out), "%s", o->val);
			found = out;
		}
	PQconninfoFree(opts);
	return found;
}

START_TEST(test_conninfo_dbname__replaces_only_the_database)
{
	struct arena *a = arena_new(4096);
	const char *s = exec_conninfo_dbname(a, "host=/run/pg port=5433 dbname=ironlayer_wh "
					     "user=ironlayer_wh_admin password='it\\'s a \\\\ pw' "
					     "connect_timeout=7", "il_t0123456789abcdef");

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(option(s, "dbname"), "il_t0123456789abcdef");
	ck_assert_str_eq(option(s, "host"), "/run/pg");
	ck_assert_str_eq(option(s, "port"), "5433");
	ck_assert_str_eq(option(s, "user"), "ironlayer_wh_admin");
	ck_assert_str_eq(option(s, "password"), "it's a \\ pw");
	ck_assert_str_eq(option(s, "connect_timeout"), "7");
	ck_assert_ptr_null(strstr(s, "ironlayer_wh'"));
	arena_free(a);
}
END_TEST

START_TEST(test_conninfo_dbname__reads_uris_and_refuses_garbage)
{
	struct arena *a = arena_new(4096);
	const char *s = exec_conninfo_dbname(a, "postgresql://adm:p%40ss@localhost:5432/ironlayer_wh"
					     "?sslmode=disable", "il_tabc");

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(option(s, "dbname"), "il_tabc");
	ck_assert_str_eq(option(s, "password"), "p@ss");
	ck_assert_str_eq(option(s, "sslmode"), "disable");
	ck_assert_ptr_null(exec_conninfo_dbname(a, "host='unterminated", "il_tabc"));
	arena_free(a);
}
END_TEST

Suite *suite_pg_provision(void)
{
	Suite *s = suite_create("pg_provision");
	TCase *tc = tcase_create("conninfo");

	tcase_add_test(tc, test_conninfo_dbname__replaces_only_the_database);
	tcase_add_test(tc, test_conninfo_dbname__reads_uris_and_refuses_garbage);
	suite_add_tcase(s, tc);
	return s;
}
