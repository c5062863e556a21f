/* hash.h: a model's content hash (what runs, not how it is written) */
#ifndef IL_HASH_H
#define IL_HASH_H

struct arena;
struct model;
struct project;

/*
 * Sets m->content_hash to the SHA-256 (hex) of:
 *   "ironlayer-model-v1\n" then one "key=value\n" line each for kind,
 *   materialization, time_column, unique_key, partition_by, dependencies
 *   (resolved names, sorted, comma-joined), contract_mode,
 *   contract_columns, tests (comma-joined), then "sql=" and the canonical
 *   SQL with refs resolved through p.
 * owner, tags and lookback_days are left out: they change no data.
 * A body that does not lex hashes its raw bytes instead (the project has
 * an error then anyway). scratch holds temporaries; the caller resets it.
 * A model copied from a parse cache takes the hash from its memo when its
 * refs resolve as the memo says, and writes nothing shared (so projects
 * can be finished on several threads at once). Returns 0, 1 when the memo
 * did not fit (see model_memo_update), IL_ETOOBIG or IL_ENOMEM.
 */
int model_content_hash(struct model *m, const struct project *p,
		       struct arena *scratch);

/* Keeps m's content hash in its memo (shared by every copy of the file)
 * with the names its refs resolve to in p. 0 or IL_ENOMEM. */
int model_memo_update(struct model *m, const struct project *p,
		      struct arena *scratch);

/*
 * The content hash m will most likely get: each ref taken to name the
 * model it spells (the usual full `schema.name`), kept in m->memo
 * (allocated in a) so model_content_hash only checks the guess. Needs no
 * project, so it can run as soon as the file is parsed, on any thread
 * that owns a and scratch. Returns 0 or IL_ENOMEM.
 */
int model_prehash(struct model *m, struct arena *a, struct arena *scratch);
#endif
