/* parse.c: the blobs a cache lacks, decoded from the store or read and parsed, on every core */
#include <git2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/project.h"
#include "repo/repo_int.h"
#include "repo/store.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

/* Below this many blobs a second thread costs more than it saves. */
#define PARALLEL_MIN 64
/* Blobs a thread takes at a time from the shared counter. */
#define BATCH 32

/* One blob to decode from its store entry (when it has one) or parse. */
struct job {
	const unsigned char *id;
	const void *entry;
	size_t entry_len;
	struct parsed_file pf;
	size_t too_big;
	int rc;
};

struct pool;

struct worker {
	struct pool *pool;
	git_repository *git;        /* this thread's own handle */
	git_odb *odb;               /* its object database */
	struct arena *a;            /* what it parses lives here */
	struct arena *scratch;
	struct arena *entries;      /* store entries of what it parsed */
	struct blob_check *check;   /* blobs checked here, not by libgit2 */
	pthread_t thread;
	int started;
	char err[256];
};

struct pool {
	struct job *jobs;
	size_t n;
	atomic_size_t next;
	int encode;                 /* the cache has a store: encode entries */
	int entries_kept;           /* the store keeps the entries' arenas */
	int fast_check;             /* repo_check_blobs_fast: blob_check.c */
	struct worker w[REPO_MAX_THREADS];
	int n_workers;
};

static void set_err(struct worker *w)
{
	const git_error *e = git_error_last();

	snprintf(w->err, sizeof(w->err), "%s", e && e->message ? e->message :
		 "unknown libgit2 error");
}

/* Reads one blob into w's arena and parses it (straight from the object
 * database: blobs are read once, libgit2's object cache would only keep
 * them). */
static void parse_blob(struct worker *w, struct job *j)
{
	git_odb_object *blob = NULL;
	git_oid oid;
	size_t size;
	char *text;

	memcpy(oid.id, j->id, GIT_OID_RAWSZ);
	if ((w->odb == NULL && git_repository_odb(&w->odb, w->git) < 0) ||
	    git_odb_read(&blob, w->odb, &oid) < 0 ||
	    git_odb_object_type(blob) != GIT_OBJECT_BLOB) {
		set_err(w);
		git_odb_object_free(blob);
		j->rc = IL_ERR;
		return;
	}
	size = git_odb_object_size(blob);
	/* with libgit2's check off, a blob this run cannot check fails */
	if (w->pool->fast_check &&
	    (w->check == NULL ||
	     repo__blob_matches(w->check, j->id, git_odb_object_data(blob),
				size) != 1)) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &oid);
		snprintf(w->err, sizeof(w->err), "object hash mismatch: the "
			 "bytes of blob %s do not hash to its id", hex);
		git_odb_object_free(blob);
		j->rc = IL_ERR;
		return;
	}
	/* when the store keeps the entries, the model's text is the
	 * entry's and this copy is only needed while parsing */
	if (size > IL_MAX_SQL_FILE) {
		j->too_big = size;
	} else if ((text = arena_alloc(w->pool->entries_kept ? w->scratch :
				       w->a, size + 1)) == NULL) {
		j->rc = IL_ENOMEM;
	} else {
		memcpy(text, git_odb_object_data(blob), size);
		text[size] = '\0';
		j->rc = parse_file(&j->pf, w->a, w->scratch, w->entries, text,
				   size, w->pool->entries_kept);
		arena_reset(w->scratch);
	}
	git_odb_object_free(blob);
}

static void run_job(struct worker *w, struct job *j)
{
	if (j->entry) {
		j->rc = parse_entry_decode(&j->pf, w->a, j->entry, j->entry_len);
		if (j->rc != IL_EINVALID)
			return;
		j->rc = 0;     /* not an entry we can read: parse the blob */
	}
	parse_blob(w, j);
	j->pf.bad_entry = j->entry != NULL;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	size_t i, end;

	for (;;) {
		i = atomic_fetch_add(&p->next, BATCH);
		if (i >= p->n)
			break;
		end = i + BATCH < p->n ? i + BATCH : p->n;
		for (; i < end; i++)
			run_job(w, &p->jobs[i]);
	}
	return NULL;
}

static void free_arena(void *ptr)
{
	arena_free(ptr);
}

static int threads_wanted(size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < PARALLEL_MIN || cpus < 2)
		return 1;
	return cpus > REPO_MAX_THREADS ? REPO_MAX_THREADS : (int)cpus;
}

/* Worker i's arenas; what it parses lives as long as the request. */
static int worker_arenas(struct worker *w, struct repo *r, int i, int encode)
{
	w->a = i == 0 ? r->arena : arena_new(REPO_ARENA_BLOCK);
	w->scratch = arena_new(0);
	w->entries = encode ? arena_new(REPO_ARENA_BLOCK) : NULL;
	if (w->a == NULL || w->scratch == NULL || (encode && !w->entries) ||
	    (i > 0 && arena_on_reset(r->arena, free_arena, w->a) < 0)) {
		arena_free(w->scratch);
		arena_free(w->entries);
		return IL_ENOMEM;
	}
	return 0;
}

/*
 * Worker 0 is this thread with the request's repository handle; the others
 * get their own (libgit2 objects are for one thread at a time). A handle
 * that cannot be opened just means one thread fewer.
 */
static int start_workers(struct pool *p, struct repo *r, int want)
{
	int i;

	for (i = 0; i < want; i++) {
		struct worker *w = &p->w[i];

		w->pool = p;
		if ((w->git = repo__handle(r, i)) == NULL)
			break;
		if (p->fast_check && (w->check = repo__blob_check_new()) == NULL)
			return IL_ENOMEM;
		if (worker_arenas(w, r, i, p->encode) < 0) {
			repo__blob_check_free(w->check);
			return IL_ENOMEM;
		}
		p->n_workers++;
		if (i > 0 && pthread_create(&w->thread, NULL, work, w) != 0)
			break;
		w->started = i > 0;
	}
	return 0;
}

static void stop_workers(struct pool *p)
{
	int i;

	for (i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->w[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		git_odb_free(w->odb);
		arena_free(w->scratch);
		w->scratch = NULL;
		repo__blob_check_free(w->check);
		w->check = NULL;
	}
}

static size_t id_hash(const unsigned char *id)
{
	size_t h;

	memcpy(&h, id, sizeof(h));   /* a blob id is already a hash */
	return h;
}

/* The job for a blob the cache lacks: its store entry, when there is one. */
static void add_job(struct pool *p, struct repo *r, const unsigned char *id)
{
	struct job *j = &p->jobs[p->n++];

	j->id = id;
	if (r->store)
		j->entry = parse_store_ops.get(r->store, id, GIT_OID_RAWSZ,
					       &j->entry_len);
}

/* The blob ids of the lists, each once, in the lists' order, that the
 * cache lacks (into *out, NULL-terminated, in r's arena). */
static int distinct_missing(const unsigned char ***out, size_t *n_out,
			    struct repo *r, const struct file_list *lists,
			    size_t n_lists)
{
	size_t cap = 16, total = 0, n = 0, i, l, k;
	const unsigned char **seen, **ids;

	for (l = 0; l < n_lists; l++)
		total += lists[l].n;
	while (cap < 2 * total)
		cap *= 2;
	seen = arena_calloc(r->arena, cap, sizeof(*seen));
	ids = arena_alloc(r->arena, (total + 1) * sizeof(*ids));
	if (seen == NULL || ids == NULL)
		return IL_ENOMEM;
	for (l = 0; l < n_lists; l++)
		for (i = 0; i < lists[l].n; i++) {
			const unsigned char *id = lists[l].files[i].id;

			for (k = id_hash(id) & (cap - 1); seen[k];
			     k = (k + 1) & (cap - 1))
				if (memcmp(seen[k], id, GIT_OID_RAWSZ) == 0)
					break;
			if (seen[k])
				continue;
			seen[k] = id;
			if (!parse_cache_has(r->cache, id, GIT_OID_RAWSZ))
				ids[n++] = id;
		}
	*out = ids;
	*n_out = n;
	return 0;
}

/* A job per blob the cache lacks (base and target share most of them,
 * so the jobs are counted before they are made). */
static int missing_jobs(struct pool *p, struct repo *r,
			const struct file_list *lists, size_t n_lists)
{
	const unsigned char **ids;
	size_t n, i;
	int rc = distinct_missing(&ids, &n, r, lists, n_lists);

	if (rc < 0)
		return rc;
	if ((p->jobs = arena_calloc(r->arena, n + 1, sizeof(*p->jobs))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < n; i++)
		add_job(p, r, ids[i]);
	return 0;
}

/* Marks the files whose blob was too big; they are not cached. */
static void mark_too_big(const struct pool *p, struct file_list *lists,
			 size_t n_lists)
{
	size_t i, k, l;

	for (k = 0; k < p->n; k++) {
		if (!p->jobs[k].too_big)
			continue;
		for (l = 0; l < n_lists; l++)
			for (i = 0; i < lists[l].n; i++)
				if (memcmp(lists[l].files[i].id, p->jobs[k].id,
					   GIT_OID_RAWSZ) == 0)
					lists[l].files[i].too_big =
						p->jobs[k].too_big;
	}
}

/* Results into the cache, and new entries into the store, in job order;
 * the first failure wins. */
static int collect(struct pool *p, struct repo *r)
{
	size_t i;
	int rc = 0;

	if (parse_cache_reserve(r->cache, p->n) < 0 ||
	    (p->encode && parse_store_reserve(r->store, p->n) < 0))
		return IL_ENOMEM;
	for (i = 0; i < p->n && rc == 0; i++) {
		struct job *j = &p->jobs[i];

		if (j->rc < 0) {
			rc = j->rc;
			break;
		}
		if (j->too_big)
			continue;
		rc = parse_cache_add_parsed(r->cache, j->id, GIT_OID_RAWSZ,
					    &j->pf);
		/* without a copy when the store takes the entries' arenas */
		if (rc == 0 && j->pf.entry &&
		    parse_store_put_kept(r->store, j->id, GIT_OID_RAWSZ,
					 j->pf.entry, j->pf.entry_len) < 0)
			rc = IL_ENOMEM;
	}
	return rc;
}

/* The entries' arenas go to a store that keeps them, else away. */
static void free_entries(struct pool *p, struct repo *r, int kept)
{
	int i;

	for (i = 0; i < p->n_workers; i++)
		if (!kept || parse_store_adopt(r->store, p->w[i].entries) < 0)
			arena_free(p->w[i].entries);   /* the store copied */
}

static void report_error(const struct pool *p, struct repo *r)
{
	int i;

	for (i = 0; i < p->n_workers; i++)
		if (p->w[i].err[0]) {
			snprintf(r->err, sizeof(r->err), "%s", p->w[i].err);
			return;
		}
}

int repo__parse_files(struct repo *r, struct file_list *lists, size_t n)
{
	struct pool p;
	int rc;

	memset(&p, 0, sizeof(p));
	atomic_init(&p.next, 0);
	p.encode = r->store != NULL;
	p.entries_kept = p.encode && parse_store_keeps_all(r->store);
	if ((rc = missing_jobs(&p, r, lists, n)) < 0)
		return rc;
	if (p.n == 0)
		return 0;
	/* libgit2's check off while this run checks the blobs itself */
	p.fast_check = r->fast_blob_check;
	if (p.fast_check)
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	rc = start_workers(&p, r, threads_wanted(p.n));
	if (rc == 0 && p.n_workers > 0)
		work(&p.w[0]);
	else
		atomic_store(&p.next, p.n);   /* the started ones stop soon */
	stop_workers(&p);
	if (p.fast_check)
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	if (rc == 0 && p.n_workers == 0)
		rc = IL_ENOMEM;
	if (rc == 0) {
		mark_too_big(&p, lists, n);
		rc = collect(&p, r);
	}
	free_entries(&p, r, p.encode);
	if (rc == IL_ERR)
		report_error(&p, r);
	return rc;
}
