/* settings.c (db): a tenant's settings row and its sealed LLM key */
#include "db/settings.h"

#include <string.h>

#include "db/db.h"
#include "util/arena.h"
#include "util/error.h"

int db_settings_get(struct db_settings *out, struct db *db, struct arena *a,
		    const char *tenant_id)
{
	static const char sql[] =
		"SELECT t.name, s.llm_provider, s.llm_key_last4, iso8601(s.llm_key_updated_at),"
		" s.llm_model, s.ai_advisory_enabled, s.llm_key_enc, s.llm_key_prefix"
		" FROM tenants t LEFT JOIN tenant_settings s ON s.tenant_id = t.id"
		" WHERE t.id = $1";
	const char *p[1] = { tenant_id }, *enabled;
	PGresult *res = NULL;
	int rc = db_exec_one(&res, db, a, sql, 1, p);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	out->tenant_name = db_val(res, 0, 0);
	out->provider = db_val(res, 0, 1);
	out->key_last4 = db_val(res, 0, 2);
	out->key_updated_at = db_val(res, 0, 3);
	out->model = db_val(res, 0, 4);
	enabled = db_val(res, 0, 5);
	out->ai_advisory_enabled = enabled ? strcmp(enabled, "t") == 0 : -1;
	out->key_sealed = db_val(res, 0, 6);
	out->key_prefix = db_val(res, 0, 7);
	return 0;
}

int db_settings_store_key(struct db *db, struct arena *a, const char *tenant_id,
			  const char *provider, const char *sealed, const char *prefix,
			  const char *last4, const char *model, int ai_advisory_enabled)
{
	static const char sql[] =
		"INSERT INTO tenant_settings (tenant_id, llm_provider, llm_key_enc, llm_key_last4,"
		" llm_model, llm_key_updated_at, ai_advisory_enabled, llm_key_prefix)"
		" VALUES ($1, $2, $3::bytea, $4, $5, now(), $6, $7)"
		" ON CONFLICT (tenant_id) DO UPDATE SET llm_provider = EXCLUDED.llm_provider,"
		" llm_key_enc = EXCLUDED.llm_key_enc, llm_key_last4 = EXCLUDED.llm_key_last4,"
		" llm_key_prefix = EXCLUDED.llm_key_prefix,"
		" llm_model = EXCLUDED.llm_model, llm_key_updated_at = now(), updated_at = now()";
	const char *p[7] = { tenant_id, provider, sealed, last4, model,
			     ai_advisory_enabled ? "true" : "false", prefix };

	return db_exec(NULL, db, a, sql, 7, p);
}

int db_settings_clear_key(int *had, struct db *db, struct arena *a, const char *tenant_id)
{
	static const char sql[] =
		"UPDATE tenant_settings SET llm_provider = NULL, llm_key_enc = NULL,"
		" llm_key_last4 = NULL, llm_key_prefix = NULL, llm_model = NULL,"
		" llm_key_updated_at = NULL,"
		" updated_at = now() WHERE tenant_id = $1 AND llm_key_enc IS NOT NULL";
	const char *p[1] = { tenant_id };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 1, p);

	if (rc == 0)
		*had = strcmp(PQcmdTuples(res), "1") == 0;
	return rc;
}

int db_settings_set_advisory(struct db *db, struct arena *a, const char *tenant_id,
			     int enabled)
{
	static const char sql[] =
		"INSERT INTO tenant_settings (tenant_id, ai_advisory_enabled) VALUES ($1, $2)"
		" ON CONFLICT (tenant_id) DO UPDATE SET"
		" ai_advisory_enabled = EXCLUDED.ai_advisory_enabled, updated_at = now()";
	const char *p[2] = { tenant_id, enabled ? "true" : "false" };

	return db_exec(NULL, db, a, sql, 2, p);
}
