/* settings.h (db): a tenant's settings row and its sealed LLM key */
#ifndef IL_DB_SETTINGS_H
#define IL_DB_SETTINGS_H

#include <libpq-fe.h>

struct arena;
struct db;

/* Columns of db_settings_get. */
enum db_settings_col {
	S_TENANT_NAME, S_PROVIDER, S_LAST4, S_UPDATED_AT, S_MODEL, S_ENABLED, S_KEY_ENC,
	S_PREFIX
};

/* The tenant's name and settings (NULL columns when it has no settings row); IL_ENOTFOUND. */
int db_settings_get(PGresult **out, struct db *db, struct arena *a, const char *tenant_id);
/*
 * Stores the sealed key (bytea hex text) with the parts of it that may be
 * shown (prefix, last4); ai_advisory_enabled only for a new row.
 */
int db_settings_store_key(struct db *db, struct arena *a, const char *tenant_id,
			  const char *provider, const char *sealed, const char *prefix,
			  const char *last4, const char *model, int ai_advisory_enabled);
/* Forgets the key; *had is 1 when there was one. */
int db_settings_clear_key(int *had, struct db *db, struct arena *a, const char *tenant_id);
int db_settings_set_advisory(struct db *db, struct arena *a, const char *tenant_id,
			     int enabled);

#endif
