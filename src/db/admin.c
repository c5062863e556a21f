/* admin.c (db): operator tasks run by the CLI as the owner role */
#include "db/admin.h"

#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/strbuf.h"

int db_admin_user_list(struct db *db, struct arena *a, const char *tenant_id, FILE *out)
{
	static const char sql[] =
		"SELECT u.id, u.email, u.role, u.display_name,"
		" CASE WHEN u.disabled_at IS NULL THEN 'active' ELSE 'disabled' END,"
		" coalesce(iso8601(u.last_login_at), '-')"
		" FROM tenants t LEFT JOIN users u ON u.tenant_id = t.id"
		" WHERE t.id = $1 ORDER BY u.email";
	const char *p[1] = { tenant_id };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 1, p), i;

	if (rc < 0)
		return rc;
	if (db_rows(res) == 0)
		return IL_ENOTFOUND;
	fprintf(out, "id\temail\trole\tdisplay_name\tstatus\tlast_login_at\n");
	for (i = 0; i < db_rows(res); i++)
		if (db_val(res, i, 0) != NULL)
			fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", db_val(res, i, 0),
				db_val(res, i, 1), db_val(res, i, 2), db_val(res, i, 3),
				db_val(res, i, 4), db_val(res, i, 5));
	return 0;
}

static int update_one(struct db *db, struct arena *a, const char *sql, int n,
		      const char *const *p)
{
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, n, p);

	if (rc < 0)
		return rc;
	return strcmp(PQcmdTuples(res), "0") == 0 ? IL_ENOTFOUND : 0;
}

int db_admin_user_set_role(struct db *db, struct arena *a, const char *email,
			   const char *role)
{
	static const char sql[] = "UPDATE users SET role = $2 WHERE email = $1";
	const char *p[2] = { email, role };

	return update_one(db, a, sql, 2, p);
}

int db_admin_user_disable(struct db *db, struct arena *a, const char *email)
{
	static const char sql[] =
		"WITH u AS (UPDATE users SET disabled_at = coalesce(disabled_at, now()),"
		"  token_epoch = token_epoch + 1 WHERE email = $1 RETURNING id)"
		" UPDATE refresh_tokens SET revoked_at = now()"
		" WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL";
	static const char check[] = "SELECT 1 FROM users WHERE email = $1";
	const char *p[1] = { email };
	int rc = update_one(db, a, check, 1, p);

	return rc < 0 ? rc : db_exec(NULL, db, a, sql, 1, p);
}

int db_admin_user_tenant(const char **tenant_id, struct db *db, struct arena *a,
			 const char *email)
{
	static const char sql[] = "SELECT tenant_id FROM users WHERE email = $1";
	const char *p[1] = { email };
	PGresult *res;
	int rc = db_exec_one(&res, db, a, sql, 1, p);

	if (rc < 0)
		return rc;
	*tenant_id = db_val(res, 0, 0);
	return 0;
}

int db_admin_tenant_resolve(const char **tenant_id, struct db *db, struct arena *a,
			    const char *id_or_email)
{
	static const char sql[] =
		"SELECT id::text FROM tenants WHERE id::text = lower($1)"
		" UNION ALL SELECT tenant_id::text FROM users WHERE email = lower($1)"
		" LIMIT 1";
	const char *p[1] = { id_or_email };

	return db_exec_value(tenant_id, db, a, sql, 1, p);
}

/* The text a row's hash covers; must match audit_row_text in 002_auth.sql. */
static const char *row_text(struct arena *a, const PGresult *res, int i, const char *prev)
{
	struct strbuf sb;
	int col;

	strbuf_init(&sb, a, 1 << 20);
	strbuf_adds(&sb, prev);
	for (col = 1; col <= 8; col++) {
		const char *v = db_val(res, i, col);

		strbuf_addc(&sb, '|');
		strbuf_adds(&sb, v ? v : "");
	}
	return strbuf_cstr(&sb);
}

static int same_chain(const PGresult *res, int i)
{
	const char *t0 = db_val(res, i - 1, 1), *t1 = db_val(res, i, 1);

	if (t0 == NULL || t1 == NULL)
		return t0 == t1;
	return strcmp(t0, t1) == 0;
}

/* The audit row's sequence number (column 2); -1 when it is not one. */
static long long seq_of(const PGresult *res, int i)
{
	int64_t v;

	return parse_i64(db_val(res, i, 2), 0, INT64_MAX, &v) == 0 ? (long long)v : -1;
}

int db_audit_verify(long long *checked, const char **bad_id, const char **why,
		    struct db *db, struct arena *a)
{
	static const char sql[] =
		"SELECT id, tenant_id::text, seq::text, actor, action, entity_type, entity_id,"
		" metadata::text, (extract(epoch FROM created_at) * 1000000)::bigint::text,"
		" prev_hash, hash FROM audit_log"
		" ORDER BY audit_log.tenant_id NULLS FIRST, audit_log.seq";
	static const char zero[] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	char hex[IL_SHA256_HEX_LEN + 1];
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 0, NULL), i;

	*checked = 0;
	if (rc < 0)
		return rc;
	for (i = 0; i < db_rows(res); i++) {
		const char *prev = i > 0 && same_chain(res, i) ? db_val(res, i - 1, 10) : zero;
		const char *text = row_text(a, res, i, prev);

		*bad_id = db_val(res, i, 0);
		if (seq_of(res, i) != (prev == zero ? 1 : seq_of(res, i - 1) + 1)) {
			*why = "sequence number out of order (a row was removed)";
			return IL_ESTALE;
		}
		if (strcmp(db_val(res, i, 9), prev) != 0) {
			*why = "prev_hash does not match the previous row"
			       " (a row was removed or reordered)";
			return IL_ESTALE;
		}
		if (text == NULL)
			return IL_ENOMEM;
		crypto_sha256_hex(text, strlen(text), hex);
		if (strcmp(hex, db_val(res, i, 10)) != 0) {
			*why = "hash does not match the row's content (the row was altered)";
			return IL_ESTALE;
		}
		(*checked)++;
	}
	*bad_id = NULL;
	return 0;
}
