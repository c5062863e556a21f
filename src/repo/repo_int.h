/* repo_int.h: shared between repo.c and parse.c, not for other layers */
#ifndef IL_REPO_INT_H
#define IL_REPO_INT_H
#include <git2.h>
#include <stddef.h>

struct arena;
struct parse_cache;
struct parse_store;

/* What a worker keeps of the files it parsed (its store's bound). */
#define REPO_WORKER_STORE_BYTES ((size_t)128 << 20)
/* The block size of the arenas a load makes: big enough for 2 MiB pages
 * (see util/arena.c). */
#define REPO_ARENA_BLOCK ((size_t)4 << 20)
/* Threads one load uses at most (one per core). */
#define REPO_MAX_THREADS 8

struct repo {
	git_repository *git;
	git_repository *extra[REPO_MAX_THREADS];  /* for other threads */
	struct arena *arena;
	const char *path;           /* the git directory, for more handles */
	struct parse_cache *cache;  /* files parsed at any commit, by blob id */
	struct parse_store *store;  /* files parsed before, or NULL */
	int fast_blob_check;        /* see repo_check_blobs_fast */
	char err[256];
};

/*
 * The repository handle of thread i of a load (0: this thread's own),
 * opened the first time and kept until r's arena is reset: libgit2
 * objects serve one thread at a time. NULL when it cannot be opened.
 * Call it on the thread that owns r (handles are made before threads
 * start).
 */
git_repository *repo__handle(struct repo *r, int i);

/* r->err from libgit2's last error on this thread. */
void repo__save_error(struct repo *r);

/* The tree of a 40-hex commit; IL_ENOTFOUND or IL_ERR. */
int repo__commit_tree(git_tree **out, struct repo *r, git_repository *git,
		      const char *commit);

/* Runs fn(arg[0]) here and fn(arg[1]) on a second thread (or here after
 * it when no thread can be made). */
void repo__run_two(void *(*fn)(void *), void *arg0, void *arg1);

/* OpenSSL's SHA-1 of blobs (blob_check.c), one per thread: new gives
 * NULL when there is none; matches 1 when the bytes hash to the 20-byte
 * id, 0 when not, -1 when hashing failed. */
struct blob_check;
struct blob_check *repo__blob_check_new(void);
void repo__blob_check_free(struct blob_check *bc);
int repo__blob_matches(struct blob_check *bc, const unsigned char *id,
		       const void *data, size_t len);

/* One *.sql blob of a commit's models directory. */
struct model_file {
	const char *path;
	unsigned char id[GIT_OID_RAWSZ];
	size_t too_big;             /* its size, when over IL_MAX_SQL_FILE */
};

struct file_list {
	struct model_file *files;
	size_t n;
};

/*
 * Gets every blob of the lists that the cache does not have: decoded from
 * the store when it has the blob, else read and parsed; on as many
 * threads as there are cores (each its own repository handle and arena),
 * put in the cache in the lists' order, so the result does not depend on
 * the threads. Marks blobs over IL_MAX_SQL_FILE too_big.
 * 0, IL_ERR (repository read error, r->err says which) or IL_ENOMEM.
 */
int repo__parse_files(struct repo *r, struct file_list *lists, size_t n);

/* A models tree's file list in the parse store (listing.c), keyed 'T' and
 * the tree id; paths are kept below the directory, which decode puts
 * back in front. decode reads untrusted bytes: 0, IL_EINVALID, IL_ENOMEM. */
#define REPO_LISTING_KEY (1 + GIT_OID_RAWSZ)
void repo__listing_key(unsigned char key[REPO_LISTING_KEY],
		       const unsigned char *tree_id);
int repo__listing_encode(void **out, size_t *len, struct arena *a,
			 const struct model_file *files, size_t n,
			 size_t dir_len);
int repo__listing_decode(struct model_file **files, size_t *n,
			 struct arena *a, const char *dir, const void *data,
			 size_t len);
#endif
