/* postgres_int.h (exec): what postgres.c, postgres_sql.c and pg_target.c share */
#ifndef IL_POSTGRES_INT_H
#define IL_POSTGRES_INT_H

#include <stddef.h>

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
 * How an executor connects, and connects again for the next step after a
 * timeout dropped its connection: PQconnectdbParams with exactly these
 * keywords and values (NULL-terminated; copied) and expand_dbname, plus a
 * connect_timeout of its own (connect_timeout_s, or less when the step has
 * less time left; any connect_timeout among keys is replaced). For a tenant's
 * server the worker's PG*, KRB5* and GSS* environment is hidden meanwhile.
 */
struct exec_pg_dial {
	const char *const *keys;
	const char *const *vals;
	int expand_dbname;
	int tenant;
	long statement_timeout_ms;
	long connect_timeout_s;
};

/* 0, IL_EUNAVAIL (cannot connect: *why for a run record; details logged) or IL_ENOMEM. */
int exec_postgres_connect(struct executor **out, const char **why, struct arena *a,
			  const struct exec_pg_dial *d);

/* The worker's PG*, KRB5* and GSS* environment, set aside while a tenant connects. */
struct exec_pg_ambient {
	char **names, **values;
	size_t n;
};
/*
 * Unsets those variables (remembering them) and plants values that point
 * nowhere, so libpq finds no service, password file, options or Kerberos
 * credentials of the worker's. Workers are single-threaded: nothing else
 * reads the environment meanwhile. 0 or IL_ENOMEM.
 */
int exec_pg_hide_ambient(struct exec_pg_ambient *saved, struct arena *a);
void exec_pg_restore_ambient(const struct exec_pg_ambient *saved);

#endif
