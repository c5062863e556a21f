/* environments.c (db): environments, their sealed connections, warehouse roles */
#include "db/environments.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/json_text.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/strbuf.h"

/*
 * environment_json plus what the reference's clients read. We have no
 * ephemeral environments and delete for good (deleted_at stays null); an
 * environment never changes, so updated_at is created_at. The one signup
 * makes has no created_by: its creator is the user made in the same
 * transaction (now() is the same for both rows).
 */
#define ENV_ITEM \
	"(environment_json(e)::jsonb || jsonb_build_object('id', e.id," \
	" 'is_default', e.name = 'dev', 'is_production', e.is_production," \
	" 'is_ephemeral', false, 'pr_number', NULL::int, 'branch_name', NULL::text," \
	" 'expires_at', NULL::text, 'deleted_at', NULL::text," \
	" 'updated_at', iso8601(e.created_at), 'created_by', coalesce(u.email," \
	"  (SELECT s.email FROM users s WHERE s.tenant_id = e.tenant_id" \
	"   AND s.created_at = e.created_at ORDER BY s.id LIMIT 1))))::text" \
	" FROM environments e LEFT JOIN users u ON u.id = e.created_by"

int db_env_list_rows(PGresult **out, struct db *db, struct arena *a, const char *tenant_id)
{
	static const char sql[] =
		"SELECT e.step_timeout_seconds, " ENV_ITEM
		" WHERE e.tenant_id = $1 ORDER BY e.name";
	const char *p[1] = { tenant_id };

	return db_exec(out, db, a, sql, 1, p);
}

int db_env_list(const char **json, size_t *len, int *count, struct db *db, struct arena *a,
		const char *tenant_id, long server_step_timeout)
{
	struct strbuf sb;
	PGresult *res;
	int rc = db_env_list_rows(&res, db, a, tenant_id), i;

	if (rc < 0)
		return rc;
	db_json_page_init(&sb, a);
	strbuf_addc(&sb, '[');
	for (i = 0; i < db_rows(res); i++) {
		long own = db_long(res, i, 0), limit = server_step_timeout;
		size_t start = sb.len;

		if (own > 0 && own < limit)
			limit = own;
		if (i > 0)
			strbuf_addc(&sb, ',');
		db_json_compact(&sb, db_val(res, i, 1));
		/* the stored object, its closing brace replaced by one more member */
		if (sb.failed || sb.len < start + 2 || sb.buf[sb.len - 1] != '}')
			return IL_ERR;
		sb.len--;
		strbuf_addf(&sb, "%s\"step_timeout_seconds\":%ld}",
			    sb.buf[sb.len - 1] == '{' ? "" : ",", limit);
	}
	strbuf_addc(&sb, ']');
	if ((*json = strbuf_cstr(&sb)) == NULL)
		return IL_ENOMEM;
	*len = sb.len;
	*count = db_rows(res);
	return 0;
}

int db_env_json(const char **json, long *step_timeout, struct db *db, struct arena *a,
		const char *tenant_id, const char *name)
{
	static const char sql[] =
		"SELECT e.step_timeout_seconds, " ENV_ITEM
		" WHERE e.tenant_id = $1 AND e.name = $2";
	const char *p[2] = { tenant_id, name };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 2, p);

	if (rc < 0)
		return rc;
	*step_timeout = db_long(res, 0, 0);
	*json = db_val(res, 0, 1);
	return 0;
}

int db_env_get(struct db_env *out, struct db *db, struct arena *a, const char *tenant_id,
	       const char *name)
{
	static const char sql[] =
		"SELECT id, name, executor, catalog, schema_prefix, required_approvals,"
		" allow_self_approval, version, step_timeout_seconds FROM environments"
		" WHERE tenant_id = $1 AND name = $2";
	const char *p[2] = { tenant_id, name };
	PGresult *res;
	int64_t required = 0, version = 0;
	int rc = db_exec_one(&res, db, a, sql, 2, p);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	if (parse_i64(db_val(res, 0, 5), 0, INT_MAX, &required) < 0 ||
	    parse_i64(db_val(res, 0, 7), 0, INT_MAX, &version) < 0)
		return IL_ERR;
	out->id = db_val(res, 0, 0);
	out->name = db_val(res, 0, 1);
	out->executor = db_val(res, 0, 2);
	out->catalog = db_val(res, 0, 3);
	out->schema_prefix = db_val(res, 0, 4);
	out->required_approvals = (int)required;
	out->allow_self_approval = strcmp(db_val(res, 0, 6), "t") == 0;
	out->version = (int)version;
	out->step_timeout_seconds = db_long(res, 0, 8);
	return 0;
}

int db_env_create(struct db *db, struct arena *a, const char *tenant_id,
		  const struct db_env_new *e)
{
	static const char sql[] =
		"INSERT INTO environments (tenant_id, name, executor, catalog, schema_prefix,"
		" required_approvals, allow_self_approval, connection_enc, is_production,"
		" created_by, step_timeout_seconds)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9, $10, $11)";
	char req[16], step[24];
	const char *p[11] = { tenant_id, e->name, e->executor, e->catalog, e->schema_prefix,
			      req, e->allow_self_approval ? "true" : "false",
			      e->connection_sealed, e->is_production ? "true" : "false",
			      e->created_by, e->step_timeout_seconds > 0 ? step : NULL };

	snprintf(req, sizeof(req), "%d", e->required_approvals);
	snprintf(step, sizeof(step), "%ld", e->step_timeout_seconds);
	return db_exec(NULL, db, a, sql, 11, p);
}

int db_env_delete(struct db *db, struct arena *a, const char *tenant_id, const char *name)
{
	static const char busy_sql[] =
		"SELECT 1 FROM plans WHERE tenant_id = $1 AND environment = $2"
		" AND status = 'applying' LIMIT 1";
	static const char sql[] = "DELETE FROM environments WHERE tenant_id = $1 AND name = $2";
	const char *p[2] = { tenant_id, name };
	PGresult *res;
	int rc = db_exec(&res, db, a, busy_sql, 2, p);

	if (rc < 0)
		return rc;
	if (db_rows(res) > 0)
		return IL_ECONFLICT;
	if ((rc = db_exec(&res, db, a, sql, 2, p)) < 0)
		return rc;
	return strcmp(PQcmdTuples(res), "1") == 0 ? 0 : IL_ENOTFOUND;
}

int db_env_connection(const char **sealed, struct db *db, struct arena *a,
		      const char *tenant_id, const char *name)
{
	static const char sql[] =
		"SELECT '\\x' || encode(connection_enc, 'hex') FROM environments"
		" WHERE tenant_id = $1 AND name = $2";
	const char *p[2] = { tenant_id, name };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 2, p);

	if (rc < 0)
		return rc;
	*sealed = db_val(res, 0, 0);
	return 0;
}

int db_warehouse_role_get(const char **role, const char **password_sealed, struct db *db,
			  struct arena *a, const char *tenant_id)
{
	static const char sql[] =
		"SELECT role_name, '\\x' || encode(password_enc, 'hex') FROM warehouse_roles"
		" WHERE tenant_id = $1";
	const char *p[1] = { tenant_id };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 1, p);

	if (rc < 0)
		return rc;
	*role = db_val(res, 0, 0);
	*password_sealed = db_val(res, 0, 1);
	return 0;
}

int db_warehouse_role_insert(struct db *db, struct arena *a, const char *tenant_id,
			     const char *role, const char *password_sealed)
{
	static const char sql[] =
		"INSERT INTO warehouse_roles (tenant_id, role_name, password_enc)"
		" VALUES ($1, $2, $3::bytea)";
	const char *p[3] = { tenant_id, role, password_sealed };

	return db_exec(NULL, db, a, sql, 3, p);
}
