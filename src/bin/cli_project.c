/* cli_project.c: a repository and its models, for the commands that need no server */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bin/cli.h"
#include "bin/cli_project.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

/* Why path cannot be opened as a repository, in the words a user needs. */
static const char *not_a_repo(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? "no such directory" : strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "not a directory";
	return "not a git repository (no .git inside; run git init, or name the repository's top)";
}

int cli_start(struct cli *c, const char *prog, const char *repo_path)
{
	char err[256];
	int rc;

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	if ((c->a = arena_new(1024 * 1024)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if (config_load(&c->cfg, c->a, cli_config_path, CONFIG_NEED_NOTHING, err,
			sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	rc = repo_open(&c->repo, c->a, repo_path);
	if (rc == IL_ENOTFOUND) {
		fprintf(stderr, "%s: '%s': %s\n", prog, repo_path, not_a_repo(repo_path));
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	return 0;
}

void cli_end(struct cli *c)
{
	arena_free(c->a);
}

void cli_print_diags(const struct project *p, int warnings)
{
	size_t i;

	for (i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];
		const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";

		if (d->severity == DIAG_WARNING && !warnings)
			continue;
		if (d->line)
			fprintf(stderr, "%s:%u: %s: %s\n", d->file, d->line, sev, d->message);
		else
			fprintf(stderr, "%s: %s: %s\n", *d->file ? d->file : "(project)", sev,
				d->message);
	}
}

int cli_load_at(struct project **out, char sha[REPO_OID_HEX_LEN + 1], struct cli *c,
		const char *rev)
{
	int rc = repo_resolve(sha, c->repo, rev);

	if (rc == IL_ENOTFOUND) {
		fprintf(stderr, "%s: unknown revision '%s'\n", c->prog, rev);
		return rc;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: '%s' does not name one commit\n", c->prog, rev);
		return rc;
	}
	rc = repo_load_project(out, c->a, c->repo, sha, c->cfg.models_dir);
	if (rc == IL_ETOOBIG)
		fprintf(stderr, "%s: more than %d models at %s\n", c->prog, IL_MAX_MODELS, rev);
	else if (rc == IL_ERR)
		fprintf(stderr, "%s: cannot read %s: %s\n", c->prog, rev, repo_last_error(c->repo));
	else if (rc < 0)
		fprintf(stderr, "%s: out of memory\n", c->prog);
	return rc;
}
