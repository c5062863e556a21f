/* auth.h (db): tenants, users, refresh tokens, login throttling, audit */
#ifndef IL_DB_AUTH_H
#define IL_DB_AUTH_H

struct arena;
struct db;

struct db_user {
	const char *id;
	const char *tenant_id;
	const char *tenant_name;
	const char *email;
	const char *display_name;
	const char *password_hash;
	const char *role;
	int disabled;
	const char *created_at;
	const char *last_login_at;
};

struct db_refresh {
	const char *user_id;
	const char *family_id;
	int used, revoked, expired;
};

/* Inside a transaction bound to tenant_id (db_begin_tenant). */
int db_tenant_create(struct db *db, struct arena *a, const char *tenant_id, const char *name);
/* IL_ECONFLICT when the email is taken. *id_out is the new user's id. */
int db_user_create(const char **id_out, struct db *db, struct arena *a,
		   const char *tenant_id, const char *email, const char *display_name,
		   const char *password_hash, const char *role);
int db_environment_create_default(struct db *db, struct arena *a, const char *tenant_id,
				  const char *schema_prefix);
/* Any tenant (SECURITY DEFINER lookup); IL_ENOTFOUND when no such email. */
int db_user_by_email(struct db_user *out, struct db *db, struct arena *a, const char *email);
/* The user with its tenant's name; IL_ENOTFOUND when gone. */
int db_user_get(struct db_user *out, struct db *db, struct arena *a, const char *tenant_id,
		const char *user_id);
int db_user_touch_login(struct db *db, struct arena *a, const char *tenant_id,
			const char *user_id);
/*
 * Opens the request's transaction bound to tenant_id and checks, in the same
 * round trip, that the user is active there: *email, or IL_ENOTFOUND with
 * nothing left open. *applying, when not NULL: whether a plan of the
 * tenant is applying (only then can an apply have lost its worker).
 */
int db_begin_tenant_as_user(const char **email, int *applying, struct db *db, struct arena *a,
			    const char *tenant_id, const char *user_id);
/* The user's email when the user is active in an existing tenant, else IL_ENOTFOUND. */
int db_user_active(const char **email, struct db *db, struct arena *a, const char *user_id,
		   const char *tenant_id);

int db_refresh_insert(struct db *db, struct arena *a, const char *hash, const char *tenant_id,
		      const char *user_id, const char *family_id, const char *parent_hash,
		      long ttl_seconds);
/* The tenant owning a refresh token hash (any tenant); IL_ENOTFOUND. */
int db_refresh_tenant(const char **tenant_id, struct db *db, struct arena *a, const char *hash);
/* Locks and reads the token row in the current tenant transaction. */
int db_refresh_lock(struct db_refresh *out, struct db *db, struct arena *a,
		    const char *tenant_id, const char *hash);
int db_refresh_mark_used(struct db *db, struct arena *a, const char *tenant_id,
			 const char *hash);
/* Revokes every live token of the family; *count how many were live. */
int db_refresh_revoke_family(int *count, struct db *db, struct arena *a,
			     const char *tenant_id, const char *family_id);

/*
 * Login throttling on a hashed (email, address) key: *retry_after is the
 * seconds to wait when max failures happened inside the window, else 0.
 */
int db_login_throttled(long *retry_after, struct db *db, struct arena *a, const char *key,
		       int max, long window_seconds);
int db_login_failed(struct db *db, struct arena *a, const char *key, long window_seconds);
int db_login_succeeded(struct db *db, struct arena *a, const char *key);

/*
 * Appends to a tenant's audit chain (tenant_id NULL: the chain of events with
 * no tenant). metadata_json is a JSON object text.
 */
int db_audit_append(struct db *db, struct arena *a, const char *tenant_id, const char *actor,
		    const char *action, const char *entity_type, const char *entity_id,
		    const char *metadata_json);

#endif
