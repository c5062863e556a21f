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
	long token_epoch;          /* stamped on the user's access tokens (db_user_get) */
};

/* The caller of an authenticated request, as the database knows it now. */
struct db_session {
	const char *email;
	const char *role;
	int applying;     /* a plan of the tenant may be applying (when asked) */
	long long version; /* the tenant's data version (DB_ASK_VERSION), else -1 */
};

/*
 * What a deferred opening's user check asks besides the user: whether a plan
 * of the tenant is applying, and the tenant's data version, a number that
 * moves in every transaction that changes any of the tenant's rows
 * (020_tenant_versions.sql).
 */
enum { DB_ASK_APPLYING = 1 << 0, DB_ASK_VERSION = 1 << 1 };

/* One throttling counter: a hashed key, its limit and its window. */
struct db_throttle {
	const char *key;           /* SHA-256 hex of what is counted */
	long limit;
	long window_seconds;
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
 * Opens the request's transaction bound to tenant_id and reads, in the same
 * round trip, the user's email and role when the user is active there and
 * epoch is the user's current token epoch; IL_ENOTFOUND (nothing left open)
 * otherwise. With ask_applying, out->applying says (in that round trip)
 * whether a plan of the tenant is applying: only then can an apply have lost
 * its worker.
 */
int db_begin_tenant_as_user(struct db_session *out, struct db *db, struct arena *a,
			    const char *tenant_id, const char *user_id, long epoch,
			    int ask_applying);
/*
 * Told who the caller is once a deferred opening went through (can_rerun:
 * statements rode along); returns as db_opened_fn (0, 1: run them again, or
 * a negative il_err code).
 */
typedef int (*db_session_fn)(void *arg, const struct db_session *s, int can_rerun);
/*
 * db_begin_tenant_as_user, deferred (db_defer_tenant): the opening and the
 * user check go out with the request's first statement. A user that is gone,
 * disabled or at another token epoch fails the check, so nothing after it
 * runs (db_refused); fn learns the session otherwise. ask: DB_ASK_* flags.
 */
int db_defer_tenant_as_user(struct db *db, struct arena *a, const char *tenant_id,
			    const char *user_id, long epoch, unsigned ask,
			    db_session_fn fn, void *arg);
/* db_begin_tenant_as_user without the transaction. */
int db_session_user(struct db_session *out, struct db *db, struct arena *a,
		    const char *tenant_id, const char *user_id, long epoch);
/*
 * In the user's tenant transaction: moves the user's token epoch on, which
 * ends every access token issued before.
 */
int db_user_end_sessions(struct db *db, struct arena *a, const char *tenant_id,
			 const char *user_id);
/* In the user's tenant transaction: the stored password hash. */
int db_user_password_hash(const char **hash, struct db *db, struct arena *a,
			  const char *tenant_id, const char *user_id);
/*
 * In the user's tenant transaction: stores a new password hash, ends every
 * access token (epoch) and revokes every refresh token of the user.
 */
int db_user_set_password(struct db *db, struct arena *a, const char *tenant_id,
			 const char *user_id, const char *password_hash);

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
 * Throttling: charges one attempt to each of the n counters, or to none when
 * one of them has used its limit inside its window; then *retry_after is the
 * seconds until that window ends, else 0. One atomic statement.
 */
int db_throttle_hit(long *retry_after, struct db *db, struct arena *a,
		    const struct db_throttle *counters, int n);
/* After a success: reset_key starts over, refund_key gets its attempt back. */
int db_throttle_refund(struct db *db, struct arena *a, const char *reset_key,
		       const char *refund_key);
/*
 * The security log: one failed login for the account subject_hash (tenant_id
 * NULL when the email has no account) from address, counted per window.
 */
int db_security_login_failed(struct db *db, struct arena *a, const char *subject_hash,
			     const char *tenant_id, const char *address, long window_seconds);

/*
 * Appends to a tenant's audit chain (tenant_id NULL: the chain of events with
 * no tenant). metadata_json is a JSON object text.
 */
int db_audit_append(struct db *db, struct arena *a, const char *tenant_id, const char *actor,
		    const char *action, const char *entity_type, const char *entity_id,
		    const char *metadata_json);

#endif
