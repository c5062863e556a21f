/* settings.h (db): a tenant's settings row and its sealed LLM key */
#ifndef IL_DB_SETTINGS_H
#define IL_DB_SETTINGS_H

struct arena;
struct db;

/*
 * A tenant's name and settings: NULL strings (and ai_advisory_enabled -1)
 * for what it never set. Strings live until the arena resets.
 */
struct db_settings {
	const char *tenant_name;
	const char *provider;         /* of the stored key */
	const char *key_sealed;       /* the sealed key (bytea hex text), NULL without one */
	const char *key_prefix, *key_last4;   /* the parts of the key that may be shown */
	const char *key_updated_at;   /* ISO 8601 */
	const char *model;            /* the model chosen with the key */
	int ai_advisory_enabled;      /* 1, 0, or -1: the server's default */
};

/* The tenant's name and settings; IL_ENOTFOUND. */
int db_settings_get(struct db_settings *out, struct db *db, struct arena *a,
		    const char *tenant_id);
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
