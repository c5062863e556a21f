/* ironlayer.c: the command-line tool: operators' commands and the API's client */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "build-config.h"
#include "util/config.h"

const char *cli_config_path;

struct command {
	const char *name;
	cli_fn run;
	const char *summary;
	const char *usage;        /* the arguments after the name */
	const char *help;         /* what the options mean, one per line */
};

/* the parse cache flags of the commands that read a repository (bin/cli_project.h) */
#define CACHE_HELP \
	"  --no-cache     read and write no parse cache file (see docs/plan-json.md)\n" \
	"  --cache-stats  how many model files came from the parse cache, on stderr\n"

static const struct command commands[] = {
	{ "login", cli_login, "log in to an IronLayer server and keep the tokens",
	  "[--url URL] [--email EMAIL] [--json]",
	  "  --url URL      the server (default $IRONLAYER_URL, else http://localhost:8000)\n"
	  "  --email EMAIL  asked when not given\n"
	  "The password is asked without echo, or read from stdin's next line\n"
	  "($IRONLAYER_PASSWORD also works). Tokens go to\n"
	  "$XDG_CONFIG_HOME/ironlayer/credentials (mode 0600) and are refreshed as needed.\n" },
	{ "logout", cli_logout, "end the session and forget the stored tokens",
	  "[--url URL] [--json]", "" },
	{ "remote", cli_remote, "plan two revisions of a repository on the server",
	  "plan REPO_PATH BASE TARGET [--env NAME] [--as-of YYYY-MM-DD] [--json]",
	  "  REPO_PATH      the repository's path on the server: in the tenant's own\n"
	  "                 <repo root>/<tenant id>/ (see ironlayer repo add) or a shared root\n"
	  "  BASE, TARGET   revisions: HEAD~1, a branch, tags/NAME, a sha (7 digits or more)\n"
	  "  --env NAME     the environment (default dev)\n" },
	{ "plans", cli_plans, "list plans, or show one (or the SQL it would run)",
	  "[--status STATUS] [--env NAME] [--limit N] [--json]\n"
	  "       ironlayer plans show ID [--sql] [--json]",
	  "  --status       pending, approved, rejected, applying, applied or failed\n"
	  "  ID             a plan id or its first digits (at least 4)\n"
	  "  --sql          the exact statements apply would send to the warehouse;\n"
	  "                 runs nothing\n" },
	{ "approve", cli_approve, "approve a plan", "ID [--comment TEXT] [--json]", "" },
	{ "reject", cli_reject, "reject a plan: it can never be applied",
	  "ID [--reason TEXT] [--json]", "" },
	{ "apply", cli_apply, "apply an approved plan, showing each step as it runs", "ID [--json]",
	  "Prints a line as each step starts and ends, then a summary.\n"
	  "Exit status 1 when a step failed or the plan was not applied.\n" },
	{ "runs", cli_runs, "list runs, newest first",
	  "[--plan ID] [--model NAME] [--status STATUS] [--limit N] [--json]", "" },
	{ "envs", cli_envs, "list the environments", "[--json]", "" },
	{ "plan", cli_plan, "the execution plan between two commits, without a server",
	  "REPO BASE TARGET [--as-of YYYY-MM-DD] [--env NAME] [--state FILE] [--out FILE]\n"
	  "       [--json] [--diff] [--no-cache] [--cache-stats]",
	  "  --json         the plan JSON (the default when stdout is not a terminal\n"
	  "                 or --out is given)\n"
	  "  --diff         the summary and each modified model's SQL diff\n"
	  "  --state FILE   watermarks and runtimes as JSON (see docs/plan-json.md)\n" CACHE_HELP },
	{ "models", cli_models, "list the models at a commit",
	  "REPO [--at REV] [--json] [--no-cache] [--cache-stats]",
	  CACHE_HELP },
	{ "lineage", cli_lineage, "a model's upstream and downstream",
	  "REPO MODEL [--at REV] [--upstream|--downstream] [--depth N] [--json | --format dot]\n"
	  "       [--no-cache] [--cache-stats]",
	  "  --format dot   Graphviz DOT (render with: dot -Tsvg)\n" CACHE_HELP },
	{ "check", cli_check, "validate the models at a commit",
	  "REPO [--at REV] [--json] [--no-cache] [--cache-stats]",
	  CACHE_HELP },
	{ "migrate", cli_migrate, "apply pending SQL migrations to the state database", "[--json]",
	  "" },
	{ "user", cli_user, "add, list, set-role or disable users of a tenant",
	  "add --tenant ID --email EMAIL --role viewer|operator|admin [--display-name NAME]\n"
	  "       [--json]\n"
	  "       ironlayer user list --tenant ID [--json]\n"
	  "       ironlayer user set-role --email EMAIL --role viewer|operator|admin [--json]\n"
	  "       ironlayer user disable --email EMAIL [--json]",
	  "The new user's password comes from $IRONLAYER_PASSWORD or the first line of stdin.\n" },
	{ "repo", cli_repo, "add a repository to a tenant's own repository root",
	  "add --tenant TENANT_ID_OR_EMAIL SOURCE [NAME] [--json]",
	  "Clones SOURCE (a path or URL) into <first repo_roots entry>/<tenant id>/NAME\n"
	  "and prints the repo_path to plan with (--json: {repo_path, tenant_id, name}).\n" },
	{ "audit", cli_audit, "verify the audit log's hash chains", "verify [--json]", "" },
	{ "rotate-master-key", cli_rotate_master_key,
	  "re-encrypt every stored secret under the current master key", "[--json]", "" },
	{ "routes", cli_routes, "print the API's route table as JSON", "[--json]", "" },
};

static const struct command *find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void cli_print_usage(FILE *f, const char *cmd, int full)
{
	char name[64];
	const struct command *c;

	/* "plans show" and "remote plan" are described by their command */
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(cmd, " "), cmd);
	c = find(name);
	if (c == NULL)
		return;
	fprintf(f, "usage: ironlayer %s %s\n", c->name, c->usage);
	if (full)
		fprintf(f, "\n%s.\n%s%s", c->summary, *c->help ? "\n" : "", c->help);
}

int cli_usage_error(const char *cmd)
{
	cli_print_usage(stderr, cmd, 0);
	fprintf(stderr, "(ironlayer %.*s --help for more)\n", (int)strcspn(cmd, " "), cmd);
	return 2;
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: ironlayer [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`ironlayer COMMAND --help` describes a command. The API commands use\n"
		"$IRONLAYER_URL and $IRONLAYER_TOKEN when set; NO_COLOR turns colour off.\n"
		"The operator commands read %s\n(or --config FILE, or $IRONLAYER_CONFIG).\n",
		config_default_path());
}

/* 1 when argv asks for help anywhere (every command answers --help the same way). */
static int wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;
	int i = 1, rc;

	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		cli_config_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
	    strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc && find(argv[i + 1]) != NULL)
			cli_print_usage(stdout, argv[i + 1], 1);
		else
			usage(stdout);
		return 0;
	}
	if (strcmp(argv[i], "--version") == 0) {
		printf("ironlayer %s\n", PACKAGE_VERSION);
		return 0;
	}
	if ((c = find(argv[i])) == NULL) {
		fprintf(stderr, "ironlayer: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return 2;
	}
	if (wants_help(argc - i, argv + i)) {
		cli_print_usage(stdout, c->name, 1);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = c->run(argc - i, argv + i);
	curl_global_cleanup();
	return rc;
}
