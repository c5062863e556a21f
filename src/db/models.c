/* models.c (db): the model catalog */
#include "db/models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/json_text.h"
#include "db/runs.h"
#include "util/arena.h"
#include "util/error.h"

int db_model_upsert(struct db *db, struct arena *a, const char *tenant_id,
		    const struct db_model_row *m)
{
	static const char sql[] =
		"INSERT INTO models AS m (tenant_id, name, kind, materialization, owner, tags,"
		" time_column, unique_key, dependencies, file_path, sql, content_hash,"
		" last_modified_commit)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
		" ON CONFLICT (tenant_id, name) DO UPDATE SET kind = EXCLUDED.kind,"
		" materialization = EXCLUDED.materialization, owner = EXCLUDED.owner,"
		" tags = EXCLUDED.tags, time_column = EXCLUDED.time_column,"
		" unique_key = EXCLUDED.unique_key, dependencies = EXCLUDED.dependencies,"
		" file_path = EXCLUDED.file_path, sql = EXCLUDED.sql,"
		" last_modified_commit = CASE WHEN m.content_hash = EXCLUDED.content_hash"
		"  THEN m.last_modified_commit ELSE EXCLUDED.last_modified_commit END,"
		" updated_at = CASE WHEN m.content_hash = EXCLUDED.content_hash"
		"  THEN m.updated_at ELSE now() END,"
		" content_hash = EXCLUDED.content_hash";
	static const char version_sql[] =
		"INSERT INTO model_versions (tenant_id, model_name, content_hash, commit_sha)"
		" VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
	const char *p[13] = { tenant_id, m->name, m->kind, m->materialization, m->owner,
			      m->tags, m->time_column, m->unique_key, m->dependencies,
			      m->file_path, m->sql, m->content_hash, m->commit };
	const char *v[4] = { tenant_id, m->name, m->content_hash, m->commit };
	int rc = db_exec(NULL, db, a, sql, 13, p);

	return rc < 0 ? rc : db_exec(NULL, db, a, version_sql, 4, v);
}

/* model_item_json plus the names the reference's clients read. */
#define MODEL_ITEM \
	"(model_item_json(m)::jsonb || jsonb_build_object('model_name', m.name," \
	" 'current_version', m.content_hash, 'created_at', iso8601(m.created_at)," \
	" 'last_modified_at', iso8601(m.updated_at)))"

/*
 * The list item of model_item_json and MODEL_ITEM, built in the list's own
 * query: the newest run and watermark come from LATERAL joins on the page's
 * rows (a nested loop in one plan) rather than from the function, which ran
 * its two subqueries as separate statements for every row. One json value
 * with its keys (and the watermark's) in the order jsonb keeps them (by
 * length, then bytes): the bytes MODEL_ITEM's jsonb gave, without parsing
 * each row's text into jsonb, merging and writing it again in PostgreSQL.
 */
#define MODEL_LIST_ITEM \
	"json_build_object(" \
	" 'kind', m.kind, 'name', m.name, 'tags', m.tags, 'owner', m.owner," \
	" 'created_at', iso8601(m.created_at), 'model_name', m.name," \
	" 'unique_key', m.unique_key, 'updated_at', iso8601(m.updated_at)," \
	" 'time_column', m.time_column, 'content_hash', m.content_hash," \
	" 'current_version', m.content_hash, 'last_run_status', lr.status," \
	" 'materialization', m.materialization, 'watermark_range', wm.range," \
	" 'last_modified_at', iso8601(m.updated_at)," \
	" 'last_modified_commit', m.last_modified_commit)::text"

int db_model_list(const char **json, size_t *len, long long *total, struct db *db,
		  struct arena *a, const char *tenant_id, const char *kind,
		  const char *owner, const char *tag, const char *search,
		  long long limit, long long offset)
{
	static const char where[] =
		" FROM models m WHERE m.tenant_id = $1"
		" AND ($2::text IS NULL OR m.kind = $2) AND ($3::text IS NULL OR m.owner = $3)"
		" AND ($4::text IS NULL OR $4 = ANY (m.tags))"
		" AND ($5::text IS NULL OR strpos(lower(m.name), lower($5)) > 0)";
	/* the page first (LIMIT before the joins), then each row's newest run and watermark */
	static const char sql[] =
		"SELECT " MODEL_LIST_ITEM ", m.total FROM (SELECT m.tenant_id, m.name, m.kind,"
		" m.materialization, m.owner, m.tags, m.time_column, m.unique_key,"
		" m.last_modified_commit, m.content_hash, m.created_at, m.updated_at,"
		" count(*) OVER () AS total";
	static const char tail[] =
		" ORDER BY m.name LIMIT $6 OFFSET $7) m"
		" LEFT JOIN LATERAL (SELECT r.status FROM runs r"
		"  WHERE r.tenant_id = m.tenant_id AND r.model_name = m.name"
		"  ORDER BY r.started_at DESC, r.run_id LIMIT 1) lr ON true"
		" LEFT JOIN LATERAL (SELECT json_build_object('end', w.range_end,"
		"  'start', w.range_start) AS range FROM watermarks w"
		"  WHERE w.tenant_id = m.tenant_id AND w.model_name = m.name"
		"  ORDER BY w.updated_at DESC LIMIT 1) wm ON true"
		" ORDER BY m.name";
	static const char count[] = "SELECT count(*)";
	char lim[24], off[24], *q, *cq;
	const char *p[7] = { tenant_id, kind, owner, tag, search, lim, off };
	PGresult *res, *page;
	int rc;

	snprintf(lim, sizeof(lim), "%lld", limit);
	snprintf(off, sizeof(off), "%lld", offset);
	q = arena_printf(a, "%s%s%s", sql, where, tail);
	cq = arena_printf(a, "%s%s", count, where);
	if (q == NULL || cq == NULL)
		return IL_ENOMEM;
	if ((rc = db_exec(&page, db, a, q, 7, p)) < 0 ||
	    (rc = db_json_rows_array(json, len, a, page)) < 0)
		return rc;
	if (db_rows(page) > 0) {
		*total = db_long(page, 0, 1);
		return 0;
	}
	/* an empty first page means no rows at all: no count needed */
	if (offset == 0) {
		*total = 0;
		return 0;
	}
	/* a page past the end still reports the total */
	rc = db_exec(&res, db, a, cq, 5, p);
	if (rc == 0)
		*total = db_long(res, 0, 0);
	return rc;
}

int db_model_detail(const char **json, struct db *db, struct arena *a, const char *tenant_id,
		    const char *name)
{
	static const char sql[] =
		"SELECT (" MODEL_ITEM " || jsonb_build_object("
		" 'dependencies', m.dependencies, 'file_path', m.file_path, 'sql', m.sql,"
		" 'dependents', coalesce((SELECT json_agg(d.name ORDER BY d.name) FROM models d"
		"   WHERE d.tenant_id = m.tenant_id AND m.name = ANY (d.dependencies)), '[]'),"
		" 'versions', coalesce((SELECT json_agg(json_build_object('content_hash',"
		"   v.content_hash, 'commit', v.commit_sha, 'created_at', iso8601(v.created_at))"
		"   ORDER BY v.created_at DESC) FROM (SELECT * FROM model_versions v"
		"   WHERE v.tenant_id = m.tenant_id AND v.model_name = m.name"
		"   ORDER BY v.created_at DESC LIMIT 20) v), '[]'),"
		" 'recent_runs', coalesce((SELECT json_agg(" DB_RUN_JSON "::json"
		"   ORDER BY r.started_at DESC)"
		"   FROM (SELECT * FROM runs r WHERE r.tenant_id = m.tenant_id"
		"   AND r.model_name = m.name ORDER BY r.started_at DESC LIMIT 10) r), '[]')"
		"))::text FROM models m WHERE m.tenant_id = $1 AND m.name = $2";
	const char *p[2] = { tenant_id, name };
	int rc = db_exec_value(json, db, a, sql, 2, p);

	return rc;
}

static int by_node_name(const void *x, const void *y)
{
	return strcmp(((const struct db_model_node *)x)->name,
		      ((const struct db_model_node *)y)->name);
}

/* One node per name: rows of one model are adjacent, its upstreams in stored order. */
static int graph_nodes(struct db_model_node **out, size_t *n, struct arena *a,
		       const PGresult *res)
{
	size_t rows = (size_t)db_rows(res), i, k = 0;
	const char **ups = arena_calloc(a, rows + 1, sizeof(*ups));

	*n = 0;
	if ((*out = arena_calloc(a, rows + 1, sizeof(**out))) == NULL || ups == NULL)
		return IL_ENOMEM;
	for (i = 0; i < rows; i++) {
		const char *name = db_val(res, (int)i, 0), *up = db_val(res, (int)i, 2);
		struct db_model_node *m = &(*out)[k > 0 ? k - 1 : 0];

		if (k == 0 || strcmp(m->name, name) != 0) {
			m = &(*out)[k++];
			m->name = name;
			m->kind = db_val(res, (int)i, 1);
			m->upstream = &ups[i];
		}
		if (up != NULL)
			m->upstream[m->n_upstream++] = up;
	}
	/* the database's collation need not be strcmp's: the callers binary-search */
	qsort(*out, k, sizeof(**out), by_node_name);
	*n = k;
	return 0;
}

int db_model_graph(struct db_model_node **out, size_t *n, struct db *db, struct arena *a,
		   const char *tenant_id)
{
	static const char sql[] =
		"SELECT m.name, m.kind, d.name FROM models m"
		" LEFT JOIN LATERAL unnest(m.dependencies) WITH ORDINALITY d(name, n) ON true"
		" WHERE m.tenant_id = $1 ORDER BY m.name, d.n";
	const char *p[1] = { tenant_id };
	PGresult *res = NULL;
	int rc = db_exec(&res, db, a, sql, 1, p);

	*out = NULL;
	*n = 0;
	return rc < 0 ? rc : graph_nodes(out, n, a, res);
}
