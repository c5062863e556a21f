/* cli_project.h: what the commands that read a repository share (plan, models, lineage, check) */
#ifndef IL_CLI_PROJECT_H
#define IL_CLI_PROJECT_H

#include <pthread.h>

#include "repo/repo.h"
#include "util/config.h"

struct parse_store;
struct project;

/* The parse cache flags every repository command takes (cli_cache_opts). */
struct cli_cache_flags {
	int no_cache;             /* --no-cache: parse everything, keep nothing */
	int stats;                /* --cache-stats: say on stderr what the cache did */
};

/* { "--no-cache" }, { "--cache-stats" } for a struct cli_opt table. */
#define CLI_CACHE_OPTS(f) \
	{ "--no-cache", NULL, &(f)->no_cache }, { "--cache-stats", NULL, &(f)->stats }

struct cli {
	const char *prog;         /* "ironlayer plan" etc., for messages */
	struct arena *a;
	struct il_config cfg;
	struct repo *repo;
	/* the parse cache file of this repository (docs/plan-json.md) */
	struct parse_store *store;    /* its entries, or NULL without one */
	pthread_t saver;              /* writes the cache file meanwhile */
	int saving;
	int saved;
	int cache_stats;
	char cache_dir[4096];
	char cache_path[4200];
};

/*
 * Arena, config, the parse cache file (unless f says --no-cache) and the
 * repository; 0, or 1 after a message (no such directory, not git …).
 */
int cli_start(struct cli *c, const char *prog, const char *repo_path,
	      const struct cli_cache_flags *f);
/* Writes the cache file when this run parsed anything new, then frees c. */
void cli_end(struct cli *c);
/*
 * Once every project is loaded: writes the cache file on another thread
 * while the command goes on (cli_end waits for it).
 */
void cli_cache_save_soon(struct cli *c);
/* The project's problems on stderr (warnings too when warnings is set). */
void cli_print_diags(const struct project *p, int warnings);
/* Resolves rev and loads the models at it; messages go to stderr. */
int cli_load_at(struct project **out, char sha[REPO_OID_HEX_LEN + 1], struct cli *c,
		const char *rev);
/* Both commits of a plan, loaded together (each blob parsed once); as cli_load_at. */
int cli_load_both(struct project **base, struct project **target,
		  char base_sha[REPO_OID_HEX_LEN + 1], char target_sha[REPO_OID_HEX_LEN + 1],
		  struct cli *c, const char *base_rev, const char *target_rev);

#endif
