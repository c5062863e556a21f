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
#include "util/error.h"
#include "util/limits.h"

static const char *const fallback_dirs[] = { "sql/models", "dbt/models" };

/* A worker process keeps the files it parsed for its next requests. */
static struct parse_store *worker_store;
static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void save_error(struct repo *r)
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
	/* objects come from a local repository we trust; re-hashing every
	 * blob on read costs a tenth of a large plan */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
}

static void close_repo(void *ptr)
{
	git_repository_free(ptr);
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

int repo_open(struct repo **out, struct arena *a, const char *path)
{
	struct repo *r = arena_calloc(a, 1, sizeof(*r));
	git_repository *git = NULL;

	*out = NULL;
	if (r == NULL)
		return IL_ENOMEM;
	pthread_once(&git_once, git_setup);
	if (git_repository_open_ext(&git, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0) {
		save_error(r);
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
		save_error(r);
		rc = e == GIT_EAMBIGUOUS ? IL_EINVALID : IL_ENOTFOUND;
		goto out;
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		save_error(r);
		rc = IL_EINVALID;
		goto out;
	}
	git_oid_tostr(out, REPO_OID_HEX_LEN + 1, git_object_id(commit));
out:
	git_object_free(commit);
	git_object_free(obj);
	return rc;
}

/* The tree at dir in the commit's tree, or NULL when it is not there. */
static git_tree *subtree(git_repository *git, git_tree *root, const char *dir)
{
	git_tree_entry *entry = NULL;
	git_tree *t = NULL;

	if (git_tree_entry_bypath(&entry, root, dir) < 0)
		return NULL;
	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE)
		git_tree_lookup(&t, git, git_tree_entry_id(entry));
	git_tree_entry_free(entry);
	return t;
}

static int has_sql_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".sql") == 0;
}

/* Every *.sql blob below the models directory, in tree order. */
struct walk {
	struct arena *a;
	const char *dir;
	struct model_file *files;
	size_t n;
	size_t cap;
	int rc;
};

static int add_file(struct walk *w, const char *root, const char *name,
		    const git_oid *id)
{
	struct model_file *f;
	size_t dn = strlen(w->dir), rn = strlen(root), nn = strlen(name);
	char *path;

	if (w->n == IL_MAX_MODELS)
		return IL_ETOOBIG;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;

		f = arena_alloc(w->a, cap * sizeof(*f));
		if (f == NULL)
			return IL_ENOMEM;
		if (w->n)
			memcpy(f, w->files, w->n * sizeof(*f));
		w->files = f;
		w->cap = cap;
	}
	/* dir/root/name, root ending in '/' or empty */
	if ((path = arena_alloc(w->a, dn + 1 + rn + nn + 1)) == NULL)
		return IL_ENOMEM;
	memcpy(path, w->dir, dn);
	path[dn] = '/';
	memcpy(path + dn + 1, root, rn);
	memcpy(path + dn + 1 + rn, name, nn + 1);
	f = &w->files[w->n++];
	f->path = path;
	memcpy(f->id, id->id, GIT_OID_RAWSZ);
	f->too_big = 0;
	return 0;
}

static int walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct walk *w = payload;
	const char *name = git_tree_entry_name(entry);
	git_filemode_t mode = git_tree_entry_filemode(entry);

	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0;
	if (!has_sql_suffix(name))
		return 0;
	w->rc = add_file(w, root, name, git_tree_entry_id(entry));
	return w->rc < 0 ? -1 : 0;
}

static int commit_tree(git_tree **out, struct repo *r, const char *commit)
{
	git_commit *c = NULL;
	git_oid oid;
	int rc = 0;

	*out = NULL;
	if (git_oid_fromstrn(&oid, commit, strlen(commit)) < 0 ||
	    strlen(commit) != REPO_OID_HEX_LEN ||
	    git_commit_lookup(&c, r->git, &oid) < 0) {
		save_error(r);
		return IL_ENOTFOUND;
	}
	if (git_commit_tree(out, c) < 0) {
		save_error(r);
		rc = IL_ERR;
	}
	git_commit_free(c);
	return rc;
}

/* The first models directory that exists; sets *dir_out to its name. */
static git_tree *find_models_dir(struct repo *r, git_tree *root,
				 const char *dir, const char **dir_out)
{
	git_tree *t = subtree(r->git, root, dir);
	size_t i;

	*dir_out = dir;
	for (i = 0; t == NULL && i < 2; i++) {
		*dir_out = fallback_dirs[i];
		t = subtree(r->git, root, fallback_dirs[i]);
	}
	if (t == NULL)
		*dir_out = NULL;
	return t;
}

static void too_many(struct project *p)
{
	diag_add(&p->diags, DIAG_ERROR, "", 0,
		 "too many models: the limit is %d", IL_MAX_MODELS);
}

/* The files of the models directory at the commit (none without one). */
static int list_files(struct walk *w, struct repo *r, struct project *p,
		      const char *commit, const char *models_dir)
{
	git_tree *root = NULL, *models = NULL;
	const char *dir;
	int rc;

	memset(w, 0, sizeof(*w));
	w->a = p->arena;
	if ((rc = commit_tree(&root, r, commit)) < 0)
		return rc;
	models = find_models_dir(r, root, models_dir, &dir);
	p->models_dir = dir;
	if (models) {
		w->dir = dir;
		if (git_tree_walk(models, GIT_TREEWALK_PRE, walk_cb, w) < 0) {
			rc = w->rc < 0 ? w->rc : IL_ERR;
			if (rc == IL_ERR)
				save_error(r);
			if (rc == IL_ETOOBIG)
				too_many(p);
		}
	}
	git_tree_free(models);
	git_tree_free(root);
	return rc;
}

/* Adds each file, in tree order, from the cache (every one is there). */
static int add_files(struct project *p, struct repo *r,
		     const struct model_file *files, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const struct model_file *f = &files[i];

		if (f->too_big) {
			diag_add(&p->diags, DIAG_ERROR, f->path, 0,
				 "file is %zu bytes, over the limit of %d "
				 "bytes", f->too_big, IL_MAX_SQL_FILE);
			continue;
		}
		rc = project_add_file_cached(p, r->cache, f->id,
					     GIT_OID_RAWSZ, f->path, NULL, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int repo_load_project(struct project **out, struct arena *a, struct repo *r,
		      const char *commit, const char *models_dir)
{
	struct walk w;
	struct project *p;
	int rc;

	*out = NULL;
	if (models_dir == NULL || *models_dir == '\0')
		models_dir = REPO_DEFAULT_MODELS_DIR;
	/* the cache may only serve projects in its own arena */
	if (a != r->arena)
		return IL_EINVALID;
	if ((rc = project_new(&p, a)) < 0 ||
	    (rc = list_files(&w, r, p, commit, models_dir)) < 0 ||
	    (rc = repo__parse_files(r, w.files, w.n)) < 0 ||
	    (rc = add_files(p, r, w.files, w.n)) < 0 ||
	    (rc = project_finish(p)) < 0 ||
	    (rc = parse_cache_sync(r->cache)) < 0)
		return rc;
	*out = p;
	return 0;
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
	if ((rc = commit_tree(&root, r, commit)) < 0)
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
