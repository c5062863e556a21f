/* load.c: the models of one or two commits: tree walks, then projects, a commit per thread */
#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/project.h"
#include "repo/repo.h"
#include "repo/repo_int.h"
#include "repo/store.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

static const char *const fallback_dirs[] = { "sql/models", "dbt/models" };

/* Every *.sql blob below the models directory, in tree order. */
struct walk {
	struct arena *a;
	const char *dir;
	struct model_file *files;
	size_t n;
	size_t cap;
	int rc;
};

/* One commit's load; list_commit and build_commit run on a thread each. */
struct commit_load {
	struct repo *r;
	git_repository *git;      /* the handle of the thread it runs on */
	struct arena *a;          /* where its project lives */
	const char *commit;
	const char *models_dir;
	struct project *p;
	struct walk w;
	int rc;
	char err[256];            /* libgit2's message, from its thread */
	int has_tree;             /* the models directory exists */
	unsigned char tree[GIT_OID_RAWSZ];
	const void *listing;      /* its file list from the store, or NULL */
	size_t listing_len;
	void *new_listing;        /* the list walked here, for the store */
	size_t new_listing_len;
};

static void *run_fn(void *arg)
{
	void **call = arg;

	return ((void *(*)(void *))call[0])(call[1]);
}

void repo__run_two(void *(*fn)(void *), void *arg0, void *arg1)
{
	void *call[2] = { (void *)fn, arg1 };
	pthread_t t;
	int started = pthread_create(&t, NULL, run_fn, call) == 0;

	fn(arg0);
	if (started)
		pthread_join(t, NULL);
	else
		fn(arg1);
}

static void keep_error(struct commit_load *cl)
{
	const git_error *e = git_error_last();

	snprintf(cl->err, sizeof(cl->err), "%s", e && e->message ? e->message :
		 "unknown libgit2 error");
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

static int grow_files(struct walk *w)
{
	size_t cap = w->cap ? w->cap * 2 : 256;
	struct model_file *f = arena_alloc(w->a, cap * sizeof(*f));

	if (f == NULL)
		return IL_ENOMEM;
	if (w->n)
		memcpy(f, w->files, w->n * sizeof(*f));
	w->files = f;
	w->cap = cap;
	return 0;
}

static int add_file(struct walk *w, const char *root, const char *name,
		    const git_oid *id)
{
	size_t dn = strlen(w->dir), rn = strlen(root), nn = strlen(name);
	struct model_file *f;
	char *path;

	if (w->n == IL_MAX_MODELS)
		return IL_ETOOBIG;
	if (w->n == w->cap && grow_files(w) < 0)
		return IL_ENOMEM;
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

int repo__commit_tree(git_tree **out, struct repo *r, git_repository *git,
		      const char *commit)
{
	git_commit *c = NULL;
	git_oid oid;
	int rc = 0;

	(void)r;
	*out = NULL;
	if (git_oid_fromstrn(&oid, commit, strlen(commit)) < 0 ||
	    strlen(commit) != REPO_OID_HEX_LEN ||
	    git_commit_lookup(&c, git, &oid) < 0)
		return IL_ENOTFOUND;
	if (git_commit_tree(out, c) < 0)
		rc = IL_ERR;
	git_commit_free(c);
	return rc;
}

/* The first models directory that exists; sets *dir_out to its name. */
static git_tree *find_models_dir(git_repository *git, git_tree *root,
				 const char *dir, const char **dir_out)
{
	git_tree *t = subtree(git, root, dir);
	size_t i;

	*dir_out = dir;
	for (i = 0; t == NULL && i < 2; i++) {
		*dir_out = fallback_dirs[i];
		t = subtree(git, root, fallback_dirs[i]);
	}
	if (t == NULL)
		*dir_out = NULL;
	return t;
}

/*
 * The commit's project (empty yet), its models directory and that tree's
 * file list from the store; on this thread, before the walks start (the
 * store is not shared with them).
 */
static int locate(struct commit_load *cl)
{
	unsigned char key[REPO_LISTING_KEY];
	git_tree *root = NULL, *models = NULL;
	const char *dir;
	struct repo *r = cl->r;

	if ((cl->rc = project_new(&cl->p, cl->a)) < 0)
		return cl->rc;
	if ((cl->rc = repo__commit_tree(&root, r, r->git, cl->commit)) < 0) {
		keep_error(cl);
		return cl->rc;
	}
	models = find_models_dir(r->git, root, cl->models_dir, &dir);
	cl->p->models_dir = dir;
	if (models) {
		cl->has_tree = 1;
		memcpy(cl->tree, git_tree_id(models)->id, GIT_OID_RAWSZ);
		repo__listing_key(key, cl->tree);
		if (r->store)
			cl->listing = parse_store_ops.get(r->store, key,
							  sizeof(key),
							  &cl->listing_len);
	}
	git_tree_free(models);
	git_tree_free(root);
	return 0;
}

static void walk_tree(struct commit_load *cl)
{
	git_tree *models = NULL;
	git_oid id;

	memcpy(id.id, cl->tree, GIT_OID_RAWSZ);
	if (git_tree_lookup(&models, cl->git, &id) < 0 ||
	    git_tree_walk(models, GIT_TREEWALK_PRE, walk_cb, &cl->w) < 0) {
		cl->rc = cl->w.rc < 0 ? cl->w.rc : IL_ERR;
		if (cl->rc == IL_ERR)
			keep_error(cl);
		if (cl->rc == IL_ETOOBIG)
			diag_add(&cl->p->diags, DIAG_ERROR, "", 0,
				 "too many models: the limit is %d",
				 IL_MAX_MODELS);
	}
	git_tree_free(models);
}

/* The files of the commit's models directory: from the store's listing
 * when it has one that reads back, else walked (and listed for it). */
static void *list_commit(void *arg)
{
	struct commit_load *cl = arg;

	memset(&cl->w, 0, sizeof(cl->w));
	cl->w.a = cl->a;
	cl->w.dir = cl->p->models_dir;
	if (cl->rc < 0 || !cl->has_tree)
		return NULL;
	if (cl->listing) {
		cl->rc = repo__listing_decode(&cl->w.files, &cl->w.n, cl->a,
					      cl->w.dir, cl->listing,
					      cl->listing_len);
		if (cl->rc != IL_EINVALID)
			return NULL;
		cl->rc = 0;
		cl->w.files = NULL;
		cl->w.n = 0;
	}
	walk_tree(cl);
	if (cl->rc == 0 && cl->r->store)
		cl->rc = repo__listing_encode(&cl->new_listing,
					      &cl->new_listing_len, cl->a,
					      cl->w.files, cl->w.n,
					      strlen(cl->w.dir));
	return NULL;
}

/* The lists walked this time go to the store. */
static int save_listings(struct commit_load *cl, int n)
{
	unsigned char key[REPO_LISTING_KEY];
	int i;

	for (i = 0; i < n; i++) {
		if (cl[i].new_listing == NULL)
			continue;
		repo__listing_key(key, cl[i].tree);
		if (parse_store_ops.put(cl[i].r->store, key, sizeof(key),
					cl[i].new_listing,
					cl[i].new_listing_len) < 0)
			return IL_ENOMEM;
	}
	return 0;
}

/* Adds each file, in tree order, from the cache (every one is there),
 * then finishes the project. */
static void *build_commit(void *arg)
{
	struct commit_load *cl = arg;
	size_t i;

	for (i = 0; i < cl->w.n && cl->rc == 0; i++) {
		const struct model_file *f = &cl->w.files[i];

		if (f->too_big)
			diag_add(&cl->p->diags, DIAG_ERROR, f->path, 0,
				 "file is %zu bytes, over the limit of %d "
				 "bytes", f->too_big, IL_MAX_SQL_FILE);
		else
			cl->rc = project_add_file_cached(cl->p, cl->r->cache,
							 f->id, GIT_OID_RAWSZ,
							 f->path, NULL, 0);
	}
	if (cl->rc == 0)
		cl->rc = project_finish(cl->p);
	return NULL;
}

static void free_arena(void *ptr)
{
	arena_free(ptr);
}

/*
 * Up to two commits: the second (when there is one) gets a thread, a
 * repository handle and an arena (freed with the repository's) of its
 * own, unless there is no handle to give it.
 */
static int prepare(struct commit_load *cl, int n, struct repo *r,
		   const char *const *commits, const char *models_dir)
{
	int i;

	memset(cl, 0, 2 * sizeof(*cl));
	for (i = 0; i < n; i++) {
		cl[i].r = r;
		cl[i].commit = commits[i];
		cl[i].models_dir = models_dir;
		cl[i].git = i ? repo__handle(r, 1) : r->git;
		cl[i].a = r->arena;
		if (i && cl[i].git && (cl[i].a = arena_new(REPO_ARENA_BLOCK)) == NULL)
			return IL_ENOMEM;
		if (i && cl[i].git && arena_on_reset(r->arena, free_arena,
						     cl[i].a) < 0)
			return IL_ENOMEM;
		if (cl[i].git == NULL) {
			cl[i].git = r->git;
			cl[i].a = r->arena;
		}
	}
	return 0;
}

/* Both on two threads when they have their own handles, else in turn. */
static void run_each(void *(*fn)(void *), struct commit_load *cl, int n)
{
	if (n == 2 && cl[1].git != cl[0].git) {
		repo__run_two(fn, &cl[0], &cl[1]);
		return;
	}
	fn(&cl[0]);
	if (n == 2)
		fn(&cl[1]);
}

/* The first commit's failure, else the second's; r->err from it. */
static int first_failure(struct commit_load *cl, int n, struct repo *r,
			 int *failed)
{
	int i;

	for (i = 0; i < n; i++)
		if (cl[i].rc < 0) {
			if (cl[i].err[0])
				snprintf(r->err, sizeof(r->err), "%s", cl[i].err);
			if (failed)
				*failed = i;
			return cl[i].rc;
		}
	return 0;
}

static int parse_all(struct repo *r, struct commit_load *cl, int n)
{
	struct file_list lists[2];
	int i;

	for (i = 0; i < n; i++) {
		lists[i].files = cl[i].w.files;
		lists[i].n = cl[i].w.n;
	}
	return repo__parse_files(r, lists, (size_t)n);
}

/*
 * Builds the projects from the cache, on two threads when there are two:
 * the cache is frozen and the memos wait, so the threads share nothing
 * they write.
 */
static int build_all(struct repo *r, struct commit_load *cl, int n,
		     int *failed)
{
	int i, rc;

	for (i = 0; i < n; i++)
		cl[i].p->defer_memos = n > 1;
	parse_cache_freeze(r->cache, 1);
	run_each(build_commit, cl, n);
	parse_cache_freeze(r->cache, 0);
	if ((rc = first_failure(cl, n, r, failed)) < 0)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = project_save_memos(cl[i].p)) < 0)
			return rc;
	return parse_cache_sync(r->cache);
}

static int load(struct project **out, int n, struct arena *a, struct repo *r,
		const char *const *commits, const char *models_dir,
		int *failed)
{
	struct commit_load cl[2];
	int i, rc;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (failed)
		*failed = 0;
	if (models_dir == NULL || *models_dir == '\0')
		models_dir = REPO_DEFAULT_MODELS_DIR;
	/* the cache may only serve projects in its own arena */
	if (a != r->arena)
		return IL_EINVALID;
	if ((rc = prepare(cl, n, r, commits, models_dir)) < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (locate(&cl[i]) == IL_ENOMEM)
			return IL_ENOMEM;
	run_each(list_commit, cl, n);
	if ((rc = first_failure(cl, n, r, failed)) < 0 ||
	    (rc = save_listings(cl, n)) < 0 ||
	    (rc = parse_all(r, cl, n)) < 0 ||
	    (rc = build_all(r, cl, n, failed)) < 0)
		return rc;
	for (i = 0; i < n; i++)
		out[i] = cl[i].p;
	return 0;
}

int repo_load_project(struct project **out, struct arena *a, struct repo *r,
		      const char *commit, const char *models_dir)
{
	return load(out, 1, a, r, &commit, models_dir, NULL);
}

int repo_load_projects(struct project **base, struct project **target,
		       struct arena *a, struct repo *r, const char *base_commit,
		       const char *target_commit, const char *models_dir,
		       int *failed)
{
	const char *commits[2] = { base_commit, target_commit };
	struct project *out[2];
	int rc = load(out, 2, a, r, commits, models_dir, failed);

	*base = out[0];
	*target = out[1];
	return rc;
}
