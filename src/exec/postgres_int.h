/* postgres_int.h (exec): what postgres.c and postgres_sql.c share */
#ifndef IL_POSTGRES_INT_H
#define IL_POSTGRES_INT_H

struct arena;
struct exec_step;
struct step_sql;

/*
 * The PostgreSQL statements of step s: BEGIN, the materialization's
 * statements, COMMIT. 0, IL_EINVALID with *why, or IL_ENOMEM.
 */
int pg_step_statements(struct step_sql *p, const char **why, struct arena *a,
		       const struct exec_step *s);

#endif
