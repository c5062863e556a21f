/* repo.c: reading model files out of a git commit (libgit2) */
#include "repo/repo.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/project.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/limits.h"

static const char *const fallback_dirs[] = { "sql/models", "dbt/models" };

struct repo {
	git_repository *git;
	struct arena *arena;
	struct parse_cache *cache;  /* files parsed at any commit, by blob id */
	char err[256];
};

struct walk {
	struct project *p;
	git_repository *git;
	struct parse_cache *cache;
	const char *dir;
	int rc;
};

static void close_repo(void *ptr)
{
	git_repository_free(ptr);
	git_libgit2_shutdown();
}

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

/* 1 when path (resolved) is dir/sub (dir resolved here; sub may be NULL) or below it. */
static int is_inside(const char *path, const char *dir, const char *sub)
{
	char want[PATH_MAX];
	size_t n;

	if (realpath(dir, want) == NULL)
		return 0;
	n = strcmp(want, "/") == 0 ? 0 : strlen(want);   /* "/" + "/sub" is not "//sub" */
	if (sub != NULL) {
		int added = snprintf(want + n, sizeof(want) - n, "/%s", sub);

		if (added < 0 || (size_t)added >= sizeof(want) - n)
			return 0;
		n += (size_t)added;
	}
	return strncmp(path, want, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A tenant id is a directory name of its own: no separators, no dots. */
static int tenant_id_ok(const char *id)
{
	size_t n;

	for (n = 0; id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'z') ||
		      (id[n] >= 'A' && id[n] <= 'Z') || id[n] == '-'))
			return 0;
	return n > 0 && n <= 64;
}

int repo_path_resolve(char out[PATH_MAX], const struct il_config *cfg,
		      const char *tenant_id, const char *given)
{
	int i;

	out[0] = '\0';
	if (!tenant_id_ok(tenant_id) || realpath(given, out) == NULL) {
		out[0] = '\0';
		return IL_ENOTFOUND;
	}
	for (i = 0; i < cfg->n_repo_roots; i++)
		if (is_inside(out, cfg->repo_root[i], tenant_id))
			return 0;
	for (i = 0; i < cfg->n_shared_repo_roots; i++)
		if (is_inside(out, cfg->shared_repo_root[i], NULL))
			return 0;
	out[0] = '\0';
	return IL_ENOTFOUND;
}

int repo_open(struct repo **out, struct arena *a, const char *path)
{
	struct repo *r = arena_calloc(a, 1, sizeof(*r));
	git_repository *git = NULL;

	*out = NULL;
	if (r == NULL)
		return IL_ENOMEM;
	git_libgit2_init();
	/* an object overwritten on disk must not pass for the approved one:
	 * every read is hashed again (about a tenth of a large plan's time) */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	if (git_repository_open_ext(&git, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0) {
		save_error(r);
		git_libgit2_shutdown();
		return IL_ENOTFOUND;
	}
	if (arena_on_reset(a, close_repo, git) < 0)
		return IL_ENOMEM;
	r->git = git;
	r->arena = a;
	if (parse_cache_new(&r->cache, a) < 0)
		return IL_ENOMEM;
	*out = r;
	return 0;
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

/* Copies one blob into the arena and adds it to the project. */
static int add_blob(struct walk *w, const char *path, const git_oid *id)
{
	git_blob *blob = NULL;
	git_object_size_t size;
	char *text;
	int rc = 0;

	if (parse_cache_contains(w->cache, id->id, GIT_OID_RAWSZ))
		return project_add_file_cached(w->p, w->cache, id->id,
					       GIT_OID_RAWSZ, path, NULL, 0);
	if (git_blob_lookup(&blob, w->git, id) < 0)
		return IL_ERR;
	size = git_blob_rawsize(blob);
	if (size > IL_MAX_SQL_FILE) {
		diag_add(&w->p->diags, DIAG_ERROR, path, 0,
			 "file is %llu bytes, over the limit of %d bytes",
			 (unsigned long long)size, IL_MAX_SQL_FILE);
		goto out;
	}
	text = arena_alloc(w->p->arena, (size_t)size + 1);
	if (text == NULL) {
		rc = IL_ENOMEM;
		goto out;
	}
	memcpy(text, git_blob_rawcontent(blob), (size_t)size);
	text[size] = '\0';
	rc = project_add_file_cached(w->p, w->cache, id->id, GIT_OID_RAWSZ, path,
				     text, (size_t)size);
out:
	git_blob_free(blob);
	return rc;
}

static int walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct walk *w = payload;
	const char *name = git_tree_entry_name(entry);
	git_filemode_t mode = git_tree_entry_filemode(entry);
	const char *path;

	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0;
	if (!has_sql_suffix(name))
		return 0;
	path = arena_printf(w->p->arena, "%s/%s%s", w->dir, root, name);
	if (path == NULL)
		w->rc = IL_ENOMEM;
	else
		w->rc = add_blob(w, path, git_tree_entry_id(entry));
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

int repo_load_project(struct project **out, struct arena *a, struct repo *r,
		      const char *commit, const char *models_dir)
{
	git_tree *root = NULL, *models = NULL;
	struct walk w;
	struct project *p;
	const char *dir;
	int rc;

	*out = NULL;
	if (models_dir == NULL || *models_dir == '\0')
		models_dir = REPO_DEFAULT_MODELS_DIR;
	if ((rc = project_new(&p, a)) < 0)
		goto out;
	if ((rc = commit_tree(&root, r, commit)) < 0)
		goto out;
	models = find_models_dir(r, root, models_dir, &dir);
	if (models) {
		w.p = p;
		w.git = r->git;
		/* the cache may only serve projects in its own arena */
		w.cache = a == r->arena ? r->cache : NULL;
		w.dir = p->models_dir = dir;
		w.rc = 0;
		if (git_tree_walk(models, GIT_TREEWALK_PRE, walk_cb, &w) < 0) {
			rc = w.rc < 0 ? w.rc : IL_ERR;
			if (rc == IL_ERR)
				save_error(r);
			goto out;
		}
	}
	if ((rc = project_finish(p)) < 0)
		goto out;
	*out = p;
out:
	git_tree_free(models);
	git_tree_free(root);
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
