/*
 * pg_provision.c (exec): each tenant's role, database and schemas in the
 * shared PostgreSQL warehouse, prepared through the admin connection.
 *
 * A tenant gets a database of its own (named like its role, owned by it,
 * CONNECT revoked from PUBLIC), so its catalogs show nothing of another
 * tenant. The shared source schemas of the warehouse database reach it as
 * foreign tables (postgres_fdw, through the template's server and its
 * read-only user mapping), imported into schemas the admin owns: the tenant
 * may SELECT them and nothing else. No tenant SQL runs here.
 */
#include <string.h>

#include <libpq-fe.h>

#include "exec/exec.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

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

/* The first column of the first row of a one-parameter query; *out NULL without a row. */
static int admin_value(PGconn *c, struct arena *a, const char **err, const char **out,
		       const char *sql, const char *param)
{
	const char *p[1] = { param };
	PGresult *res = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
	int rc = 0;

	*out = NULL;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		*err = exec_error_text(a, PQresultErrorMessage(res));
		rc = IL_ERR;
	} else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
		*out = arena_strdup(a, PQgetvalue(res, 0, 0));
		rc = *out != NULL ? 0 : IL_ENOMEM;
	}
	PQclear(res);
	return rc;
}

/* Appends key='value' (libpq quoting) to a connection string. */
static void conninfo_add(struct strbuf *sb, const char *key, const char *val)
{
	strbuf_addf(sb, "%s%s='", sb->len > 0 ? " " : "", key);
	for (; *val != '\0'; val++) {
		if (*val == '\'' || *val == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, *val);
	}
	strbuf_addc(sb, '\'');
}

const char *exec_conninfo_dbname(struct arena *a, const char *conninfo, const char *dbname)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL), *o;
	struct strbuf sb;

	if (opts == NULL)
		return NULL;
	strbuf_init(&sb, a, 8192);
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && *o->val != '\0' && strcmp(o->keyword, "dbname") != 0)
			conninfo_add(&sb, o->keyword, o->val);
	conninfo_add(&sb, "dbname", dbname);
	PQconninfoFree(opts);
	return strbuf_cstr(&sb);
}

/*
 * An admin session: its own role (a database default cannot switch it), no
 * search path (a name the tenant created cannot stand in for a catalog one).
 */
static PGconn *admin_connect(struct arena *a, const char **err, const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK) {
		*err = exec_error_text(a, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	res = PQexec(c, "SET ROLE NONE; SET search_path = ''; SET client_min_messages = warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		*err = exec_error_text(a, PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

/* Creates the role, or brings an existing one back to the attributes it must have. */
static int create_or_alter_role(PGconn *c, struct arena *a, const char **err,
				const struct exec_pg_tenant *t)
{
	const char *found = NULL, *role = exec_quote_ident(a, t->role);
	char *lit;
	int rc = admin_value(c, a, err, &found,
			     "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", t->role);

	if (rc < 0)
		return rc;
	if (found != NULL)
		return admin_sql(c, a, err, arena_printf(
			a, "ALTER ROLE %s LOGIN NOINHERIT NOCREATEDB NOCREATEROLE"
			" CONNECTION LIMIT %ld", role, t->connection_limit), 0, NULL);
	/* CREATE ROLE takes no parameters: the password is escaped as a literal */
	lit = PQescapeLiteral(c, t->password, strlen(t->password));
	if (lit == NULL)
		return IL_ENOMEM;
	rc = admin_sql(c, a, err, arena_printf(
		a, "CREATE ROLE %s LOGIN NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION"
		" NOBYPASSRLS CONNECTION LIMIT %ld PASSWORD %s", role, t->connection_limit, lit),
		0, NULL);
	PQfreemem(lit);
	return rc;
}

/* The tenant role is a member of no role; one we cannot take it out of is an error. */
static int drop_memberships(PGconn *c, struct arena *a, const char **err, const char *role)
{
	static const char sql[] =
		"SELECT pg_catalog.string_agg(pg_catalog.quote_ident(g.rolname), ', ')"
		" FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid"
		" JOIN pg_catalog.pg_roles u ON u.oid = m.member WHERE u.rolname = $1";
	const char *groups = NULL;
	int rc = admin_value(c, a, err, &groups, sql, role);

	if (rc == 0 && groups != NULL &&
	    admin_sql(c, a, err, arena_printf(a, "REVOKE %s FROM %s", groups,
					      exec_quote_ident(a, role)), 0, NULL) < 0) {
		*err = arena_printf(a, "the tenant role is a member of %s and cannot be taken"
				    " out: %s", groups, *err);
		rc = IL_ERR;
	}
	return rc;
}

/* Refuses a role with an attribute a tenant must not have (only a superuser sets them). */
static int check_attributes(PGconn *c, struct arena *a, const char **err, const char *role)
{
	static const char sql[] =
		"SELECT rolsuper OR rolinherit OR rolcreaterole OR rolcreatedb OR rolreplication"
		" OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = $1";
	const char *bad = NULL;
	int rc = admin_value(c, a, err, &bad, sql, role);

	if (rc == 0 && (bad == NULL || strcmp(bad, "f") != 0)) {
		*err = "the tenant role has SUPERUSER, INHERIT, CREATEROLE, CREATEDB, REPLICATION"
		       " or BYPASSRLS";
		rc = IL_ERR;
	}
	return rc;
}

/*
 * The role with its attributes and connection limit, a member of nothing;
 * the admin is a member of it (to create its database and schemas for it).
 */
static int ensure_role(PGconn *c, struct arena *a, const char **err,
		       const struct exec_pg_tenant *t)
{
	int rc = create_or_alter_role(c, a, err, t);

	if (rc == 0)
		rc = admin_sql(c, a, err, arena_printf(a, "GRANT %s TO CURRENT_USER",
						       exec_quote_ident(a, t->role)), 0, NULL);
	if (rc == 0)
		rc = drop_memberships(c, a, err, t->role);
	if (rc == 0)
		rc = check_attributes(c, a, err, t->role);
	return rc;
}

/*
 * The reader of the template's user mapping may read each shared schema that
 * exists; the tenant role itself reads none of the warehouse database (grants
 * of the time before tenant databases are taken back). The existing schemas
 * go to present[], *n_present of them.
 */
static int grant_reader(PGconn *c, struct arena *a, const char **err,
			const struct exec_pg_tenant *t, const char **present, size_t *n_present)
{
	char *copy = arena_strdup(a, t->shared_schemas), *tok, *save = NULL;
	const char *reader = exec_quote_ident(a, t->shared_reader);
	const char *role = exec_quote_ident(a, t->role);
	int rc = copy != NULL ? 0 : IL_ENOMEM;

	*n_present = 0;
	for (tok = copy ? strtok_r(copy, ", ", &save) : NULL; tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ", ", &save)) {
		const char *found = NULL, *s = exec_quote_ident(a, tok);

		if (!exec_ident_ok(tok) || *n_present == EXEC_MAX_SHARED_SCHEMAS)
			continue;
		rc = admin_value(c, a, err, &found,
				 "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", tok);
		if (rc < 0 || found == NULL)
			continue;
		present[(*n_present)++] = tok;
		rc = admin_sql(c, a, err, arena_printf(
			a, "GRANT USAGE ON SCHEMA %s TO %s", s, reader), 0, NULL);
		if (rc == 0)
			rc = admin_sql(c, a, err, arena_printf(
				a, "GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s", s, reader),
				0, NULL);
		if (rc == 0)
			rc = admin_sql(c, a, err, arena_printf(
				a, "REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s", s, role),
				0, NULL);
		if (rc == 0)
			rc = admin_sql(c, a, err, arena_printf(
				a, "REVOKE ALL ON SCHEMA %s FROM %s", s, role), 0, NULL);
	}
	return rc;
}

/* The tenant's database, made from the template, owned by the role, closed to PUBLIC. */
static int ensure_database(PGconn *c, struct arena *a, const char **err,
			   const struct exec_pg_tenant *t)
{
	static const char owner_sql[] =
		"SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database"
		" WHERE datname = $1";
	const char *owner = NULL, *db = exec_quote_ident(a, t->role);
	int rc = admin_value(c, a, err, &owner, owner_sql, t->role);

	if (rc == 0 && owner == NULL)
		rc = admin_sql(c, a, err, arena_printf(a, "CREATE DATABASE %s OWNER %s TEMPLATE %s",
						       db, db, exec_quote_ident(a, t->template_db)),
			       0, NULL);
	else if (rc == 0 && strcmp(owner, t->role) != 0) {
		*err = arena_printf(a, "database %s exists and belongs to %s", t->role, owner);
		return IL_ERR;
	}
	if (rc == 0)
		rc = admin_sql(c, a, err, arena_printf(
			a, "REVOKE ALL ON DATABASE %s FROM PUBLIC", db), 0, NULL);
	return rc;
}

/* Imports the shared schema's tables that have no foreign table here yet. */
static int import_new_tables(PGconn *c, struct arena *a, const char **err,
			     const struct exec_pg_tenant *t, const char *schema)
{
	static const char have_sql[] =
		"SELECT pg_catalog.string_agg(pg_catalog.quote_ident(c.relname), ', ')"
		" FROM pg_catalog.pg_class c"
		" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'f', 'p')";
	const char *have = NULL, *s = exec_quote_ident(a, schema);
	int rc = admin_value(c, a, err, &have, have_sql, schema);

	if (rc < 0)
		return rc;
	return admin_sql(c, a, err, arena_printf(
		a, "IMPORT FOREIGN SCHEMA %s%s%s%s FROM SERVER %s INTO %s", s,
		have ? " EXCEPT (" : "", have ? have : "", have ? ")" : "",
		exec_quote_ident(a, t->shared_server), s), 0, NULL);
}

/*
 * In the tenant database: the shared schema, owned by the admin, with the
 * source's tables as foreign tables the tenant may only SELECT. A schema of
 * that name the tenant made first is refused, never used.
 */
static int ensure_shared_schema(PGconn *c, struct arena *a, const char **err,
				const struct exec_pg_tenant *t, const char *schema)
{
	static const char owner_sql[] =
		"SELECT pg_catalog.pg_get_userbyid(nspowner) = CURRENT_USER"
		" FROM pg_catalog.pg_namespace WHERE nspname = $1";
	const char *mine = NULL, *s = exec_quote_ident(a, schema);
	const char *role = exec_quote_ident(a, t->role);
	int rc = admin_value(c, a, err, &mine, owner_sql, schema);

	if (rc == 0 && mine == NULL)
		rc = admin_sql(c, a, err, arena_printf(a, "CREATE SCHEMA %s", s), 0, NULL);
	else if (rc == 0 && strcmp(mine, "t") != 0) {
		*err = arena_printf(a, "schema %s of the tenant database is not the admin's",
				    schema);
		return IL_ERR;
	}
	if (rc == 0)
		rc = import_new_tables(c, a, err, t, schema);
	if (rc == 0)
		rc = admin_sql(c, a, err, arena_printf(
			a, "GRANT USAGE ON SCHEMA %s TO %s", s, role), 0, NULL);
	if (rc == 0)
		rc = admin_sql(c, a, err, arena_printf(
			a, "GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s", s, role), 0, NULL);
	return rc;
}

/* The template's foreign server must be there when there is shared data to reach. */
static int check_server(PGconn *c, struct arena *a, const char **err, const char *server)
{
	const char *found = NULL;
	int rc = admin_value(c, a, err, &found,
			     "SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname = $1",
			     server);

	if (rc == 0 && found == NULL) {
		*err = arena_printf(a, "the tenant database has no foreign server %s (prepare the"
				    " template database, see the admin guide)", server);
		rc = IL_ERR;
	}
	return rc;
}

/* Everything inside the tenant database, in one transaction. */
static int provision_database(PGconn *c, struct arena *a, const char **err,
			      const struct exec_pg_tenant *t, const char *const *present,
			      size_t n_present)
{
	size_t i;
	int rc = admin_sql(c, a, err, "BEGIN", 0, NULL);

	if (rc == 0 && n_present > 0)
		rc = check_server(c, a, err, t->shared_server);
	for (i = 0; i < n_present && rc == 0; i++)
		rc = ensure_shared_schema(c, a, err, t, present[i]);
	for (i = 0; i < t->n_schemas && rc == 0; i++)
		rc = admin_sql(c, a, err, arena_printf(
			a, "CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s",
			exec_quote_ident(a, t->schemas[i]), exec_quote_ident(a, t->role)), 0, NULL);
	if (rc == 0)
		rc = admin_sql(c, a, err, "COMMIT", 0, NULL);
	return rc;
}

static int names_ok(const char **err, const struct exec_pg_tenant *t)
{
	size_t i;

	if (!exec_ident_ok(t->role) || !exec_ident_ok(t->template_db) ||
	    !exec_ident_ok(t->shared_server) || !exec_ident_ok(t->shared_reader)) {
		*err = "invalid role, template, server or reader name";
		return 0;
	}
	for (i = 0; i < t->n_schemas; i++)
		if (!exec_ident_ok(t->schemas[i])) {
			*err = "invalid schema name";
			return 0;
		}
	return 1;
}

/* In the warehouse database: the role, the reader's grants, the tenant database. */
static int provision_cluster(PGconn *c, struct arena *a, const char **err,
			     const struct exec_pg_tenant *t, const char **present,
			     size_t *n_present)
{
	const char *p[1] = { t->role };
	/* one provisioning per role at a time (until this session ends): applies may race */
	int rc = admin_sql(c, a, err, "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext($1))",
			   1, p);

	if (rc == 0)
		rc = admin_sql(c, a, err, "BEGIN", 0, NULL);
	if (rc == 0)
		rc = ensure_role(c, a, err, t);
	if (rc == 0)
		rc = grant_reader(c, a, err, t, present, n_present);
	if (rc == 0)
		rc = admin_sql(c, a, err, "COMMIT", 0, NULL);
	if (rc == 0)   /* CREATE DATABASE runs outside a transaction */
		rc = ensure_database(c, a, err, t);
	return rc;
}

int exec_postgres_provision(const char **err, struct arena *a, const char *admin_conninfo,
			    const struct exec_pg_tenant *t)
{
	const char *present[EXEC_MAX_SHARED_SCHEMAS], *db_conninfo;
	size_t n_present = 0;
	PGconn *c, *tc;
	int rc;

	*err = NULL;
	if (!names_ok(err, t))
		return IL_EINVALID;
	if ((c = admin_connect(a, err, admin_conninfo)) == NULL)
		return IL_EUNAVAIL;
	rc = provision_cluster(c, a, err, t, present, &n_present);
	if (rc == 0) {
		db_conninfo = exec_conninfo_dbname(a, admin_conninfo, t->role);
		tc = db_conninfo != NULL ? admin_connect(a, err, db_conninfo) : NULL;
		rc = tc != NULL ? provision_database(tc, a, err, t, present, n_present) :
		     IL_EUNAVAIL;
		PQfinish(tc);   /* closing rolls back whatever did not commit */
	}
	PQfinish(c);   /* and releases the advisory lock */
	return rc;
}
