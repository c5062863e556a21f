/* cli_secrets.c: ironlayer rotate-master-key: re-seal every secret under the current master key */
#include <stdio.h>
#include <string.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "db/db.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/secret.h"

/* One kind of sealed column: how to read every row and write one back. */
struct sealed_kind {
	const char *what;          /* for the report */
	enum secret_purpose purpose;
	const char *select_sql;    /* rows (row key, tenant_id, sealed) locked */
	const char *update_sql;    /* $1 row key, $2 sealed bytea text */
};

static const struct sealed_kind kinds[] = {
	{ "LLM keys", SECRET_LLM_KEY,
	  "SELECT tenant_id::text, tenant_id::text, llm_key_enc FROM tenant_settings"
	  " WHERE llm_key_enc IS NOT NULL ORDER BY tenant_id FOR UPDATE",
	  "UPDATE tenant_settings SET llm_key_enc = $2::bytea WHERE tenant_id = $1" },
	{ "environment connections", SECRET_CONNECTION,
	  "SELECT id::text, tenant_id::text, connection_enc FROM environments"
	  " WHERE connection_enc IS NOT NULL ORDER BY id FOR UPDATE",
	  "UPDATE environments SET connection_enc = $2::bytea WHERE id = $1" },
	{ "warehouse role passwords", SECRET_WAREHOUSE_PASSWORD,
	  "SELECT tenant_id::text, tenant_id::text, password_enc FROM warehouse_roles"
	  " ORDER BY tenant_id FOR UPDATE",
	  "UPDATE warehouse_roles SET password_enc = $2::bytea WHERE tenant_id = $1" },
};

struct counts {
	long resealed, current;
};

/*
 * Re-seals one secret unless it already is in the current format under the
 * current key: a legacy blob (bound to its tenant only) is re-sealed bound to
 * its purpose too, even when its key is the current one.
 */
static int reseal(struct counts *c, struct db *db, struct arena *a,
		  const struct il_config *cfg, const struct sealed_kind *k,
		  const char *row, const char *tenant, const char *sealed)
{
	const char *plain, *fresh, *p[2];

	if (secret_is_current(cfg, sealed)) {
		c->current++;
		return 0;
	}
	if (secret_open(&plain, a, cfg, tenant, k->purpose, sealed) < 0) {
		fprintf(stderr, "ironlayer rotate-master-key: a secret of tenant %s (%s) opens"
			" with neither master_key nor master_key_previous (or was not sealed"
			" as one of the %s)\n", tenant, k->what, k->what);
		return IL_EINVALID;
	}
	if (secret_seal(&fresh, a, cfg, tenant, k->purpose, plain) < 0)
		return IL_ERR;
	p[0] = row;
	p[1] = fresh;
	c->resealed++;
	return db_exec(NULL, db, a, k->update_sql, 2, p);
}

static int rotate_kind(struct counts *c, struct db *db, struct arena *a,
		       const struct il_config *cfg, const struct sealed_kind *k)
{
	PGresult *res;
	int i, rc = db_exec(&res, db, a, k->select_sql, 0, NULL);

	for (i = 0; rc == 0 && i < db_rows(res); i++)
		rc = reseal(c, db, a, cfg, k, db_val(res, i, 0), db_val(res, i, 1),
			    db_val(res, i, 2));
	return rc;
}

/* Everything in one transaction: either every secret moves or none does. */
static int rotate_all(struct counts *c, struct db *db, struct arena *a,
		      const struct il_config *cfg)
{
	size_t i;
	int rc = db_begin(db, a);

	for (i = 0; rc == 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		rc = rotate_kind(&c[i], db, a, cfg, &kinds[i]);
	if (rc == 0)
		rc = db_commit(db, a);
	if (rc < 0)
		db_rollback(db, a);
	return rc;
}

/* {"key_version": v, "secrets": [{"kind", "re_encrypted", "already_current"}]} */
static int print_counts_json(const struct counts *c, long version)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	size_t i;
	int rc;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		json_object *k = json_object_new_object();

		json_object_object_add(k, "kind", json_object_new_string(kinds[i].what));
		json_object_object_add(k, "re_encrypted", json_object_new_int64(c[i].resealed));
		json_object_object_add(k, "already_current", json_object_new_int64(c[i].current));
		json_object_array_add(list, k);
	}
	json_object_object_add(o, "key_version", json_object_new_int64(version));
	json_object_object_add(o, "secrets", list);
	rc = cli_print_json(o);
	json_object_put(o);
	return rc;
}

/*
 * ironlayer rotate-master-key: with the new key as master_key (and a new
 * master_key_version) and the old one as master_key_previous, re-seals every
 * tenant LLM key, environment connection and warehouse role password under
 * master_key, then prints the counts. Run with the same key (no
 * master_key_previous), it re-seals only what is still in the legacy format.
 * Connects as the owner role (migrate_database_url).
 */
int cli_rotate_master_key(int argc, char **argv)
{
	struct il_config cfg;
	struct counts c[sizeof(kinds) / sizeof(kinds[0])];
	struct arena *a = arena_new(0);
	struct db db;
	char err[512];
	size_t i;
	int rc;

	int json = argc == 2 && strcmp(argv[1], "--json") == 0;

	if (argc != 1 && !json) {
		arena_free(a);
		return cli_usage_error("rotate-master-key");
	}
	if (a == NULL)
		return 1;
	if (config_load(&cfg, a, cli_config_path, CONFIG_NEED_DB | CONFIG_NEED_SECRETS, err,
			sizeof(err)) < 0) {
		fprintf(stderr, "ironlayer rotate-master-key: %s\n", err);
		arena_free(a);
		return 1;
	}
	memset(c, 0, sizeof(c));
	db_init(&db, cfg.migrate_database_url);
	rc = rotate_all(c, &db, a, &cfg);
	if (rc == 0 && json)
		rc = print_counts_json(c, cfg.master_key_version) ? IL_ERR : 0;
	else if (rc == 0)
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			printf("%s: %ld re-encrypted, %ld already under key version %ld\n",
			       kinds[i].what, c[i].resealed, c[i].current, cfg.master_key_version);
	else if (rc != IL_EINVALID)
		fprintf(stderr, "ironlayer rotate-master-key: database error (see the log);"
			" nothing was changed\n");
	db_close(&db);
	arena_free(a);
	return rc == 0 ? 0 : 1;
}
