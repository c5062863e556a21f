/* auth.c (db): tenants, users, refresh tokens, login throttling, audit */
#include "db/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "util/arena.h"
#include "util/error.h"

int db_tenant_create(struct db *db, struct arena *a, const char *tenant_id, const char *name)
{
	static const char sql[] = "INSERT INTO tenants (id, name) VALUES ($1, $2)";
	const char *p[2] = { tenant_id, name };

	return db_exec(NULL, db, a, sql, 2, p);
}

int db_user_create(const char **id_out, struct db *db, struct arena *a,
		   const char *tenant_id, const char *email, const char *display_name,
		   const char *password_hash, const char *role)
{
	static const char sql[] =
		"INSERT INTO users (tenant_id, email, display_name, password_hash, role)"
		" VALUES ($1, $2, $3, $4, $5) RETURNING id";
	const char *p[5] = { tenant_id, email, display_name, password_hash, role };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 5, p);

	if (rc == 0)
		*id_out = db_val(res, 0, 0);
	return rc;
}

int db_environment_create_default(struct db *db, struct arena *a, const char *tenant_id,
				  const char *schema_prefix)
{
	static const char sql[] =
		"INSERT INTO environments (tenant_id, name, executor, schema_prefix)"
		" VALUES ($1, 'dev', 'postgres', $2)";
	const char *p[2] = { tenant_id, schema_prefix };

	return db_exec(NULL, db, a, sql, 2, p);
}

int db_user_by_email(struct db_user *out, struct db *db, struct arena *a, const char *email)
{
	static const char sql[] =
		"SELECT user_id, tenant_id, password_hash, role, disabled"
		" FROM auth_user_by_email($1)";
	const char *p[1] = { email };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 1, p);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	out->id = db_val(res, 0, 0);
	out->tenant_id = db_val(res, 0, 1);
	out->password_hash = db_val(res, 0, 2);
	out->role = db_val(res, 0, 3);
	out->disabled = strcmp(db_val(res, 0, 4), "t") == 0;
	out->email = email;
	return 0;
}

int db_user_get(struct db_user *out, struct db *db, struct arena *a, const char *tenant_id,
		const char *user_id)
{
	static const char sql[] =
		"SELECT u.id, u.tenant_id, t.name, u.email, u.display_name, u.role,"
		" u.disabled_at IS NOT NULL, iso8601(u.created_at), iso8601(u.last_login_at)"
		" FROM users u JOIN tenants t ON t.id = u.tenant_id"
		" WHERE u.tenant_id = $1 AND u.id = $2";
	const char *p[2] = { tenant_id, user_id };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 2, p);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	out->id = db_val(res, 0, 0);
	out->tenant_id = db_val(res, 0, 1);
	out->tenant_name = db_val(res, 0, 2);
	out->email = db_val(res, 0, 3);
	out->display_name = db_val(res, 0, 4);
	out->role = db_val(res, 0, 5);
	out->disabled = strcmp(db_val(res, 0, 6), "t") == 0;
	out->created_at = db_val(res, 0, 7);
	out->last_login_at = db_val(res, 0, 8);
	return 0;
}

int db_user_touch_login(struct db *db, struct arena *a, const char *tenant_id,
			const char *user_id)
{
	static const char sql[] =
		"UPDATE users SET last_login_at = now() WHERE tenant_id = $1 AND id = $2";
	const char *p[2] = { tenant_id, user_id };

	return db_exec(NULL, db, a, sql, 2, p);
}

int db_user_active(const char **email, struct db *db, struct arena *a, const char *user_id,
		   const char *tenant_id)
{
	static const char sql[] = "SELECT auth_active_user($1, $2)";
	const char *p[2] = { user_id, tenant_id };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 2, p);

	if (rc < 0)
		return rc;
	*email = db_val(res, 0, 0);
	return *email == NULL ? IL_ENOTFOUND : 0;
}

int db_begin_tenant_as_user(const char **email, int *applying, struct db *db, struct arena *a,
			    const char *tenant_id, const char *user_id)
{
	static const char sql[] = "SELECT auth_active_user($1, $2)";
	static const char applying_sql[] =
		"SELECT auth_active_user($1, $2), tenant_applying($2)";
	const char *p[2] = { user_id, tenant_id };
	PGresult *res = NULL;
	int rc = db_begin_tenant_and(&res, db, a, tenant_id, applying ? applying_sql : sql, 2, p);

	if (rc < 0)
		return rc;
	*email = res != NULL ? db_val(res, 0, 0) : NULL;
	if (applying != NULL)
		*applying = res == NULL || db_val(res, 0, 1) == NULL ||
			    strcmp(db_val(res, 0, 1), "f") != 0;
	if (*email == NULL) {
		db_rollback(db, a);
		return IL_ENOTFOUND;
	}
	return 0;
}

int db_refresh_insert(struct db *db, struct arena *a, const char *hash, const char *tenant_id,
		      const char *user_id, const char *family_id, const char *parent_hash,
		      long ttl_seconds)
{
	static const char sql[] =
		"INSERT INTO refresh_tokens"
		" (token_hash, tenant_id, user_id, family_id, parent_hash, expires_at)"
		" VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int))";
	char ttl[24];
	const char *p[6] = { hash, tenant_id, user_id, family_id, parent_hash, ttl };

	snprintf(ttl, sizeof(ttl), "%ld", ttl_seconds);
	return db_exec(NULL, db, a, sql, 6, p);
}

int db_refresh_tenant(const char **tenant_id, struct db *db, struct arena *a, const char *hash)
{
	static const char sql[] = "SELECT auth_refresh_tenant($1)";
	const char *p[1] = { hash };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 1, p);

	if (rc < 0)
		return rc;
	*tenant_id = db_val(res, 0, 0);
	return *tenant_id == NULL ? IL_ENOTFOUND : 0;
}

int db_refresh_lock(struct db_refresh *out, struct db *db, struct arena *a,
		    const char *tenant_id, const char *hash)
{
	static const char sql[] =
		"SELECT user_id, family_id, used_at IS NOT NULL, revoked_at IS NOT NULL,"
		" expires_at <= now() FROM refresh_tokens"
		" WHERE tenant_id = $1 AND token_hash = $2 FOR UPDATE";
	const char *p[2] = { tenant_id, hash };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 2, p);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	out->user_id = db_val(res, 0, 0);
	out->family_id = db_val(res, 0, 1);
	out->used = strcmp(db_val(res, 0, 2), "t") == 0;
	out->revoked = strcmp(db_val(res, 0, 3), "t") == 0;
	out->expired = strcmp(db_val(res, 0, 4), "t") == 0;
	return 0;
}

int db_refresh_mark_used(struct db *db, struct arena *a, const char *tenant_id,
			 const char *hash)
{
	static const char sql[] =
		"UPDATE refresh_tokens SET used_at = now() WHERE tenant_id = $1 AND token_hash = $2";
	const char *p[2] = { tenant_id, hash };

	return db_exec(NULL, db, a, sql, 2, p);
}

int db_refresh_revoke_family(int *count, struct db *db, struct arena *a,
			     const char *tenant_id, const char *family_id)
{
	static const char sql[] =
		"UPDATE refresh_tokens SET revoked_at = now()"
		" WHERE tenant_id = $1 AND family_id = $2 AND revoked_at IS NULL";
	const char *p[2] = { tenant_id, family_id };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 2, p);

	if (rc == 0)
		*count = (int)strtol(PQcmdTuples(res), NULL, 10);
	return rc;
}

int db_login_throttled(long *retry_after, struct db *db, struct arena *a, const char *key,
		       int max, long window_seconds)
{
	static const char sql[] =
		"SELECT ceil(extract(epoch FROM window_start"
		"   + make_interval(secs => $3::int) - now()))::bigint"
		" FROM login_attempts WHERE key_hash = $1 AND failures >= $2::int"
		" AND window_start > now() - make_interval(secs => $3::int)";
	char smax[16], swin[24];
	const char *p[3] = { key, smax, swin };
	PGresult *res;
	int rc;

	snprintf(smax, sizeof(smax), "%d", max);
	snprintf(swin, sizeof(swin), "%ld", window_seconds);
	rc = db_exec(&res, db, a, sql, 3, p);
	*retry_after = 0;
	if (rc == 0 && db_rows(res) == 1) {
		*retry_after = strtol(db_val(res, 0, 0), NULL, 10);
		if (*retry_after < 1)
			*retry_after = 1;
	}
	return rc;
}

int db_login_failed(struct db *db, struct arena *a, const char *key, long window_seconds)
{
	/* a failure after the window closed starts a new window */
	static const char sql[] =
		"INSERT INTO login_attempts AS l (key_hash, failures, window_start, last_failure_at)"
		" VALUES ($1, 1, now(), now())"
		" ON CONFLICT (key_hash) DO UPDATE SET"
		"  failures = CASE WHEN l.window_start > now() - make_interval(secs => $2::int)"
		"             THEN l.failures + 1 ELSE 1 END,"
		"  window_start = CASE WHEN l.window_start > now() - make_interval(secs => $2::int)"
		"             THEN l.window_start ELSE now() END,"
		"  last_failure_at = now()";
	char swin[24];
	const char *p[2] = { key, swin };

	snprintf(swin, sizeof(swin), "%ld", window_seconds);
	return db_exec(NULL, db, a, sql, 2, p);
}

int db_login_succeeded(struct db *db, struct arena *a, const char *key)
{
	static const char sql[] = "DELETE FROM login_attempts WHERE key_hash = $1";
	const char *p[1] = { key };

	return db_exec(NULL, db, a, sql, 1, p);
}

int db_audit_append(struct db *db, struct arena *a, const char *tenant_id, const char *actor,
		    const char *action, const char *entity_type, const char *entity_id,
		    const char *metadata_json)
{
	static const char sql[] = "SELECT audit_append($1, $2, $3, $4, $5, $6::jsonb)";
	const char *p[6] = { tenant_id, actor, action, entity_type, entity_id,
			     metadata_json ? metadata_json : "{}" };

	return db_exec(NULL, db, a, sql, 6, p);
}
