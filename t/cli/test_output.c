/* test_output.c: --help everywhere, colour only on terminals, summaries, JSON, DOT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clirun.h"

START_TEST(test_cli__help_exits_0_for_every_command)
{
	struct run all, r;
	char *line, *save = NULL, want[128];
	int n = 0;

	cli(&all, NULL, NULL, NULL, "--help");
	ck_assert_int_eq(all.status, 0);
	for (line = strtok_r(all.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[64];

		/* the command list: "  name   summary" */
		if (strncmp(line, "  ", 2) != 0 || line[2] == ' ' || sscanf(line, "%63s", name) != 1)
			continue;
		cli(&r, NULL, NULL, NULL, "%s --help", name);
		snprintf(want, sizeof(want), "usage: ironlayer %s ", name);
		ck_assert_msg(r.status == 0, "%s --help: exit %d %s", name, r.status, r.err);
		ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "%s --help: %s", name, r.out);
		ck_assert_str_eq(r.err, "");
		run_free(&r);
		n++;
	}
	ck_assert_int_ge(n, 18);
	run_free(&all);
	cli(&r, NULL, NULL, NULL, "plans show abc --help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "ironlayer plans show ID [--sql] [--json]"));
	run_free(&r);
	cli(&r, NULL, NULL, NULL, "plan --nope");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--nope'"));
	ck_assert_ptr_nonnull(strstr(r.err, "usage: ironlayer plan REPO BASE TARGET"));
	run_free(&r);
}
END_TEST

static void login(const struct cli_user *u, const char *email)
{
	struct run r;

	cli(&r, u, NULL, TEST_PASSWORD "\n", "login --email %s", email);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
}

/* Runs args in a pipe, on a terminal with NO_COLOR, with TERM=dumb, and on a plain terminal. */
static void check_colour(const struct cli_user *u, const char *args)
{
	struct run r;

	cli(&r, u, NULL, NULL, "%s", args);
	ck_assert_msg(r.status == 0, "%s: %s", args, r.err);
	ck_assert_msg(!has_escape(r.out) && !has_escape(r.err), "%s in a pipe: %s", args, r.out);
	run_free(&r);
	cli_tty(&r, u, "NO_COLOR=1", "%s", args);
	ck_assert_msg(r.status == 0, "%s: %s", args, r.out);
	ck_assert_msg(!has_escape(r.out), "%s with NO_COLOR: %s", args, r.out);
	run_free(&r);
	cli_tty(&r, u, "TERM=dumb", "%s", args);
	ck_assert_msg(!has_escape(r.out), "%s with TERM=dumb: %s", args, r.out);
	run_free(&r);
	cli_tty(&r, u, NULL, "%s", args);
	ck_assert_msg(r.status == 0, "%s: %s", args, r.out);
	ck_assert_msg(has_escape(r.out), "%s on a terminal has no colour: %s", args, r.out);
	run_free(&r);
}

START_TEST(test_cli__colour_only_on_a_terminal_and_never_with_no_color)
{
	struct cli_user u;
	struct tenant t;
	struct run r;
	char args[1024];

	tenant_new(&t, "clicolour");
	user_new(&u);
	login(&u, t.email);
	snprintf(args, sizeof(args), "remote plan %s tags/c1 tags/c2 --as-of 2026-11-05",
		 getenv("IL_TEST_REPO"));
	cli(&r, &u, NULL, NULL, "%s", args);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	check_colour(&u, "plans");
	check_colour(&u, "envs");
	check_colour(&u, args);
	snprintf(args, sizeof(args), "plan %s c1 c4 --as-of 2026-11-05 --diff",
		 getenv("IL_TEST_REPO"));
	check_colour(&u, args);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

START_TEST(test_cli__local_plan_summary_diff_and_json)
{
	const char *repo = getenv("IL_TEST_REPO");
	json_object *a, *b;
	struct run r, j;

	/* a pipe gets the plan JSON, as before; --json says so explicitly */
	cli(&r, NULL, NULL, NULL, "plan %s c1 c4 --as-of 2026-11-05", repo);
	cli(&j, NULL, NULL, NULL, "plan %s c1 c4 --as-of 2026-11-05 --json", repo);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, j.out);
	a = json_tokener_parse(r.out);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(a, "steps")), 6);
	json_object_put(a);
	run_free(&r);
	run_free(&j);

	cli(&r, NULL, NULL, NULL, "plan %s c1 c4 --as-of 2026-11-05 --diff", repo);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Models: 2 modified, 0 added, 0 removed; "
				     "1 cosmetic change skipped"));
	ck_assert_ptr_nonnull(strstr(r.out, "  ~ staging.orders_clean\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "    staging.customers (cosmetic: not rebuilt)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "Plan: 6 steps (0 added, 2 modified, 0 removed), "
				     "estimated cost $1.26\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n--- a/models/raw/orders.sql ("));
	ck_assert_ptr_nonnull(strstr(r.out, "\n-SELECT id, customer_id, amount, order_date FROM "
				     "raw.source_orders\n+SELECT id, customer_id, amount, order_date "
				     "FROM raw.source_orders WHERE id > 0\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n-SELECT id, customer_id, amount, order_date FROM "
				     "{{ ref('raw.orders') }} WHERE amount > 0\n"));
	/* a cosmetic edit is not a modification: no diff for it */
	ck_assert_ptr_null(strstr(r.out, "--- a/models/staging/customers.sql"));
	run_free(&r);

	cli(&r, NULL, NULL, NULL, "check %s --at c4 --json", repo);
	ck_assert_int_eq(r.status, 0);
	a = json_tokener_parse(r.out);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(a, "models")), 6);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(a, "errors")), 0);
	json_object_put(a);
	run_free(&r);
	cli(&r, NULL, NULL, NULL, "lineage %s raw.orders --at c4 --json", repo);
	ck_assert_int_eq(r.status, 0);
	b = json_tokener_parse(r.out);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(b, "model")), "raw.orders");
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(b, "downstream")), 5);
	json_object_put(b);
	run_free(&r);
}
END_TEST

START_TEST(test_cli__check_and_lineage_refuse_what_is_wrong)
{
	const char *repo = getenv("IL_TEST_REPO");
	struct run r;

	cli(&r, NULL, NULL, NULL, "lineage %s analytics.ltv --at cyc", repo);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "dependency cycle"));
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	cli(&r, NULL, NULL, NULL, "check %s/repos/nope", getenv("IL_TEST_VAR"));
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no such directory"));
	run_free(&r);
	cli(&r, NULL, NULL, NULL, "check %s/log", getenv("IL_TEST_VAR"));
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "not a git repository"));
	run_free(&r);
	cli(&r, NULL, NULL, NULL, "check %s --at cyc", repo);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "6 models, 1 error, 0 warnings\n"));
	run_free(&r);
}
END_TEST

/* Every line of the DOT text is a node or an edge between declared nodes. */
static void check_dot_structure(const char *dot, int want_nodes, int want_edges)
{
	char *copy = strdup(dot), *line, *save = NULL, nodes[4096] = "";
	int n_nodes = 0, n_edges = 0;

	ck_assert_msg(strncmp(dot, "digraph lineage {\n", 18) == 0, "%s", dot);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char a[256], b[256];

		if (sscanf(line, "  \"%255[^\"]\" -> \"%255[^\"]\";", a, b) == 2) {
			char qa[260], qb[260];

			snprintf(qa, sizeof(qa), "|%s|", a);
			snprintf(qb, sizeof(qb), "|%s|", b);
			ck_assert_msg(strstr(nodes, qa) && strstr(nodes, qb), "undeclared: %s", line);
			n_edges++;
		} else if (sscanf(line, "  \"%255[^\"]\"", a) == 1) {
			snprintf(nodes + strlen(nodes), sizeof(nodes) - strlen(nodes), "|%s|", a);
			n_nodes++;
		} else {
			ck_assert_msg(strcmp(line, "digraph lineage {") == 0 || strcmp(line, "}") == 0 ||
				      strcmp(line, "  rankdir=LR;") == 0 ||
				      strcmp(line, "  node [shape=box];") == 0, "line: %s", line);
		}
	}
	ck_assert_int_eq(n_nodes, want_nodes);
	ck_assert_int_eq(n_edges, want_edges);
	free(copy);
}

START_TEST(test_cli__lineage_as_dot_parses)
{
	struct run r;

	cli(&r, NULL, NULL, NULL, "lineage %s staging.orders_clean --at c1 --format dot",
	    getenv("IL_TEST_REPO"));
	ck_assert_int_eq(r.status, 0);
	check_dot_structure(r.out, 5, 4);
	run_free(&r);
	/* Graphviz itself, where it is installed */
	if (system("command -v dot >/dev/null 2>&1") == 0) {
		cli(&r, NULL, NULL, NULL, "lineage %s staging.orders_clean --at c1 --format dot "
		    "| dot -Tcanon >/dev/null", getenv("IL_TEST_REPO"));
		ck_assert_msg(r.status == 0, "dot rejects it: %s", r.err);
		run_free(&r);
	}
}
END_TEST

Suite *suite_output(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("output");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cli__help_exits_0_for_every_command);
	tcase_add_test(tc, test_cli__colour_only_on_a_terminal_and_never_with_no_color);
	tcase_add_test(tc, test_cli__local_plan_summary_diff_and_json);
	tcase_add_test(tc, test_cli__check_and_lineage_refuse_what_is_wrong);
	tcase_add_test(tc, test_cli__lineage_as_dot_parses);
	suite_add_tcase(s, tc);
	return s;
}
