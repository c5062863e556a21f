/* test_json.c: --json on every command, and what each one's JSON says */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clirun.h"

/* Every command's usage offers --json. */
START_TEST(test_cli__every_command_offers_json)
{
	struct run all, r;
	char *line, *save = NULL;
	int n = 0;

	cli(&all, NULL, NULL, NULL, "--help");
	ck_assert_int_eq(all.status, 0);
	for (line = strtok_r(all.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[64], *usage, *alt;

		if (strncmp(line, "  ", 2) != 0 || line[2] == ' ' || sscanf(line, "%63s", name) != 1)
			continue;
		cli(&r, NULL, NULL, NULL, "%s --help", name);
		ck_assert_int_eq(r.status, 0);
		/* each usage ("usage: ironlayer ..." or "       ironlayer ...", perhaps
		 * continued on lines "       [...") names --json */
		usage = strtok_r(r.out, "\n", &alt);
		while (usage != NULL && (strncmp(usage, "usage: ", 7) == 0 ||
					 strncmp(usage, "       ", 7) == 0)) {
			char *next = strtok_r(NULL, "\n", &alt);
			int has = strstr(usage, "--json") != NULL;

			while (next != NULL && strncmp(next, "       [", 8) == 0) {
				has |= strstr(next, "--json") != NULL;
				next = strtok_r(NULL, "\n", &alt);
			}
			ck_assert_msg(has, "%s: %s", name, usage);
			usage = next;
		}
		run_free(&r);
		n++;
	}
	ck_assert_int_ge(n, 19);
	run_free(&all);
}
END_TEST

/* Runs args; it must exit 0 and print one JSON value of type want, no escapes. */
static json_object *json_run(const struct cli_user *u, const char *env, const char *in,
			     json_type want, const char *args)
{
	json_object *o;
	struct run r;

	cli(&r, u, env, in, "%s", args);
	ck_assert_msg(r.status == 0, "%s: exit %d: %s%s", args, r.status, r.out, r.err);
	ck_assert_msg(!has_escape(r.out), "%s: %s", args, r.out);
	o = json_tokener_parse(r.out);
	ck_assert_msg(o != NULL && json_object_is_type(o, want), "%s: not JSON of the type: %s",
		      args, r.out);
	run_free(&r);
	return o;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
		      json_object_to_json_string(o));
	return json_object_get_string(v);
}

/* The operator's commands, on the stack's own configuration file. */
__attribute__((format(printf, 3, 4)))
static json_object *operator_json(const char *env, json_type want, const char *fmt, ...)
{
	char args[2048], rest[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	snprintf(args, sizeof(args), "--config %s/ironlayer.conf %s", getenv("IL_TEST_VAR"), rest);
	return json_run(NULL, env, NULL, want, args);
}

static void operator_commands(const struct tenant *t)
{
	char email[256], *repo_path;
	json_object *o;

	o = operator_json(NULL, json_type_object, "migrate --json");
	/* every migration is in already: nothing applied now */
	ck_assert_int_ge(json_object_get_int(json_object_object_get(o, "migrations")), 10);
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(o, "applied")), 0);
	json_object_put(o);
	snprintf(email, sizeof(email), "json-%s", t->email);
	o = operator_json("IRONLAYER_PASSWORD=json-user-password-1", json_type_object,
			  "user add --tenant %s --email %s --role viewer --json", t->tenant_id, email);
	ck_assert_str_eq(str_of(o, "email"), email);
	ck_assert_str_eq(str_of(o, "role"), "viewer");
	ck_assert_str_eq(str_of(o, "tenant_id"), t->tenant_id);
	ck_assert_int_eq((int)strlen(str_of(o, "id")), 36);
	json_object_put(o);
	o = operator_json(NULL, json_type_object, "user set-role --email %s --role operator --json",
			  email);
	ck_assert_str_eq(str_of(o, "role"), "operator");
	ck_assert_str_eq(str_of(o, "tenant_id"), t->tenant_id);
	json_object_put(o);
	o = operator_json(NULL, json_type_object, "user disable --email %s --json", email);
	ck_assert(json_object_get_boolean(json_object_object_get(o, "disabled")));
	json_object_put(o);
	o = operator_json(NULL, json_type_array, "user list --tenant %s --json", t->tenant_id);
	ck_assert_int_eq((int)json_object_array_length(o), 2);
	json_object_put(o);

	o = operator_json(NULL, json_type_object, "repo add --tenant %s %s jsonrepo --json",
			  t->email, getenv("IL_TEST_REPO"));
	ck_assert_str_eq(str_of(o, "name"), "jsonrepo");
	ck_assert_str_eq(str_of(o, "tenant_id"), t->tenant_id);
	repo_path = strdup(str_of(o, "repo_path"));
	ck_assert_ptr_nonnull(strstr(repo_path, t->tenant_id));
	json_object_put(o);
	o = operator_json(NULL, json_type_object, "audit verify --json");
	ck_assert(json_object_get_boolean(json_object_object_get(o, "intact")));
	json_object_put(o);
	o = operator_json(NULL, json_type_object, "rotate-master-key --json");
	ck_assert_int_ge((int)json_object_array_length(json_object_object_get(o, "secrets")), 1);
	json_object_put(o);
	o = operator_json(NULL, json_type_array, "routes --json");
	ck_assert_int_ge((int)json_object_array_length(o), 20);
	json_object_put(o);
	free(repo_path);
}

/* remote plan, plans, show, approve, apply, runs, reject, envs: each as JSON. */
static void review_commands(const struct cli_user *u, const char *repo)
{
	char args[2048], *id, *id2;
	json_object *o;

	snprintf(args, sizeof(args), "remote plan %s tags/c1 tags/c2 --as-of 2026-11-05 --json",
		 repo);
	o = json_run(u, NULL, NULL, json_type_object, args);
	id = strdup(str_of(o, "plan_id"));
	json_object_put(o);
	o = json_run(u, NULL, NULL, json_type_array, "plans --json");
	ck_assert_int_eq((int)json_object_array_length(o), 1);
	json_object_put(o);
	snprintf(args, sizeof(args), "plans show %.10s --json", id);
	o = json_run(u, NULL, NULL, json_type_object, args);
	ck_assert_str_eq(str_of(o, "plan_id"), id);
	json_object_put(o);
	snprintf(args, sizeof(args), "plans show %s --sql --json", id);
	o = json_run(u, NULL, NULL, json_type_object, args);
	ck_assert_str_eq(str_of(o, "plan_id"), id);
	json_object_put(o);
	snprintf(args, sizeof(args), "approve %s --comment ok --json", id);
	o = json_run(u, NULL, NULL, json_type_object, args);
	ck_assert_str_eq(str_of(o, "status"), "approved");
	json_object_put(o);
	snprintf(args, sizeof(args), "apply %s --json", id);
	o = json_run(u, NULL, NULL, json_type_object, args);
	ck_assert_str_eq(str_of(o, "status"), "applied");
	json_object_put(o);
	snprintf(args, sizeof(args), "runs --plan %s --json", id);
	o = json_run(u, NULL, NULL, json_type_array, args);
	ck_assert_int_eq((int)json_object_array_length(o), 6);
	json_object_put(o);

	/* revisions as in a checkout: the fixture's HEAD is cyc, after bad, slow and c4 */
	snprintf(args, sizeof(args), "remote plan %s HEAD~3 HEAD~2 --as-of 2026-11-05 --json", repo);
	o = json_run(u, NULL, NULL, json_type_object, args);
	id2 = strdup(str_of(o, "plan_id"));
	{
		char *c4 = fixture_sha("c4");

		ck_assert_str_eq(str_of(o, "base"), c4);
		free(c4);
	}
	json_object_put(o);
	snprintf(args, sizeof(args), "reject %s --reason no --json", id2);
	o = json_run(u, NULL, NULL, json_type_object, args);
	ck_assert_str_eq(str_of(o, "status"), "rejected");
	json_object_put(o);
	o = json_run(u, NULL, NULL, json_type_array, "envs --json");
	ck_assert_str_eq(str_of(json_object_array_get_idx(o, 0), "name"), "dev");
	json_object_put(o);
	free(id);
	free(id2);
}

/* plan, models, lineage, check: a repository on this machine. */
static void local_commands(void)
{
	const char *repo = getenv("IL_TEST_REPO");
	char args[1024];
	json_object *o;

	snprintf(args, sizeof(args), "plan %s c1 c2 --as-of 2026-11-05 --json", repo);
	o = json_run(NULL, NULL, NULL, json_type_object, args);
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(o, "steps")), 6);
	json_object_put(o);
	snprintf(args, sizeof(args), "models %s --at c1 --json", repo);
	o = json_run(NULL, NULL, NULL, json_type_array, args);
	ck_assert_int_eq((int)json_object_array_length(o), 6);
	json_object_put(o);
	snprintf(args, sizeof(args), "lineage %s raw.orders --at c1 --json", repo);
	o = json_run(NULL, NULL, NULL, json_type_object, args);
	ck_assert_str_eq(str_of(o, "model"), "raw.orders");
	json_object_put(o);
	snprintf(args, sizeof(args), "check %s --at c1 --json", repo);
	o = json_run(NULL, NULL, NULL, json_type_object, args);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "errors")), 0);
	json_object_put(o);
}

START_TEST(test_cli__every_command_answers_json)
{
	struct cli_user u;
	struct tenant t;
	char args[512];
	json_object *o;

	tenant_new(&t, "clijson");
	user_new(&u);
	snprintf(args, sizeof(args), "login --email %s --json", t.email);
	o = json_run(&u, NULL, TEST_PASSWORD "\n", json_type_object, args);
	ck_assert_str_eq(str_of(o, "email"), t.email);
	json_object_put(o);
	operator_commands(&t);
	review_commands(&u, getenv("IL_TEST_REPO"));
	local_commands();
	o = json_run(&u, NULL, NULL, json_type_object, "logout --json");
	ck_assert(json_object_get_boolean(json_object_object_get(o, "logged_out")));
	json_object_put(o);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

Suite *suite_json(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cli__every_command_offers_json);
	tcase_add_test(tc, test_cli__every_command_answers_json);
	suite_add_tcase(s, tc);
	return s;
}
