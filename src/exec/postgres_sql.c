/* postgres_sql.c (exec): the PostgreSQL statements each materialization runs */
#include <string.h>

#include "exec/exec.h"
#include "exec/postgres_int.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

/*
 * Every statement here is fixed text that depends on the step alone, never
 * on what the warehouse holds: where the work depends on the warehouse (is
 * the table there, did its columns change) the decision is made by the
 * server inside a DO block. So the statements the SQL preview shows are the
 * ones apply sends, byte for byte.
 */

static void add(struct step_sql *p, const char *sql)
{
	if (p->n < EXEC_MAX_STATEMENTS)
		p->sql[p->n++] = sql;
}

/* "\"schema\".\"table<suffix>\"" for validated names. */
static const char *target(struct arena *a, const struct exec_step *s, const char *suffix)
{
	return arena_printf(a, "\"%s\".\"%s%s\"", s->schema, s->table, suffix);
}

/*
 * The swap of a rebuilt table: the new one is renamed into place, except
 * when a table with the same columns is there already; then its rows are
 * replaced instead, so views built on it keep working.
 */
static const char *swap_block(struct arena *a, const struct exec_step *s)
{
	static const char shape[] =
		"(SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ','"
		" ORDER BY attnum) FROM pg_attribute WHERE attrelid = %s AND attnum > 0"
		" AND NOT attisdropped)";
	const char *live = target(a, s, ""), *fresh = target(a, s, "__il_new");

	return arena_printf(a,
		"DO $il$\nDECLARE\n"
		"  live regclass := to_regclass('%s');\n"
		"  fresh regclass := to_regclass('%s');\n"
		"BEGIN\n"
		"  IF live IS NULL THEN\n"
		"    ALTER TABLE %s RENAME TO \"%s\";\n"
		"  ELSIF %s = %s THEN\n"
		"    TRUNCATE %s;\n"
		"    INSERT INTO %s SELECT * FROM %s;\n"
		"    DROP TABLE %s;\n"
		"  ELSE\n"
		"    DROP TABLE %s;\n"
		"    ALTER TABLE %s RENAME TO \"%s\";\n"
		"  END IF;\nEND\n$il$",
		live, fresh, fresh, s->table, arena_printf(a, shape, "live"),
		arena_printf(a, shape, "fresh"), live, live, fresh, fresh, live, fresh, s->table);
}

static void table_statements(struct step_sql *p, struct arena *a, const struct exec_step *s,
			     const char *body)
{
	const char *fresh = target(a, s, "__il_new");

	add(p, arena_printf(a, "DROP TABLE IF EXISTS %s", fresh));
	add(p, arena_printf(a, "CREATE TABLE %s AS %s", fresh, body));
	add(p, swap_block(a, s));
}

/* The table from the query's shape when missing (dropped first when rebuilt). */
static void ensure_table(struct step_sql *p, struct arena *a, const struct exec_step *s,
			 const char *body, int rebuild)
{
	if (rebuild)
		add(p, arena_printf(a, "DROP TABLE IF EXISTS %s", target(a, s, "")));
	add(p, arena_printf(a, "CREATE TABLE IF NOT EXISTS %s AS SELECT * FROM (%s) AS q"
			    " WITH NO DATA", target(a, s, ""), body));
}

static int insert_overwrite_statements(struct step_sql *p, const char **why, struct arena *a,
				       const struct exec_step *s, const char *body)
{
	const char *t = target(a, s, ""), *c = s->time_column;

	if (c == NULL || !exec_ident_ok(c)) {
		*why = "INSERT_OVERWRITE needs a valid time_column";
		return IL_EINVALID;
	}
	if ((s->start != NULL || s->end != NULL) &&
	    (!exec_date_ok(s->start) || !exec_date_ok(s->end))) {
		*why = "the step's input range is not a pair of dates";
		return IL_EINVALID;
	}
	ensure_table(p, a, s, body, s->full_refresh);
	if (s->start != NULL)
		add(p, arena_printf(a, "DELETE FROM %s WHERE \"%s\" >= DATE '%s' AND "
				    "\"%s\" < DATE '%s'", t, c, s->start, c, s->end));
	add(p, arena_printf(a, "INSERT INTO %s SELECT * FROM (%s) AS q", t, body));
	return 0;
}

/* "target.\"a\" = source.\"a\" AND …" from "a" or "a, b"; NULL for a bad name. */
static const char *key_match(struct arena *a, const char *keys, const char **columns)
{
	struct strbuf on, cols;
	char *copy = arena_strdup(a, keys), *tok, *save = NULL;
	int n = 0;

	if (copy == NULL)
		return NULL;
	strbuf_init(&on, a, 8192);
	strbuf_init(&cols, a, 4096);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (!exec_ident_ok(tok))
			return NULL;
		strbuf_addf(&on, "%starget.\"%s\" = source.\"%s\"", n ? " AND " : "", tok, tok);
		strbuf_addf(&cols, "%s\"%s\"", n++ ? ", " : "", tok);
	}
	*columns = strbuf_cstr(&cols);
	return n > 0 ? strbuf_cstr(&on) : NULL;
}

/*
 * An upsert on unique_key: the new rows are staged once, the rows they
 * replace are deleted, the staged rows inserted. Rows the source no longer
 * has stay. (A MERGE's FULL_REFRESH run type only means it has no range.)
 */
static int merge_statements(struct step_sql *p, const char **why, struct arena *a,
			    const struct exec_step *s, const char *body)
{
	const char *t = target(a, s, ""), *src = target(a, s, "__il_src"), *cols = NULL;
	const char *on = s->unique_key ? key_match(a, s->unique_key, &cols) : NULL;

	if (on == NULL || cols == NULL) {
		*why = "MERGE needs a unique_key of valid column names";
		return IL_EINVALID;
	}
	ensure_table(p, a, s, body, 0);
	add(p, arena_printf(a, "CREATE UNIQUE INDEX IF NOT EXISTS \"%s__il_key\" ON %s (%s)",
			    s->table, t, cols));
	add(p, arena_printf(a, "CREATE TABLE %s AS SELECT * FROM (%s) AS q", src, body));
	add(p, arena_printf(a, "DELETE FROM %s AS target USING %s AS source WHERE %s", t, src, on));
	add(p, arena_printf(a, "INSERT INTO %s SELECT * FROM %s", t, src));
	add(p, arena_printf(a, "DROP TABLE %s", src));
	return 0;
}

static int body_statements(struct step_sql *p, const char **why, struct arena *a,
			   const struct exec_step *s, const char *body)
{
	switch (s->materialization) {
	case MAT_VIEW:
		add(p, arena_printf(a, "CREATE OR REPLACE VIEW %s AS %s", target(a, s, ""), body));
		return 0;
	case MAT_INSERT_OVERWRITE:
		return insert_overwrite_statements(p, why, a, s, body);
	case MAT_MERGE:
		return merge_statements(p, why, a, s, body);
	default:
		table_statements(p, a, s, body);
		return 0;
	}
}

int pg_step_statements(struct step_sql *p, const char **why, struct arena *a,
		       const struct exec_step *s)
{
	const char *body;
	int i, rc;

	memset(p, 0, sizeof(*p));
	if (!exec_ident_ok(s->schema) || !exec_ident_ok(s->table)) {
		*why = "the target schema or table name is not a valid identifier";
		return IL_EINVALID;
	}
	if (s->sql == NULL || (body = exec_select_body(a, s->sql)) == NULL)
		return IL_ENOMEM;
	if (strspn(body, " \t\r\n") == strlen(body)) {
		*why = "the model's SQL is empty";
		return IL_EINVALID;
	}
	add(p, "BEGIN");
	if ((rc = body_statements(p, why, a, s, body)) < 0)
		return rc;
	add(p, "COMMIT");
	for (i = 0; i < p->n; i++)
		if (p->sql[i] == NULL)
			return IL_ENOMEM;
	return 0;
}
