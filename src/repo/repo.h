/* repo.h: reading model files out of a git commit (libgit2) */
#ifndef IL_REPO_H
#define IL_REPO_H
#include <limits.h>
#include <stddef.h>

struct arena;
struct il_config;
struct parse_cache_stats;
struct parse_store;
struct project;
struct repo;

#define REPO_OID_HEX_LEN 40

/* Tried, in order, when the configured models directory is absent. */
#define REPO_DEFAULT_MODELS_DIR "models"

/* Sets libgit2 up for the process (once; repo_open does it too, waiting
 * for a call running on another thread). */
void repo_global_init(void);

/*
 * Resolves a repository path given by a tenant into out and checks that it
 * lies inside a root the tenant may read: <root>/<tenant_id>/ for each of
 * cfg's repo_roots, or one of cfg's shared_repo_roots (the root itself or
 * below it). The path must be written inside one (".." and "." are taken
 * as written), and must still be inside after realpath (symlinks).
 * Returns 0; IL_EINVALID for a relative path or one outside those roots,
 * whether or not it exists (so another tenant's repository looks exactly
 * like a path that is not there); IL_ENOTFOUND for a path inside the
 * tenant's roots that does not exist (a symlink leaving them counts as
 * outside, whether or not its target exists).
 */
int repo_path_resolve(char out[PATH_MAX], const struct il_config *cfg,
		      const char *tenant_id, const char *given);

/*
 * Opens the git repository at path (work tree or bare; no searching of
 * parent directories). The repository is closed when a is reset or freed.
 * Every object read is checked against its id (libgit2's strict hash
 * verification): an object overwritten on disk is a read error. Files it
 * parses are kept in the process's store by blob id (a worker keeps them
 * for its next requests, up to 128 MiB, trimmed when a is reset) unless
 * repo_set_store says otherwise: what is kept was checked when read (a
 * caller that must find a damaged repository damaged, as apply does, sets
 * no store: then every tree and blob is read from disk and checked).
 * Returns 0, IL_ENOTFOUND when path is not a repository, or IL_ENOMEM.
 */
int repo_open(struct repo **out, struct arena *a, const char *path);

/* Where parsed files are kept beyond r (see store.h); NULL for nowhere. */
void repo_set_store(struct repo *r, struct parse_store *s);

/*
 * For a run that only shows what a repository holds (the CLI), not one
 * whose reads must stand for what was approved: the blobs it parses are
 * checked against their ids with OpenSSL's SHA-1 instead of libgit2's
 * collision-detecting one (ten times cheaper). A damaged or overwritten
 * blob is still a read error; only one half of a crafted SHA-1 collision
 * would pass (git itself refuses those when they are fetched or pushed).
 * Trees and commits keep libgit2's check; so does every read of a
 * repository without this call (the server: generate and apply). While
 * such a run reads blobs, libgit2's own check is off for the process: call
 * it only where no other thread reads a repository meanwhile.
 */
void repo_check_blobs_fast(struct repo *r);

/* The repository's git directory (its identity for a cache file). */
const char *repo_git_dir(const struct repo *r);

/* How many files r parsed, and how many came from its store. */
void repo_cache_stats(const struct repo *r, struct parse_cache_stats *out);

/*
 * Resolves a revspec (HEAD, HEAD~1, a branch, a tag, a short or full sha)
 * to the commit it names, as 40 lower-case hex digits plus NUL.
 * Returns 0, IL_ENOTFOUND for an unknown revision, IL_EINVALID when it is
 * ambiguous or does not name a commit.
 */
int repo_resolve(char out[REPO_OID_HEX_LEN + 1], struct repo *r,
		 const char *revspec);

/*
 * Reads every *.sql file (recursively) under models_dir at the commit
 * (40-hex) and returns the finished project (see project_finish; check
 * (*out)->diags). models_dir NULL or "" means "models"; when that
 * directory does not exist at the commit, sql/models then dbt/models are
 * tried; when none exists the project is empty and models_dir is NULL.
 * Paths are relative to the repository root. Files over IL_MAX_SQL_FILE
 * are reported, not read. Everything lives in a, which must be the arena
 * the repository was opened with. Each blob is parsed once for all
 * commits (and not at all when the store has it), on every core.
 * Returns 0, IL_ENOTFOUND (unknown commit), IL_ETOOBIG (too many
 * models), IL_ERR (repository read error, an object failing its hash
 * check included), IL_EINVALID (another arena) or IL_ENOMEM.
 */
int repo_load_project(struct project **out, struct arena *a, struct repo *r,
		      const char *commit, const char *models_dir);

/*
 * repo_load_project for two commits at once (a plan's base and target):
 * each blob is parsed once, and the two projects are built on two threads.
 * On failure *failed says which commit it was (0 base, 1 target).
 */
int repo_load_projects(struct project **base, struct project **target,
		       struct arena *a, struct repo *r, const char *base_commit,
		       const char *target_commit, const char *models_dir,
		       int *failed);

/*
 * The bytes of one file (repository-relative path) at a commit, e.g. a
 * model's body for display. *out is NUL-terminated and lives in a.
 * Returns 0, IL_ENOTFOUND, IL_ETOOBIG (over IL_MAX_SQL_FILE) or IL_ENOMEM.
 */
int repo_read_file(const char **out, size_t *len, struct arena *a,
		   struct repo *r, const char *commit, const char *path);

/*
 * Clones source (a local path or a URL the operator gives) into dest as a
 * bare repository: HEAD and its branch, every other branch as
 * refs/remotes/origin/NAME, every tag; for a local source its objects are
 * copied as they are (never hard-linked, so no file is shared with the
 * source). dest must not exist. Returns 0, or IL_ERR with libgit2's message
 * in err (for the operator's terminal).
 */
int repo_clone_bare(const char *source, const char *dest, char *err, size_t errlen);

/* The last libgit2 message, for the log only (never for clients). */
const char *repo_last_error(const struct repo *r);
#endif
