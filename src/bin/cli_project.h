/* cli_project.h: what the commands that read a repository share (plan, models, lineage, check) */
#ifndef IL_CLI_PROJECT_H
#define IL_CLI_PROJECT_H

#include "repo/repo.h"
#include "util/config.h"

struct project;

struct cli {
	const char *prog;         /* "ironlayer plan" etc., for messages */
	struct arena *a;
	struct il_config cfg;
	struct repo *repo;
};

/* Arena, config and repository; 0, or 1 after a message (no such directory, not git …). */
int cli_start(struct cli *c, const char *prog, const char *repo_path);
void cli_end(struct cli *c);
/* The project's problems on stderr (warnings too when warnings is set). */
void cli_print_diags(const struct project *p, int warnings);
/* Resolves rev and loads the models at it; messages go to stderr. */
int cli_load_at(struct project **out, char sha[REPO_OID_HEX_LEN + 1], struct cli *c,
		const char *rev);

#endif
