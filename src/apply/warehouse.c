/* warehouse.c: which warehouse a plan runs in, and as whom */
#include <stdio.h>
#include <string.h>

#include "apply/apply_int.h"
#include "core/project.h"
#include "db/db.h"
#include "db/environments.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/secret.h"

const char *apply_schema_of(struct apply *ap, const char *model)
{
	const char *dot = strchr(model, '.');
	const char *s;

	if (dot == NULL)
		return NULL;
	s = arena_printf(ap->c->arena, "%s_%.*s", ap->env.schema_prefix, (int)(dot - model), model);
	return s != NULL && exec_ident_ok(s) ? s : NULL;
}

const char *apply_qualified(struct apply *ap, const char *model)
{
	const char *schema = apply_schema_of(ap, model), *table = strchr(model, '.');

	if (schema == NULL || !exec_ident_ok(table + 1))
		return NULL;
	if (strcmp(ap->env.executor, "databricks") == 0)
		return arena_printf(ap->c->arena, "`%s`.`%s`.`%s`", ap->env.catalog, schema,
				    table + 1);
	return arena_printf(ap->c->arena, "\"%s\".\"%s\"", schema, table + 1);
}

/* The environment's own connection, opened; NULL when it has none. */
static int own_connection(const char **plain, struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	const char *sealed = NULL;
	int rc = db_begin_tenant(c->db, c->arena, c->tenant_id);

	if (rc == 0)
		rc = db_env_connection(&sealed, c->db, c->arena, c->tenant_id, ap->env.name);
	db_rollback(c->db, c->arena);
	*plain = NULL;
	if (rc < 0 || sealed == NULL)
		return rc;
	if (secret_open(plain, c->arena, c->cfg, c->tenant_id, SECRET_CONNECTION,
			sealed) < 0) {
		log_error("environment %s: the stored connection does not decrypt", ap->env.name);
		return IL_ERR;
	}
	return 0;
}

static int open_databricks(struct apply *ap, const char *conn)
{
	struct exec_databricks_opts o;
	struct exec_dbx_url url;
	json_object *j = json_tokener_parse(conn), *v;
	const char *why = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	if (j == NULL)
		return IL_ERR;
	if (json_object_object_get_ex(j, "host", &v))
		o.host = arena_strdup(ap->c->arena, json_object_get_string(v));
	if (json_object_object_get_ex(j, "token", &v))
		o.token = arena_strdup(ap->c->arena, json_object_get_string(v));
	if (json_object_object_get_ex(j, "warehouse_id", &v))
		o.warehouse_id = arena_strdup(ap->c->arena, json_object_get_string(v));
	json_object_put(j);
	/* checked again at every connect: the config or DNS may have changed since create */
	rc = exec_dbx_target_check(&url, &o.address, &why, ap->c->arena, o.host ? o.host : "",
				   ap->c->cfg);
	if (rc == IL_EINVALID) {
		ap->ex_error = arena_printf(ap->c->arena, "the Databricks host is not allowed: %s",
					    why);
		return ap->ex_error != NULL ? 0 : IL_ENOMEM;
	}
	if (rc < 0)
		return rc;
	o.ca_file = ap->c->cfg->databricks_ca_file;
	o.timeout_seconds = ap->c->cfg->databricks_timeout_seconds;
	o.poll_interval_ms = ap->c->cfg->databricks_poll_interval_ms;
	o.max_retries = (int)ap->c->cfg->databricks_max_retries;
	rc = exec_databricks_open(&ap->ex, ap->c->arena, &o);
	if (rc < 0)
		ap->ex_error = "cannot use the Databricks connection of this environment";
	return 0;
}

/* warehouse_connect_timeout_seconds, or what is left of the apply's time when less. */
static long connect_timeout(const struct apply *ap)
{
	long long left = (ap->deadline_ms - exec_now_ms()) / 1000 + 1;
	long t = ap->c->cfg->warehouse_connect_timeout_seconds;

	return left < t ? (long)(left > 0 ? left : 1) : t;
}

/* The tenant's own PostgreSQL warehouse, its DSN checked again before anything connects. */
static int open_own_postgres(struct apply *ap, const char *dsn)
{
	struct exec_pg_target t;
	const char *why = NULL;
	int rc = exec_pg_target_check(&t, &why, ap->c->arena, dsn, ap->c->cfg);

	if (rc == IL_EINVALID) {
		ap->ex_error = arena_printf(ap->c->arena, "the environment's connection is not "
					    "allowed: %s", why);
		return ap->ex_error != NULL ? 0 : IL_ENOMEM;
	}
	if (rc < 0)
		return rc;
	/* the DSN's connect_timeout only ever shortens the server's */
	if (t.connect_timeout > connect_timeout(ap))
		t.connect_timeout = connect_timeout(ap);
	if (exec_postgres_open_target(&ap->ex, &ap->ex_error, ap->c->arena, &t,
				      ap->c->cfg->statement_timeout_ms) < 0)
		ap->ex_error = ap->ex_error ? arena_printf(ap->c->arena, "%s (the environment's)",
							   ap->ex_error) :
			       "cannot connect to the environment's warehouse";
	return 0;
}

/* A new role name (il_t + the tenant id's first 16 hex digits) and sealed password. */
static int new_role(const char **role, const char **sealed, const struct apply_ctx *c)
{
	char hex[49], name[24];
	unsigned char raw[24];

	snprintf(name, sizeof(name), "il_t%.8s%.4s%.4s", c->tenant_id, c->tenant_id + 9,
		 c->tenant_id + 14);
	if (crypto_random(raw, sizeof(raw)) < 0)
		return IL_ERR;
	hex_encode(raw, sizeof(raw), hex);
	if (secret_seal(sealed, c->arena, c->cfg, c->tenant_id, SECRET_WAREHOUSE_PASSWORD,
			hex) < 0)
		return IL_ERR;
	*role = arena_strdup(c->arena, name);
	return *role != NULL ? 0 : IL_ENOMEM;
}

/* Reads the tenant's role, recording a new one when there is none. */
static int load_or_create_role(const char **role, const char **sealed,
			       const struct apply_ctx *c)
{
	int rc = db_begin_tenant(c->db, c->arena, c->tenant_id);

	if (rc == 0)
		rc = db_warehouse_role_get(role, sealed, c->db, c->arena, c->tenant_id);
	if (rc == IL_ENOTFOUND && (rc = new_role(role, sealed, c)) == 0)
		rc = db_warehouse_role_insert(c->db, c->arena, c->tenant_id, *role, *sealed);
	if (rc == 0)
		return db_commit(c->db, c->arena);
	db_rollback(c->db, c->arena);
	return rc;
}

/* The tenant's warehouse role and its password, created on first use. */
static int tenant_role(const char **role, const char **password, struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	const char *sealed = NULL;
	int rc = load_or_create_role(role, &sealed, c);

	if (rc == IL_ECONFLICT)   /* another worker created it first: use theirs */
		rc = load_or_create_role(role, &sealed, c);
	if (rc < 0)
		return rc;
	return secret_open(password, c->arena, c->cfg, c->tenant_id, SECRET_WAREHOUSE_PASSWORD,
			   sealed) < 0 ? IL_ERR : 0;
}

/* Every distinct target schema of the plan's steps. */
static const char *const *plan_schemas(struct apply *ap, size_t *n)
{
	json_object *steps = json_object_object_get(ap->doc, "steps");
	size_t i, j, count = json_object_array_length(steps);
	const char **out = arena_calloc(ap->c->arena, count + 1, sizeof(*out));

	*n = 0;
	for (i = 0; out != NULL && i < count; i++) {
		const char *model = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(steps, i), "model"));
		const char *s = apply_schema_of(ap, model);

		for (j = 0; s != NULL && j < *n && strcmp(out[j], s) != 0; j++)
			;
		if (s != NULL && j == *n)
			out[(*n)++] = s;
	}
	return out;
}

/*
 * The tenant's own database in the shared warehouse, prepared through the
 * admin connection (the tenant's SQL never runs there), then opened as the
 * tenant's role: warehouse_dsn with that database and role.
 */
static int open_shared_warehouse(struct apply *ap)
{
	const struct il_config *cfg = ap->c->cfg;
	const char *role = NULL, *password = NULL, *err = NULL, *dsn;
	const char *admin = *cfg->warehouse_admin_dsn ? cfg->warehouse_admin_dsn :
			    cfg->warehouse_dsn;
	struct exec_pg_tenant t;
	int rc;

	if (*cfg->warehouse_dsn == '\0') {
		ap->ex_error = "no default warehouse is configured (warehouse_dsn)";
		return 0;
	}
	if ((rc = tenant_role(&role, &password, ap)) < 0)
		return rc;
	memset(&t, 0, sizeof(t));
	t.role = role;
	t.password = password;
	t.connection_limit = cfg->warehouse_connection_limit;
	t.template_db = cfg->warehouse_template_db;
	t.shared_server = cfg->warehouse_shared_server;
	t.shared_reader = cfg->warehouse_shared_reader;
	t.shared_schemas = cfg->warehouse_shared_schemas;
	t.schemas = plan_schemas(ap, &t.n_schemas);
	if (t.schemas == NULL)
		return IL_ENOMEM;
	rc = exec_postgres_provision(&err, ap->c->arena, admin, &t);
	if (rc < 0) {
		log_error("warehouse provisioning for role %s failed: %s", role, err ? err : "");
		ap->ex_error = "cannot prepare the warehouse for this tenant";
		return 0;
	}
	dsn = exec_conninfo_dbname(ap->c->arena, cfg->warehouse_dsn, role);
	if (dsn == NULL || exec_postgres_open(&ap->ex, &ap->ex_error, ap->c->arena, dsn, role,
					      password, cfg->statement_timeout_ms,
					      connect_timeout(ap)) < 0)
		ap->ex_error = ap->ex_error ? ap->ex_error : "cannot connect to the warehouse";
	return 0;
}

int apply_open_executor(struct apply *ap)
{
	const char *conn = NULL;
	int rc = own_connection(&conn, ap);

	ap->ex = NULL;
	if (rc < 0)
		return rc;
	if (strcmp(ap->env.executor, "databricks") == 0) {
		if (conn == NULL) {
			ap->ex_error = "the environment has no Databricks connection";
			return 0;
		}
		return open_databricks(ap, conn);
	}
	if (conn == NULL)
		return open_shared_warehouse(ap);
	return open_own_postgres(ap, conn);
}
