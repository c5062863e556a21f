/* cli_project.c: a repository and its models, for the commands that need no server */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bin/cli.h"
#include "bin/cli_project.h"
#include "core/project.h"
#include "repo/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/limits.h"

/*
 * The parse cache file: one per repository in the cache directory, at most
 * this big; the directory keeps the newest files up to the total.
 */
#define CACHE_FILE_BYTES ((size_t)256 << 20)
#define CACHE_DIR_BYTES ((size_t)1 << 30)

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

/* The cache file of this repository: a hash of its path (real). */
static int cache_file_name(struct cli *c, const char *repo_path)
{
	char id[IL_SHA256_HEX_LEN + 1], real[PATH_MAX];
	int n;

	if (realpath(repo_path, real) == NULL)
		return -1;
	crypto_sha256_hex(real, strlen(real), id);
	n = snprintf(c->cache_path, sizeof(c->cache_path), "%s/%.32s.parse", c->cache_dir, id);
	return n > 0 && (size_t)n < sizeof(c->cache_path) ? 0 : -1;
}

/*
 * Files parsed by an earlier run come from the cache file; a file that is
 * missing, damaged or of another version is ignored (and rewritten at the
 * end). Without a cache directory the run just parses everything. This runs
 * while another thread sets libgit2 up (20 ms of reading the system's CA
 * bundle), before the repository is opened.
 */
static void cache_read(struct cli *c, const struct cli_cache_flags *f, const char *repo_path)
{
	int rc;

	c->cache_stats = f->stats;
	if (f->no_cache || cache_dir_open(c->cache_dir, sizeof(c->cache_dir)) < 0 ||
	    cache_file_name(c, repo_path) < 0 ||
	    (c->store = parse_store_new(CACHE_FILE_BYTES)) == NULL)
		return;
	parse_store_keep_all(c->store);    /* it lives until the process ends */
	rc = parse_store_read_file(c->store, c->cache_path);
	if (rc == IL_EINVALID && c->cache_stats)
		fprintf(stderr, "%s: cache %s: unreadable, rebuilt\n", c->prog, c->cache_path);
}

static void *set_up_git(void *arg)
{
	(void)arg;
	repo_global_init();
	return NULL;
}

static void *save_cache(void *arg)
{
	struct cli *c = arg;

	c->saved = parse_store_write_file(c->store, c->cache_path) == 0;
	cache_dir_evict(c->cache_dir, CACHE_DIR_BYTES);
	return NULL;
}

/* Once the models are loaded nothing changes the store any more. */
void cli_cache_save_soon(struct cli *c)
{
	struct parse_store_info info;

	if (c->store == NULL || c->saving)
		return;
	parse_store_get_info(c->store, &info);
	if (info.changed && pthread_create(&c->saver, NULL, save_cache, c) == 0)
		c->saving = 1;
}

/* Saves the cache file when this run parsed anything new. */
static void cache_close(struct cli *c)
{
	struct parse_cache_stats st;
	struct parse_store_info info;

	if (c->store == NULL)
		return;
	parse_store_get_info(c->store, &info);
	if (c->saving)
		pthread_join(c->saver, NULL);
	else if (info.changed)
		save_cache(c);
	if (c->cache_stats) {
		repo_cache_stats(c->repo, &st);
		fprintf(stderr, "%s: cache %s: %zu files from the cache, %zu parsed, %zu bad "
			"entries; %s\n", c->prog, c->cache_path, st.from_store, st.parsed,
			st.bad_entries, !info.changed ? "unchanged" : c->saved ? "saved" :
			"not saved");
	}
}

int cli_start(struct cli *c, const char *prog, const char *repo_path,
	      const struct cli_cache_flags *f)
{
	pthread_t git_thread;
	char err[256];
	int rc, git_started;

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	/* 4 MiB blocks: in 2 MiB pages (util/arena.c) */
	if ((c->a = arena_new((size_t)4 << 20)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if (config_load(&c->cfg, c->a, cli_config_path, CONFIG_NEED_NOTHING, err,
			sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	/*
	 * libgit2 is set up meanwhile; joined, not detached: a thread still
	 * ending at exit leaves what it frees on its way out (OpenSSL's
	 * per-thread state) to look leaked
	 */
	git_started = pthread_create(&git_thread, NULL, set_up_git, NULL) == 0;
	cache_read(c, f, repo_path);
	if (git_started)
		pthread_join(git_thread, NULL);
	rc = repo_open(&c->repo, c->a, repo_path);
	if (rc == IL_ENOTFOUND) {
		fprintf(stderr, "%s: '%s': %s\n", prog, repo_path, not_a_repo(repo_path));
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	repo_set_store(c->repo, c->store);
	repo_check_blobs_fast(c->repo);    /* a preview: see repo.h */
	return 0;
}

void cli_end(struct cli *c)
{
	if (c->repo)
		cache_close(c);
	arena_free(c->a);
	parse_store_free(c->store);
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

/* Resolves rev to a commit id; the message goes to stderr. */
static int resolve_rev(char sha[REPO_OID_HEX_LEN + 1], struct cli *c, const char *rev)
{
	int rc = repo_resolve(sha, c->repo, rev);

	if (rc == IL_ENOTFOUND)
		fprintf(stderr, "%s: unknown revision '%s'\n", c->prog, rev);
	else if (rc < 0)
		fprintf(stderr, "%s: '%s' does not name one commit\n", c->prog, rev);
	return rc;
}

/* Why loading the models at rev failed (rc < 0). */
static void load_failed(struct cli *c, int rc, const char *rev)
{
	if (rc == IL_ETOOBIG)
		fprintf(stderr, "%s: more than %d models at %s\n", c->prog, IL_MAX_MODELS, rev);
	else if (rc == IL_ERR)
		fprintf(stderr, "%s: cannot read %s: %s\n", c->prog, rev, repo_last_error(c->repo));
	else
		fprintf(stderr, "%s: out of memory\n", c->prog);
}

int cli_load_at(struct project **out, char sha[REPO_OID_HEX_LEN + 1], struct cli *c,
		const char *rev)
{
	int rc = resolve_rev(sha, c, rev);

	if (rc < 0)
		return rc;
	rc = repo_load_project(out, c->a, c->repo, sha, c->cfg.models_dir);
	if (rc < 0)
		load_failed(c, rc, rev);
	return rc;
}

int cli_load_both(struct project **base, struct project **target,
		  char base_sha[REPO_OID_HEX_LEN + 1], char target_sha[REPO_OID_HEX_LEN + 1],
		  struct cli *c, const char *base_rev, const char *target_rev)
{
	int rc, failed = 0;

	if ((rc = resolve_rev(base_sha, c, base_rev)) < 0 ||
	    (rc = resolve_rev(target_sha, c, target_rev)) < 0)
		return rc;
	rc = repo_load_projects(base, target, c->a, c->repo, base_sha, target_sha,
				c->cfg.models_dir, &failed);
	if (rc < 0)
		load_failed(c, rc, failed ? target_rev : base_rev);
	return rc;
}
