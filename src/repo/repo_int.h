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

struct repo {
	git_repository *git;
	struct arena *arena;
	const char *path;           /* the git directory, for more handles */
	struct parse_cache *cache;  /* files parsed at any commit, by blob id */
	struct parse_store *store;  /* files parsed before, or NULL */
	char err[256];
};

/* One *.sql blob of a commit's models directory. */
struct model_file {
	const char *path;
	unsigned char id[GIT_OID_RAWSZ];
	size_t too_big;             /* its size, when over IL_MAX_SQL_FILE */
};

/*
 * Reads and parses every blob of files the cache does not have, on as
 * many threads as there are cores (each its own repository handle and
 * arena), and puts them in the cache in files' order, so the result does
 * not depend on the threads. Marks blobs over IL_MAX_SQL_FILE too_big.
 * 0, IL_ERR (repository read error, r->err says which) or IL_ENOMEM.
 */
int repo__parse_files(struct repo *r, struct model_file *files, size_t n);
#endif
