/* exec.h: executors run one plan step's SQL against a warehouse */
#ifndef IL_EXEC_H
#define IL_EXEC_H

#include <stddef.h>

#include "core/model.h"

struct arena;

/* What an executor needs to run one step; strings are borrowed. */
struct exec_step {
	const char *model;            /* schema.name */
	const char *schema;           /* the target schema (already prefixed), validated */
	const char *table;            /* the part after the dot, validated */
	const char *catalog;          /* Databricks only; NULL for PostgreSQL */
	enum materialization materialization;
	const char *time_column;      /* INSERT_OVERWRITE */
	const char *unique_key;       /* MERGE: one column or "a, b" */
	int full_refresh;             /* run_type FULL_REFRESH */
	const char *start, *end;      /* YYYY-MM-DD, [start, end); NULL without a range */
	const char *sql;              /* the rendered SELECT */
	const char *run_id;           /* for naming and tracing */
};

/* What came back; strings live in the arena given to run(). */
struct exec_result {
	int ok;
	double runtime_seconds;
	long long rows;               /* -1 when the warehouse did not say */
	const char *error;            /* the warehouse's message, truncated, on failure */
	const char *statement_id;     /* Databricks statement id, or NULL */
};

struct executor {
	const char *name;             /* "postgres" or "databricks" */
	/*
	 * Runs the step to completion (or failure). Returns 0 with *res filled
	 * either way; a negative code only when the executor itself broke.
	 */
	int (*run)(struct executor *ex, struct arena *a, const struct exec_step *s,
		   struct exec_result *res);
	/* Releases connections; accepts a partly opened executor. */
	void (*close)(struct executor *ex);
	void *state;
};

/* The statements one step runs, in order; see exec_step_statements. */
#define EXEC_MAX_STATEMENTS 10
struct step_sql {
	const char *sql[EXEC_MAX_STATEMENTS];
	int with_schema[EXEC_MAX_STATEMENTS];   /* Databricks: the step's schema is the default */
	int n;
};

/*
 * The exact statements step s runs on the executor named executor
 * ("postgres" or "databricks"), in order. Apply sends these and the SQL
 * preview shows them, so both come from here. Pure: nothing is connected to
 * or run. 0; IL_EINVALID with *why set when the executor refuses the step
 * (a name, key, range or SQL it cannot use); IL_ENOMEM.
 */
int exec_step_statements(struct step_sql *out, const char **why, struct arena *a,
			 const char *executor, const struct exec_step *s);

/* Longest warehouse error message kept in a run record. */
#define EXEC_MAX_ERROR 2000

/* 1 when s is a lower-case identifier we splice into SQL: [a-z_][a-z0-9_]{0,62}. */
int exec_ident_ok(const char *s);
/* s as a double-quoted identifier (for validated names only), in a. */
const char *exec_quote_ident(struct arena *a, const char *s);
/* Copies msg cut to EXEC_MAX_ERROR bytes (on a UTF-8 boundary), without trailing blanks. */
const char *exec_error_text(struct arena *a, const char *msg);

/*
 * Renders a model body for execution: {{ ref('x') }} becomes the quoted
 * qualified name of x in the environment (qualify gets the ref argument as
 * written and returns NULL when it names no model), {{ start_date }} / {{ end_date }} become quoted ISO dates
 * (also when the template stands alone inside a string literal), and any
 * other template is an error. Returns 0, or IL_EINVALID with *err set.
 */
typedef const char *(*exec_qualify_fn)(void *payload, const char *model);
int exec_render(const char **out, const char **err, struct arena *a, const char *body,
		size_t len, const char *start, const char *end, exec_qualify_fn qualify,
		void *payload);

/* Databricks SQL Statement Execution API (databricks.c). */
struct exec_databricks_opts {
	const char *host;             /* base URL, e.g. https://adb-1.azuredatabricks.net */
	const char *token;            /* bearer token: never logged */
	const char *warehouse_id;
	long timeout_seconds;         /* per statement, then cancel */
	long poll_interval_ms;
	int max_retries;              /* on 429 and 5xx, with backoff */
};
/* An executor in arena a; close() releases it. 0, IL_EINVALID or IL_ENOMEM. */
int exec_databricks_open(struct executor **out, struct arena *a,
			 const struct exec_databricks_opts *opts);

/*
 * PostgreSQL warehouse (postgres.c): conninfo is a libpq connection string
 * or URI; user and password, when not NULL, replace the ones it names.
 * 0, IL_EUNAVAIL (cannot connect; details logged) or IL_ENOMEM.
 */
int exec_postgres_open(struct executor **out, struct arena *a, const char *conninfo,
		       const char *user, const char *password, long statement_timeout_ms);

/*
 * Prepares the shared warehouse for a tenant through the admin connection:
 * creates the login role (when missing) with password, lets it read the
 * shared source schemas (comma-separated, those that exist), and creates
 * each schema in schemas[] owned by the role (when missing). Names must be
 * valid identifiers. 0, or IL_EUNAVAIL / IL_ERR with *err for the log.
 */
int exec_postgres_provision(const char **err, struct arena *a, const char *admin_conninfo,
			    const char *role, const char *password, const char *shared_schemas,
			    const char *const *schemas, size_t n);

#endif
