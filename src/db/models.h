/* models.h (db): the model catalog */
#ifndef IL_DB_MODELS_H
#define IL_DB_MODELS_H

#include <stddef.h>

struct arena;
struct db;

struct db_model_row {
	const char *name, *kind, *materialization, *owner, *time_column, *unique_key;
	const char *tags;          /* PostgreSQL array literal, e.g. {a,b} */
	const char *dependencies;  /* PostgreSQL array literal */
	const char *file_path, *sql, *content_hash, *commit;
};

/* Creates or updates a catalog entry, adding a version row when the hash is new. */
int db_model_upsert(struct db *db, struct arena *a, const char *tenant_id,
		    const struct db_model_row *m);

/* A page of catalog entries, name order, as the JSON array text the API sends. */
int db_model_list(const char **json, size_t *len, long long *total, struct db *db,
		  struct arena *a, const char *tenant_id, const char *kind,
		  const char *owner, const char *tag, const char *search,
		  long long limit, long long offset);
/*
 * One model as a JSON text with dependencies, dependents, file_path, sql,
 * versions and recent_runs; IL_ENOTFOUND.
 */
int db_model_detail(const char **json, struct db *db, struct arena *a, const char *tenant_id,
		    const char *name);
/* One catalog entry as the lineage graph sees it. */
struct db_model_node {
	const char *name, *kind;
	const char **upstream;        /* its dependencies' names, in stored order */
	size_t n_upstream;
};
/* The whole catalog, sorted by name (strcmp order), *n entries. */
int db_model_graph(struct db_model_node **out, size_t *n, struct db *db, struct arena *a,
		   const char *tenant_id);

#endif
