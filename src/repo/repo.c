/* repo.c: reading model files out of a git commit (libgit2) */
#include "repo/repo.h"

#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/project.h"
#include "repo/repo_int.h"
#include "repo/store.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/limits.h"

/* A worker process keeps the files it parsed for its next requests. */
static struct parse_store *worker_store;
static pthread_once_t git_once = PTHREAD_ONCE_INIT;

void repo__save_error(struct repo *r)
{
	const git_error *e = git_error_last();

	snprintf(r->err, sizeof(r->err), "%s", e && e->message ? e->message :
		 "unknown libgit2 error");
}

const char *repo_last_error(const struct repo *r)
{
	return r->err;
}

/*
 * libgit2 is set up once per process and never shut down: setting it up
 * reads the system's CA bundle (about 8 ms), which a worker would
 * otherwise pay on every request.
 */
static void git_setup(void)
{
	git_libgit2_init();
	/* an object overwritten on disk must not pass for the approved one:
	 * every read is hashed again (about a tenth of a large plan's time) */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
}

static void close_repo(void *ptr)
{
	git_repository_free(ptr);
}

git_repository *repo__handle(struct repo *r, int i)
{
	if (i == 0)
		return r->git;
	if (i >= REPO_MAX_THREADS)
		return NULL;
	if (r->extra[i] == NULL) {
		if (git_repository_open_ext(&r->extra[i], r->path,
					    GIT_REPOSITORY_OPEN_NO_SEARCH,
					    NULL) < 0)
			return r->extra[i] = NULL;
		if (arena_on_reset(r->arena, close_repo, r->extra[i]) < 0)
			return r->extra[i] = NULL;
	}
	return r->extra[i];
}

/* At the end of the request the worker's store goes back to its bound. */
static void trim_store(void *ptr)
{
	struct repo *r = ptr;

	if (r->store)
		parse_store_trim(r->store);
}

static int use_worker_store(struct repo *r)
{
	if (worker_store == NULL)
		worker_store = parse_store_new(REPO_WORKER_STORE_BYTES);
	if (worker_store == NULL)
		return IL_ENOMEM;
	repo_set_store(r, worker_store);
	return arena_on_reset(r->arena, trim_store, r) < 0 ? IL_ENOMEM : 0;
}

void repo_set_store(struct repo *r, struct parse_store *s)
{
	r->store = s;
	parse_cache_set_store(r->cache, s ? &parse_store_ops : NULL, s);
}

void repo_check_blobs_fast(struct repo *r)
{
	r->fast_blob_check = 1;
}

void repo_global_init(void)
{
	pthread_once(&git_once, git_setup);
}

int repo_open(struct repo **out, struct arena *a, const char *path)
{
	struct repo *r = arena_calloc(a, 1, sizeof(*r));
	git_repository *git = NULL;

	*out = NULL;
	if (r == NULL)
		return IL_ENOMEM;
	repo_global_init();
	if (git_repository_open_ext(&git, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0) {
		repo__save_error(r);
		return IL_ENOTFOUND;
	}
	if (arena_on_reset(a, close_repo, git) < 0)
		return IL_ENOMEM;
	r->git = git;
	r->arena = a;
	if ((r->path = arena_strdup(a, git_repository_path(git))) == NULL ||
	    parse_cache_new(&r->cache, a) < 0 || use_worker_store(r) < 0)
		return IL_ENOMEM;
	*out = r;
	return 0;
}

const char *repo_git_dir(const struct repo *r)
{
	return r->path;
}

void repo_cache_stats(const struct repo *r, struct parse_cache_stats *out)
{
	parse_cache_get_stats(r->cache, out);
}

int repo_resolve(char out[REPO_OID_HEX_LEN + 1], struct repo *r,
		 const char *revspec)
{
	git_object *obj = NULL, *commit = NULL;
	int rc = 0, e;

	out[0] = '\0';
	e = git_revparse_single(&obj, r->git, revspec);
	if (e < 0) {
		repo__save_error(r);
		rc = e == GIT_EAMBIGUOUS ? IL_EINVALID : IL_ENOTFOUND;
		goto out;
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		repo__save_error(r);
		rc = IL_EINVALID;
		goto out;
	}
	git_oid_tostr(out, REPO_OID_HEX_LEN + 1, git_object_id(commit));
out:
	git_object_free(commit);
	git_object_free(obj);
	return rc;
}

int repo_read_file(const char **out, size_t *len, struct arena *a,
		   struct repo *r, const char *commit, const char *path)
{
	git_tree *root = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	char *text;
	size_t size;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = repo__commit_tree(&root, r, r->git, commit)) < 0)
		goto out;
	if (git_tree_entry_bypath(&entry, root, path) < 0 ||
	    git_tree_entry_type(entry) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, r->git, git_tree_entry_id(entry)) < 0) {
		rc = IL_ENOTFOUND;
		goto out;
	}
	size = (size_t)git_blob_rawsize(blob);
	if (size > IL_MAX_SQL_FILE) {
		rc = IL_ETOOBIG;
		goto out;
	}
	if ((text = arena_alloc(a, size + 1)) == NULL) {
		rc = IL_ENOMEM;
		goto out;
	}
	memcpy(text, git_blob_rawcontent(blob), size);
	text[size] = '\0';
	*out = text;
	*len = size;
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(root);
	return rc;
}

int repo_clone_bare(const char *source, const char *dest, char *err, size_t errlen)
{
	git_clone_options opts;
	git_repository *git = NULL;
	int rc = 0;

	git_libgit2_init();
	git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION);
	opts.bare = 1;
	opts.local = GIT_CLONE_LOCAL_NO_LINKS;
	opts.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	if (git_clone(&git, source, dest, &opts) < 0) {
		const git_error *e = git_error_last();

		snprintf(err, errlen, "%s", e && e->message ? e->message : "unknown libgit2 error");
		rc = IL_ERR;
	}
	git_repository_free(git);
	git_libgit2_shutdown();
	return rc;
}
