/* postgres_int.h (exec): what postgres.c, postgres_sql.c and pg_target.c share */
#ifndef IL_POSTGRES_INT_H
#define IL_POSTGRES_INT_H

struct arena;
struct exec_step;
struct executor;
struct step_sql;

/*
 * The PostgreSQL statements of step s: BEGIN, the materialization's
 * statements, COMMIT. 0, IL_EINVALID with *why, or IL_ENOMEM.
 */
int pg_step_statements(struct step_sql *p, const char **why, struct arena *a,
		       const struct exec_step *s);

/*
 * An executor connected with exactly these libpq keywords and values
 * (NULL-terminated arrays, PQconnectdbParams' expand_dbname as given).
 * 0, IL_EUNAVAIL (cannot connect; details logged) or IL_ENOMEM.
 */
int exec_postgres_connect(struct executor **out, struct arena *a, const char *const *keys,
			  const char *const *vals, int expand_dbname, long statement_timeout_ms);

#endif
