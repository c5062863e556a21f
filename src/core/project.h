/* project.h: every model at one commit, validated, with refs and DAG */
#ifndef IL_PROJECT_H
#define IL_PROJECT_H
#include <stddef.h>

#include "core/dag.h"
#include "core/diag.h"
#include "core/model.h"

struct arena;
struct project_name;
struct project_short;

struct project {
	struct arena *arena;
	const char *models_dir;   /* directory the models came from, or NULL */
	struct model **models;    /* after project_finish: sorted by name,
				     unique names; index = DAG node */
	size_t n_models;
	size_t cap;
	struct diag_list diags;   /* every problem, sorted by project_finish */
	struct dag dag;           /* edges upstream -> model, after finish */
	struct project_short *shorts;  /* short-name index (project.c) */
	size_t n_shorts;
	struct project_name *names;  /* name -> index hash table (project.c) */
	size_t name_cap;
	int finished;
	/* set before project_finish when another project shares the parse
	 * cache on another thread: memos are then left for project_save_memos */
	int defer_memos;
	size_t memo_misses;
};

/* An empty project whose memory lives in a. Returns 0 or IL_ENOMEM. */
int project_new(struct project **out, struct arena *a);

/*
 * Parses one model file (path relative to the repository root) and adds
 * it. text must outlive the project. Problems go to p->diags. Returns 0,
 * IL_ETOOBIG past IL_MAX_MODELS, or IL_ENOMEM.
 */
int project_add_file(struct project *p, const char *path, const char *text,
		     size_t len);

/*
 * Parsed files shared by the projects of one request (base and target
 * differ in a few files only): a file whose key was seen before is copied
 * instead of parsed again, and its content hash is reused when its refs
 * resolve to the same models. Keys are opaque content ids (a git blob
 * id): the same key means the same bytes and another key other bytes. At
 * most PARSE_CACHE_MAX_KEY bytes. The cache and the projects using it
 * must live in the same arena. Returns 0 or IL_ENOMEM.
 */
#define PARSE_CACHE_MAX_KEY 32
struct parse_cache;
int parse_cache_new(struct parse_cache **out, struct arena *a);

/*
 * The version of what a parse cache keeps: the parser, the canonical
 * form, the content hash and the entry encoding. Bump it with any change
 * to them (the header warnings included: 2 since "has no colon" and
 * "did you mean"); a store must never give back entries of another version.
 */
#define PARSE_CACHE_VERSION 2

/*
 * A store that outlives the request (a worker's memory, the CLI's cache
 * file) keeps encoded entries by key. The cache asks it for every file it
 * has not parsed, and gives it every file it parses (parse_cache_sync).
 * get returns the entry's bytes or NULL; the models decoded from them
 * point into them, so they must stay as they are while those models
 * live (a worker's store frees nothing before the request ends). The
 * bytes are untrusted: an entry that does not decode is parsed again.
 * put copies data; 0 or -1.
 */
struct parse_store_ops {
	const void *(*get)(void *store, const void *key, size_t key_len,
			   size_t *len);
	int (*put)(void *store, const void *key, size_t key_len,
		   const void *data, size_t len);
};
void parse_cache_set_store(struct parse_cache *c,
			   const struct parse_store_ops *ops, void *store);

struct parse_cache_stats {
	size_t parsed;        /* files parsed in this cache's life */
	size_t from_store;    /* files the store had */
	size_t bad_entries;   /* store entries that did not decode */
	size_t stored;        /* entries given to the store */
};
void parse_cache_get_stats(const struct parse_cache *c,
			   struct parse_cache_stats *out);

/* 1 when the cache (or its store) has the file with this key: its text is
 * not needed. */
int parse_cache_contains(struct parse_cache *c, const void *key, size_t len);

/*
 * project_add_file through a cache: same result, same diags. key must
 * identify text exactly (same key, same bytes). c NULL means no cache.
 * text may be NULL when parse_cache_contains(c, key, key_len).
 */
int project_add_file_cached(struct project *p, struct parse_cache *c,
			    const void *key, size_t key_len, const char *path,
			    const char *text, size_t len);

/*
 * One file parsed away from any project and cache, so that several
 * threads can parse (each with its own arenas): the model (or NULL), its
 * diags (file ""), its content hash guessed (model_prehash) and, when
 * entries is not NULL, its store entry (in entries). a must live as long
 * as the cache the file goes to; scratch is for temporaries; entries only
 * until parse_cache_add_parsed, unless text_is_scratch: text is then a
 * temporary (in scratch) and the model keeps the entry's copy of it, so
 * entries must live as long as a. 0 or IL_ENOMEM.
 */
struct parsed_file {
	struct model *m;
	const struct diag *diags;
	size_t n_diags;
	void *entry;
	size_t entry_len;
	int from_store;       /* decoded from a store entry */
	int bad_entry;        /* a store entry that did not decode (counted) */
};
int parse_file(struct parsed_file *out, struct arena *a,
	       struct arena *scratch, struct arena *entries, const char *text,
	       size_t len, int text_is_scratch);
/*
 * A store entry decoded away from the cache, like parse_file (any thread,
 * its own arena; the model points into data, which must live as long).
 * 0, IL_EINVALID (not an entry: parse the file instead) or IL_ENOMEM.
 */
int parse_entry_decode(struct parsed_file *out, struct arena *a,
		       const void *data, size_t len);

/*
 * Puts a parse_file or parse_entry_decode result in the cache. A parsed
 * file with an entry is the caller's to give the store; without one, the
 * next parse_cache_sync encodes it. 0, IL_EINVALID or IL_ENOMEM.
 */
int parse_cache_add_parsed(struct parse_cache *c, const void *key,
			   size_t key_len, const struct parsed_file *pf);

/* Room for more files at once, before many parse_cache_add_parsed:
 * 0 or IL_ENOMEM. */
int parse_cache_reserve(struct parse_cache *c, size_t more);

/* 1 when the cache itself (not its store) has the key. */
int parse_cache_has(const struct parse_cache *c, const void *key, size_t len);

/* While frozen the cache never changes, so several threads may copy from
 * it at once (project_add_file_cached of keys it has). */
void parse_cache_freeze(struct parse_cache *c, int frozen);

/* Gives the store each entry it does not have yet, and each whose content
 * hash changed; call it after project_finish. 0 or IL_ENOMEM. */
int parse_cache_sync(struct parse_cache *c);

/*
 * Validates the whole project once every file is added: duplicate names,
 * refs and dependencies (exact name, or a unique short name after the
 * dot; unresolved ones name the closest model), cycles spelled
 * `a → b → a` (each model refs the next), then the DAG and every model's
 * content_hash. Returns 0 (check p->diags.n_errors), IL_ETOOBIG (a
 * canonical form over IL_MAX_CANONICAL_SQL) or IL_ENOMEM.
 */
int project_finish(struct project *p);

/* After project_finish with defer_memos, on one thread at a time: keeps
 * the content hashes that did not fit their memos. 0 or IL_ENOMEM. */
int project_save_memos(struct project *p);

/* Index of the model called name, or -1. */
int project_find(const struct project *p, const char *name);

/*
 * The model a ref argument names: exact name, else the only model whose
 * part after the dot is name. -1 when none, -2 when ambiguous.
 */
int project_resolve(const struct project *p, const char *name, size_t len);
#endif
