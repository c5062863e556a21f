/* environments.c: list, create and delete environments */
#include <string.h>

#include "api/api.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/environments.h"
#include "exec/exec.h"
#include "http/body.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/parse.h"
#include "util/secret.h"

/*
 * An environment as the API shows it: the stored JSON plus
 * step_timeout_seconds, the limit its steps run under (its own, or the
 * server's step_timeout_seconds when that is lower or it has none).
 */
static json_object *env_json(struct req *r, const char *json, long own_step_timeout)
{
	json_object *o = api_json_parse(json);
	long limit = r->cfg->step_timeout_seconds;

	if (own_step_timeout > 0 && own_step_timeout < limit)
		limit = own_step_timeout;
	if (o != NULL)
		json_object_object_add(o, "step_timeout_seconds", json_object_new_int64(limit));
	return o;
}

/*
 * GET /api/v1/environments (viewer): a bare array by name, X-Total-Count;
 * connections never shown.
 */
int api_environments_list(struct req *r)
{
	const char *json;
	size_t len;
	int count, rc = db_env_list(&json, &len, &count, r->db, r->arena, r->who.tenant_id,
				    r->cfg->step_timeout_seconds);

	if (rc < 0)
		return rc;
	api_list_respond_text(r, json, len, count);
	return 0;
}

/*
 * GET /api/v1/environments/promotions?limit= (viewer): the reference's
 * promotion history. Environments here are never promoted into one another
 * (a plan is applied to the environment it was made for), so it is empty.
 */
int api_environments_promotions(struct req *r)
{
	int64_t limit;

	query_int(r, "limit", 10, 1, 100, &limit);
	if (req_validation_finish(r))
		return 0;
	api_list_respond(r, json_object_new_array(), 0);
	return 0;
}

/*
 * POST /api/v1/environments/cleanup (admin): the reference's removal of
 * expired ephemeral environments. No environment here is ephemeral, so none
 * ever expires: 200 {"deleted_count": 0}.
 */
int api_environments_cleanup(struct req *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "deleted_count", json_object_new_int(0));
	req_json(r, 200, o);
	return 0;
}

static const char *check_executor(const char *s)
{
	return strcmp(s, "postgres") == 0 || strcmp(s, "databricks") == 0 ? NULL :
		"must be postgres or databricks";
}

const char *api_check_env_name(const char *s)
{
	return ident_ok(s, IL_MAX_IDENT, 0) ? NULL : "must match ^[a-z][a-z0-9_]{0,62}$";
}

/*
 * A schema prefix names schemas <prefix>_<schema>: none may fall among
 * PostgreSQL's own (pg_*, information_schema) or the public schema.
 */
static const char *check_prefix(const char *s)
{
	static const char *const reserved[] = { "pg", "information_schema", "public" };
	size_t i;

	if (!ident_ok(s, IL_MAX_SCHEMA_PREFIX, 0))
		return "must match ^[a-z][a-z0-9_]{0,39}$";
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strncmp(s, reserved[i], strlen(reserved[i])) == 0)
			return "may not start with pg, information_schema or public";
	return NULL;
}

enum { F_NAME, F_EXECUTOR, F_CATALOG, F_PREFIX, F_APPROVALS, F_SELF, F_PROD, F_STEP_TIMEOUT,
       F_COUNT };
static const struct field env_fields[F_COUNT] = {
	[F_NAME] = { "name", FIELD_STRING, 1, IL_MAX_IDENT, 0, 0, api_check_env_name },
	[F_EXECUTOR] = { "executor", FIELD_STRING, 0, 16, 0, 0, check_executor },
	[F_CATALOG] = { "catalog", FIELD_STRING, 0, 255, 0, 0, NULL },
	[F_PREFIX] = { "schema_prefix", FIELD_STRING, 1, IL_MAX_SCHEMA_PREFIX, 0, 0,
		       check_prefix },
	[F_APPROVALS] = { "required_approvals", FIELD_INT, 0, 0, 1, 10, NULL },
	[F_SELF] = { "allow_self_approval", FIELD_BOOL, 0, 0, 0, 0, NULL },
	[F_PROD] = { "is_production", FIELD_BOOL, 0, 0, 0, 0, NULL },
	/* at most the server's step_timeout_seconds: checked in read_environment */
	[F_STEP_TIMEOUT] = { "step_timeout_seconds", FIELD_INT, 0, 0, 1, 86400, NULL },
	/* "connection" is read by connection_text: a string or an object by executor */
};

/* The executor asked for; else databricks for a Databricks connection object, else postgres. */
static const char *executor_of(struct req *r, const struct field_value *v)
{
	json_object *c = NULL;

	if (v->present)
		return v->str;
	return json_object_object_get_ex(r->json, "connection", &c) &&
	       json_object_is_type(c, json_type_object) ? "databricks" : "postgres";
}

static const char *const dbx_keys[] = { "host", "warehouse_id", "token" };

/*
 * 1 when a tenant's connection target passes (the DSN's keywords and host,
 * or the Databricks URL, and every address either resolves to); otherwise
 * records a 422 naming the problem and returns 0. Apply checks it again.
 */
static int connection_allowed(struct req *r, const char *executor, const char *target)
{
	struct exec_pg_target pg;
	struct exec_dbx_url url;
	const char *why = NULL, *address;
	int rc = strcmp(executor, "postgres") == 0 ?
		 exec_pg_target_check(&pg, &why, r->arena, target, r->cfg) :
		 exec_dbx_target_check(&url, &address, &why, r->arena, target, r->cfg);

	if (rc == 0)
		return 1;
	req_invalid(r, "body", "connection", why ? why : "the connection cannot be checked now",
		    "value_error");
	return 0;
}

/*
 * The connection as text to seal: a PostgreSQL DSN as given, or the
 * Databricks object {host, warehouse_id, token} as compact JSON. NULL after
 * recording a 422.
 */
static const char *connection_text(struct req *r, const char *executor, int *absent)
{
	json_object *c = NULL, *v;
	size_t i;

	*absent = !json_object_object_get_ex(r->json, "connection", &c) ||
		  json_object_is_type(c, json_type_null);
	if (strcmp(executor, "postgres") == 0) {
		if (*absent)
			return NULL;
		if (json_object_is_type(c, json_type_string))
			return connection_allowed(r, executor, json_object_get_string(c)) ?
			       json_object_get_string(c) : NULL;
		req_invalid(r, "body", "connection", "a postgres connection is a DSN string",
			    "string_type");
		return NULL;
	}
	if (*absent || !json_object_is_type(c, json_type_object)) {
		req_invalid(r, "body", "connection", "databricks needs {host, warehouse_id, token}",
			    *absent ? "missing" : "dict_type");
		return NULL;
	}
	for (i = 0; i < 3; i++) {
		if (!json_object_object_get_ex(c, dbx_keys[i], &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0 || json_object_get_string_len(v) > 2048) {
			req_invalid(r, "body", "connection",
				    arena_printf(r->arena,
						 "connection.%s must be a non-empty string",
						 dbx_keys[i]), "value_error");
			return NULL;
		}
	}
	json_object_object_get_ex(c, "host", &v);
	if (!connection_allowed(r, executor, json_object_get_string(v)))
		return NULL;
	return json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
}

static int read_environment(struct db_env_new *e, struct req *r)
{
	struct field_value v[F_COUNT];
	const char *conn, *executor;
	int absent = 1;

	body_collect(r, env_fields, F_COUNT, v);
	memset(e, 0, sizeof(*e));
	executor = executor_of(r, &v[F_EXECUTOR]);
	conn = connection_text(r, executor, &absent);
	if (conn != NULL && secret_seal(&e->connection_sealed, r->arena, r->cfg,
					r->who.tenant_id, SECRET_CONNECTION, conn) < 0)
		return IL_ERR;
	if (strcmp(executor, "databricks") == 0 && !v[F_CATALOG].present)
		req_invalid(r, "body", "catalog", "databricks environments need a catalog",
			    "missing");
	e->name = v[F_NAME].str;
	e->executor = executor;
	e->catalog = v[F_CATALOG].present ? v[F_CATALOG].str : NULL;
	e->schema_prefix = v[F_PREFIX].str;
	e->required_approvals = v[F_APPROVALS].present ? (int)v[F_APPROVALS].i : 1;
	e->allow_self_approval = v[F_SELF].present ? v[F_SELF].b : 1;
	e->is_production = v[F_PROD].present && v[F_PROD].b;
	e->created_by = r->who.user_id;
	e->step_timeout_seconds = v[F_STEP_TIMEOUT].present ? (long)v[F_STEP_TIMEOUT].i : 0;
	/* a tenant may shorten its steps' time, never lengthen it */
	if (e->step_timeout_seconds > r->cfg->step_timeout_seconds)
		req_invalid(r, "body", "step_timeout_seconds", arena_printf(r->arena,
			    "must be at most %ld, the server's step_timeout_seconds",
			    r->cfg->step_timeout_seconds), "less_than_equal");
	return req_validation_finish(r);
}

/*
 * POST /api/v1/environments (admin) {name, schema_prefix, catalog?,
 * executor?, connection?, is_production?, required_approvals?,
 * allow_self_approval?, step_timeout_seconds?}: 201 with the environment (the
 * connection is sealed with the master key and never shown). executor
 * defaults to databricks for a Databricks connection object, else postgres;
 * created_by is the caller (a created_by in the body is ignored). 409 for a
 * taken name; 402 past the tier's environment limit; 422 for bad fields
 * (step_timeout_seconds above the server's is one).
 */
int api_environments_create(struct req *r)
{
	struct db_env_new e;
	const char *json;
	long step_timeout = 0;
	int rc;

	if ((rc = read_environment(&e, r)) != 0)
		return rc > 0 ? 0 : rc;
	/* a taken name is a conflict whatever the tier allows */
	rc = db_env_json(&json, &step_timeout, r->db, r->arena, r->who.tenant_id, e.name);
	if (rc == 0)
		rc = IL_ECONFLICT;
	else if (rc == IL_ENOTFOUND &&
		 (rc = api_check_quota(r, BILLING_LIMIT_ENVIRONMENTS)) == 0)
		rc = db_env_create(r->db, r->arena, r->who.tenant_id, &e);
	if (rc > 0)
		return 0;
	if (rc == IL_ECONFLICT) {
		req_error(r, 409, "conflict", "environment %s already exists", e.name);
		return 0;
	}
	if (rc == 0)
		rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				     "environment_created", "environment", e.name, NULL);
	if (rc == 0)
		rc = db_env_json(&json, &step_timeout, r->db, r->arena, r->who.tenant_id, e.name);
	if (rc < 0)
		return rc;
	req_json(r, 201, env_json(r, json, step_timeout));
	return 0;
}

/*
 * DELETE /api/v1/environments/:name (admin): 200 {"deleted": true, "name"}.
 * Only the mapping goes: the warehouse schemas and their data stay
 * (IronLayer-Notice says so). 409 while a plan in it is applying; 404 when
 * there is no such environment.
 */
int api_environments_delete(struct req *r)
{
	const char *name = req_param(r, 0);
	json_object *o;
	int rc = db_env_delete(r->db, r->arena, r->who.tenant_id, name);

	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "environment %.80s not found", name);
		return 0;
	}
	if (rc == IL_ECONFLICT) {
		req_error(r, 409, "environment_busy",
			  "a plan in environment %s is being applied; try again when it is done",
			  name);
		return 0;
	}
	if (rc == 0)
		rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				     "environment_deleted", "environment", name, NULL);
	if (rc < 0)
		return rc;
	req_header_add(r, "IronLayer-Notice", "warehouse schemas and data were kept");
	o = json_object_new_object();
	json_object_object_add(o, "deleted", json_object_new_boolean(1));
	json_object_object_add(o, "name", json_object_new_string(name));
	req_json(r, 200, o);
	return 0;
}
