/* ironlayer.c: the operator's command-line tool */
#include <stdio.h>
#include <string.h>

#include "bin/cli.h"
#include "build-config.h"

const char *cli_config_path;

struct command {
	const char *name;
	cli_fn run;
	const char *summary;
};

static const struct command commands[] = {
	{ "migrate", cli_migrate, "apply pending SQL migrations to the state database" },
	{ "plan", cli_plan, "write the execution plan between two commits" },
	{ "models", cli_models, "list the models at a commit" },
	{ "lineage", cli_lineage, "show a model's upstream and downstream" },
	{ "check", cli_check, "validate the models at a commit" },
	{ "user", cli_user, "add, list, set-role or disable users of a tenant" },
	{ "repo", cli_repo, "add a repository to a tenant's own repository root" },
	{ "audit", cli_audit, "verify the audit log's hash chains" },
	{ "rotate-master-key", cli_rotate_master_key,
	  "re-encrypt every stored secret under the current master key" },
	{ "routes", cli_routes, "print the API's route table as JSON" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: ironlayer [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
	int i = 1;
	size_t c;

	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		cli_config_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[i], "--version") == 0) {
		printf("ironlayer %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].run(argc - i, argv + i);
	fprintf(stderr, "ironlayer: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
