/* environments.h (db): environments, their sealed connections, warehouse roles */
#ifndef IL_DB_ENVIRONMENTS_H
#define IL_DB_ENVIRONMENTS_H

#include <libpq-fe.h>

struct arena;
struct db;

struct db_env_new {
	const char *name, *executor, *catalog, *schema_prefix;
	int required_approvals;
	int allow_self_approval;
	const char *connection_sealed;   /* bytea hex text, or NULL */
	int is_production;
	const char *created_by;          /* the creating user's id */
	long step_timeout_seconds;       /* 0: the server's step_timeout_seconds */
};

/* An environment as plans and apply see it. */
struct db_env {
	const char *id;
	const char *name;
	const char *executor;
	const char *catalog;
	const char *schema_prefix;
	int required_approvals;
	int allow_self_approval;
	int version;
	long step_timeout_seconds;    /* 0: the server's step_timeout_seconds */
};

/* The tenant's environment by name; IL_ENOTFOUND. */
int db_env_get(struct db_env *out, struct db *db, struct arena *a, const char *tenant_id,
	       const char *name);

/*
 * Rows (step_timeout_seconds or NULL, JSON text): each environment as JSON
 * text (ours and the reference's fields, never the connection), by name. The
 * JSON leaves out step_timeout_seconds: its shown value depends on the
 * server's configuration.
 */
int db_env_list_rows(PGresult **out, struct db *db, struct arena *a, const char *tenant_id);
/*
 * The list the API sends: a JSON array text of every environment by name,
 * each with step_timeout_seconds, the limit its steps run under (its own, or
 * server_step_timeout when that is lower or it has none); *count of them.
 */
int db_env_list(const char **json, size_t *len, int *count, struct db *db, struct arena *a,
		const char *tenant_id, long server_step_timeout);
/* One environment as db_env_list reads it (*step_timeout 0 for NULL); IL_ENOTFOUND. */
int db_env_json(const char **json, long *step_timeout, struct db *db, struct arena *a,
		const char *tenant_id, const char *name);
/* IL_ECONFLICT when the name is taken. */
int db_env_create(struct db *db, struct arena *a, const char *tenant_id,
		  const struct db_env_new *e);
/* IL_ENOTFOUND; IL_ECONFLICT while a plan in it is applying. */
int db_env_delete(struct db *db, struct arena *a, const char *tenant_id, const char *name);
/* The sealed connection (bytea hex) or NULL when none is stored. */
int db_env_connection(const char **sealed, struct db *db, struct arena *a,
		      const char *tenant_id, const char *name);

/* The tenant's warehouse role and sealed password; IL_ENOTFOUND. */
int db_warehouse_role_get(const char **role, const char **password_sealed, struct db *db,
			  struct arena *a, const char *tenant_id);
int db_warehouse_role_insert(struct db *db, struct arena *a, const char *tenant_id,
			     const char *role, const char *password_sealed);

#endif
