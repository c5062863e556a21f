/* pg_provision.c (exec): tenant roles and schemas in the shared PostgreSQL warehouse */
#include <string.h>

#include <libpq-fe.h>

#include "exec/exec.h"
#include "util/arena.h"
#include "util/error.h"

/* Runs one admin statement; on failure *err gets the server's message. */
static int admin_sql(PGconn *c, struct arena *a, const char **err, const char *sql,
		     int n, const char *const *params)
{
	PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		*err = exec_error_text(a, PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : IL_ERR;
}

static int ensure_role(PGconn *c, struct arena *a, const char **err, const char *role,
		       const char *password)
{
	static const char exists[] = "SELECT 1 FROM pg_roles WHERE rolname = $1";
	const char *p[1] = { role };
	PGresult *res = PQexecParams(c, exists, 1, NULL, p, NULL, NULL, 0);
	int found = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	char *lit;
	int rc;

	PQclear(res);
	if (!found) {
		/* CREATE ROLE takes no parameters: the password is escaped as a literal */
		lit = PQescapeLiteral(c, password, strlen(password));
		if (lit == NULL)
			return IL_ENOMEM;
		rc = admin_sql(c, a, err, arena_printf(
			a, "CREATE ROLE \"%s\" LOGIN NOINHERIT PASSWORD %s", role, lit), 0, NULL);
		PQfreemem(lit);
		if (rc < 0)
			return rc;
	}
	/* the admin must be a member to create schemas owned by the role */
	return admin_sql(c, a, err, arena_printf(a, "GRANT \"%s\" TO CURRENT_USER", role), 0, NULL);
}

static int grant_shared(PGconn *c, struct arena *a, const char **err, const char *role,
			const char *shared)
{
	char *copy = arena_strdup(a, shared ? shared : ""), *tok, *save = NULL;
	int rc = 0;

	for (tok = strtok_r(copy, ", ", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ", ", &save)) {
		const char *p[1] = { tok };
		PGresult *res;
		int present;

		if (!exec_ident_ok(tok))
			continue;
		res = PQexecParams(c, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, NULL, p,
				   NULL, NULL, 0);
		present = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
		PQclear(res);
		if (!present)
			continue;
		rc = admin_sql(c, a, err, arena_printf(a, "GRANT USAGE ON SCHEMA \"%s\" TO \"%s\"",
						       tok, role), 0, NULL);
		if (rc == 0)
			rc = admin_sql(c, a, err, arena_printf(
				a, "GRANT SELECT ON ALL TABLES IN SCHEMA \"%s\" TO \"%s\"", tok, role),
				0, NULL);
	}
	return rc;
}

int exec_postgres_provision(const char **err, struct arena *a, const char *admin_conninfo,
			    const char *role, const char *password, const char *shared_schemas,
			    const char *const *schemas, size_t n)
{
	PGconn *c;
	size_t i;
	int rc;

	*err = NULL;
	if (!exec_ident_ok(role))
		return IL_EINVALID;
	c = PQconnectdb(admin_conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		*err = exec_error_text(a, PQerrorMessage(c));
		PQfinish(c);
		return IL_EUNAVAIL;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	/* one provisioning per role at a time: two applies may start together */
	rc = admin_sql(c, a, err, "BEGIN", 0, NULL);
	if (rc == 0) {
		const char *p[1] = { role };

		rc = admin_sql(c, a, err, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, p);
	}
	if (rc == 0)
		rc = ensure_role(c, a, err, role, password);
	if (rc == 0)
		rc = grant_shared(c, a, err, role, shared_schemas);
	for (i = 0; i < n && rc == 0; i++) {
		if (!exec_ident_ok(schemas[i])) {
			*err = "invalid schema name";
			rc = IL_EINVALID;
			break;
		}
		rc = admin_sql(c, a, err, arena_printf(
			a, "CREATE SCHEMA IF NOT EXISTS \"%s\" AUTHORIZATION \"%s\"", schemas[i], role),
			0, NULL);
	}
	if (rc == 0)
		rc = admin_sql(c, a, err, "COMMIT", 0, NULL);
	PQfinish(c);   /* closing rolls back whatever did not commit */
	return rc;
}
