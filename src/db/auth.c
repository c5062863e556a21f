/* auth.c (db): tenants, users, refresh tokens, login throttling, audit */
#include "db/auth.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/strbuf.h"

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
		" u.disabled_at IS NOT NULL, iso8601(u.created_at), iso8601(u.last_login_at),"
		" u.token_epoch FROM users u JOIN tenants t ON t.id = u.tenant_id"
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
	out->token_epoch = db_long(res, 0, 9);
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

static const char session_sql[] = "SELECT email, role FROM auth_session_user($1, $2, $3::int)";
/* the same, and whether a plan of the tenant is applying */
static const char session_applying_sql[] =
	"SELECT email, role, tenant_applying($2) FROM auth_session_user($1, $2, $3::int)";

/*
 * The one row of a session query, or IL_ENOTFOUND: email, role, then what
 * ask (DB_ASK_*) asked for, in that order.
 */
static int read_session(struct db_session *out, const PGresult *res, unsigned ask)
{
	int col = 2;
	int64_t v;

	memset(out, 0, sizeof(*out));
	out->version = -1;
	out->applying = 1;   /* not asked (or unknown): assume a plan may be applying */
	if (res == NULL || db_rows(res) != 1)
		return IL_ENOTFOUND;
	out->email = db_val(res, 0, 0);
	out->role = db_val(res, 0, 1);
	if (ask & DB_ASK_APPLYING) {
		const char *applying = db_val(res, 0, col++);

		out->applying = applying == NULL || strcmp(applying, "f") != 0;
	}
	if ((ask & DB_ASK_VERSION) && parse_i64(db_val(res, 0, col), 0, INT64_MAX, &v) == 0)
		out->version = v;
	return 0;
}

int db_session_user(struct db_session *out, struct db *db, struct arena *a,
		    const char *tenant_id, const char *user_id, long epoch)
{
	char e[24];
	const char *p[3] = { user_id, tenant_id, e };
	PGresult *res;
	int rc;

	snprintf(e, sizeof(e), "%ld", epoch);
	rc = db_exec(&res, db, a, session_sql, 3, p);
	return rc < 0 ? rc : read_session(out, res, 0);
}

int db_begin_tenant_as_user(struct db_session *out, struct db *db, struct arena *a,
			    const char *tenant_id, const char *user_id, long epoch,
			    int ask_applying)
{
	char e[24];
	const char *p[3] = { user_id, tenant_id, e };
	PGresult *res = NULL;
	int rc;

	snprintf(e, sizeof(e), "%ld", epoch);
	rc = db_begin_tenant_and(&res, db, a, tenant_id,
				 ask_applying ? session_applying_sql : session_sql, 3, p);
	if (rc < 0)
		return rc;
	rc = read_session(out, res, ask_applying ? DB_ASK_APPLYING : 0);
	if (rc < 0)
		db_rollback(db, a);
	return rc;
}

/*
 * The user check of a deferred opening, which binds the tenant too: one row,
 * or SQLSTATE IL401 (raised by auth_session_refuse, called only when no user
 * matches) so that the statements queued behind it in the pipeline are
 * skipped. Plain SQL, planned once per connection (019_session_check_plain.sql).
 *
 * The binding comes first by construction: b, whose column is the
 * set_config call, is the outer side of the lateral join, so every row
 * read under row-level security (users, plans, tenant_versions) is read
 * after it, in a subquery that takes b.tenant as its parameter. Were it
 * ever read before, row-level security would show it nothing (no tenant
 * bound yet) and the check would refuse: it can fail closed, never open.
 *
 * The columns after email and role: whether a plan of the tenant is applying
 * (DB_ASK_APPLYING), then the tenant's data version (DB_ASK_VERSION).
 */
#define CHECK_USER "SELECT u.email, coalesce(u.role, auth_session_refuse())"
#define CHECK_APPLYING \
	", EXISTS (SELECT 1 FROM plans p WHERE p.tenant_id = b.tenant AND p.status = 'applying')"
#define CHECK_VERSION \
	", coalesce((SELECT v.version FROM tenant_versions v WHERE v.tenant_id = b.tenant), 0)"
#define CHECK_FROM \
	" FROM (SELECT set_config('app.tenant_id', $2, true)::uuid AS tenant) AS b" \
	" LEFT JOIN LATERAL (SELECT u.email, u.role FROM users u WHERE u.id = $1" \
	"  AND u.tenant_id = b.tenant AND u.disabled_at IS NULL AND u.token_epoch = $3::int)" \
	" AS u ON true"
static const char *const check_sql[] = {
	[0] = CHECK_USER CHECK_FROM,
	[DB_ASK_APPLYING] = CHECK_USER CHECK_APPLYING CHECK_FROM,
	[DB_ASK_VERSION] = CHECK_USER CHECK_VERSION CHECK_FROM,
	[DB_ASK_APPLYING | DB_ASK_VERSION] = CHECK_USER CHECK_APPLYING CHECK_VERSION CHECK_FROM,
};

struct deferred_session {
	db_session_fn fn;
	void *arg;
	unsigned ask;
};

static int session_opened(void *arg, const PGresult *check, int can_rerun)
{
	struct deferred_session *d = arg;
	struct db_session s;

	if (read_session(&s, check, d->ask) < 0)
		return IL_ERR;   /* the check returns its row or fails */
	return d->fn(d->arg, &s, can_rerun);
}

int db_defer_tenant_as_user(struct db *db, struct arena *a, const char *tenant_id,
			    const char *user_id, long epoch, unsigned ask,
			    db_session_fn fn, void *arg)
{
	struct deferred_session *d = arena_alloc(a, sizeof(*d));
	const char *p[3] = { user_id, tenant_id, arena_printf(a, "%ld", epoch) };

	if (d == NULL || p[2] == NULL)
		return IL_ENOMEM;
	if (ask > (DB_ASK_APPLYING | DB_ASK_VERSION))
		return IL_EINVALID;
	d->fn = fn;
	d->arg = arg;
	d->ask = ask;
	return db_defer_tenant(db, tenant_id, check_sql[ask], 3, p, session_opened, d);
}

int db_user_end_sessions(struct db *db, struct arena *a, const char *tenant_id,
			 const char *user_id)
{
	static const char sql[] =
		"UPDATE users SET token_epoch = token_epoch + 1 WHERE tenant_id = $1 AND id = $2";
	const char *p[2] = { tenant_id, user_id };

	return db_exec(NULL, db, a, sql, 2, p);
}

int db_user_password_hash(const char **hash, struct db *db, struct arena *a,
			  const char *tenant_id, const char *user_id)
{
	static const char sql[] =
		"SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE";
	const char *p[2] = { tenant_id, user_id };

	return db_exec_value(hash, db, a, sql, 2, p);
}

int db_user_set_password(struct db *db, struct arena *a, const char *tenant_id,
			 const char *user_id, const char *password_hash)
{
	static const char sql[] =
		"WITH u AS (UPDATE users SET password_hash = $3, token_epoch = token_epoch + 1"
		"  WHERE tenant_id = $1 AND id = $2 RETURNING id)"
		" UPDATE refresh_tokens SET revoked_at = now()"
		" WHERE tenant_id = $1 AND user_id = (SELECT id FROM u) AND revoked_at IS NULL";
	const char *p[3] = { tenant_id, user_id, password_hash };

	return db_exec(NULL, db, a, sql, 3, p);
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
		"UPDATE refresh_tokens SET used_at = now()"
		" WHERE tenant_id = $1 AND token_hash = $2";
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
	int64_t n = 0;
	int rc = db_exec(&res, db, a, sql, 2, p);

	if (rc == 0 && parse_i64(PQcmdTuples(res), 0, INT_MAX, &n) < 0)
		rc = IL_ERR;
	*count = (int)n;
	return rc;
}

/* A PostgreSQL array literal of n hex keys or numbers ({a,b}); NULL on overflow. */
static const char *array_text(struct arena *a, const struct db_throttle *c, int n, int what)
{
	struct strbuf sb;
	int i;

	strbuf_init(&sb, a, 4096);
	strbuf_addc(&sb, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		if (what == 0)
			strbuf_adds(&sb, c[i].key);
		else
			strbuf_addf(&sb, "%ld", what == 1 ? c[i].limit : c[i].window_seconds);
	}
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

int db_throttle_hit(long *retry_after, struct db *db, struct arena *a,
		    const struct db_throttle *counters, int n)
{
	static const char sql[] =
		"SELECT auth_throttle_hit($1::text[], $2::int[], $3::int[])";
	const char *p[3] = { array_text(a, counters, n, 0), array_text(a, counters, n, 1),
			     array_text(a, counters, n, 2) };
	PGresult *res;
	int rc;

	*retry_after = 0;
	if (p[0] == NULL || p[1] == NULL || p[2] == NULL)
		return IL_ENOMEM;
	rc = db_exec_one(&res, db, a, sql, 3, p);
	if (rc == 0)
		*retry_after = db_long(res, 0, 0);
	return rc;
}

int db_throttle_refund(struct db *db, struct arena *a, const char *reset_key,
		       const char *refund_key)
{
	static const char sql[] =
		"SELECT auth_throttle_refund(ARRAY[$1]::text[], ARRAY[$2]::text[])";
	const char *p[2] = { reset_key, refund_key };

	return db_exec(NULL, db, a, sql, 2, p);
}

int db_security_login_failed(struct db *db, struct arena *a, const char *subject_hash,
			     const char *tenant_id, const char *address, long window_seconds)
{
	static const char sql[] = "SELECT security_login_failed($1, $2, $3, $4::int)";
	char win[24];
	const char *p[4] = { subject_hash, tenant_id, address, win };

	snprintf(win, sizeof(win), "%ld", window_seconds);
	return db_exec(NULL, db, a, sql, 4, p);
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
