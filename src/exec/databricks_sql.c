/* databricks_sql.c (exec): the Databricks SQL each materialization runs */
#include <string.h>

#include "exec/databricks_int.h"
#include "exec/exec.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/strbuf.h"

/* " ON target.`a` = source.`a` AND …" from "a" or "a, b"; IL_EINVALID on a bad name. */
static int add_merge_on(struct strbuf *sb, struct arena *a, const char *keys)
{
	const char *p = keys, *name;
	size_t n;
	int first = 1;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if ((name = arena_strndup(a, p, n)) == NULL)
			return IL_ENOMEM;
		if (!exec_ident_ok(name))
			return IL_EINVALID;
		strbuf_addf(sb, "%s target.`%s` = source.`%s`", first ? "\nON" : " AND", name,
			    name);
		first = 0;
		p += strcspn(p, ",");
		if (*p++ == '\0')
			return 0;
	}
}

/* The main statement of an incremental step, by materialization. */
static int incremental_sql(const char **out, struct arena *a, const struct exec_step *s,
			   const char *target, const char *body)
{
	struct strbuf sb;
	int rc = 0;

	strbuf_init(&sb, a, strlen(body) + 4096);
	if (s->materialization == MAT_INSERT_OVERWRITE) {
		if (!exec_ident_ok(s->time_column) || !exec_date_ok(s->start) ||
		    !exec_date_ok(s->end))
			return IL_EINVALID;
		strbuf_addf(&sb, "INSERT INTO %s REPLACE WHERE `%s` >= '%s' AND `%s` < '%s'\n"
			    "SELECT * FROM (\n%s\n) AS source", target, s->time_column, s->start,
			    s->time_column, s->end, body);
	} else {
		strbuf_addf(&sb, "MERGE INTO %s AS target\nUSING (\n%s\n) AS source", target, body);
		if ((rc = add_merge_on(&sb, a, s->unique_key)) < 0)
			return rc;
		strbuf_adds(&sb, "\nWHEN MATCHED THEN UPDATE SET *"
			    "\nWHEN NOT MATCHED THEN INSERT *");
	}
	*out = strbuf_cstr(&sb);
	return *out != NULL ? 0 : IL_ENOMEM;
}

/*
 * 1 when the step rebuilds its table rather than touching part of it. A
 * MERGE always upserts into what is there: its run type is FULL_REFRESH only
 * because it has no date range.
 */
static int rebuilds(const struct exec_step *s)
{
	if (s->materialization == MAT_MERGE)
		return 0;
	if (s->materialization == MAT_TABLE || s->full_refresh)
		return 1;
	/* an INSERT_OVERWRITE step without a range covers the whole table */
	return s->materialization == MAT_INSERT_OVERWRITE && s->start == NULL && s->end == NULL;
}

/* The statements for step s: the schema, the table when needed, the main one. */
int dbx_step_statements(struct step_sql *p, struct arena *a, const struct exec_step *s)
{
	const char *target, *body;

	if ((s->catalog != NULL && !exec_ident_ok(s->catalog)) || !exec_ident_ok(s->schema) ||
	    !exec_ident_ok(s->table) || s->sql == NULL || s->materialization > MAT_MERGE ||
	    (s->materialization == MAT_MERGE && s->unique_key == NULL))
		return IL_EINVALID;
	if ((body = exec_select_body(a, s->sql)) == NULL)
		return IL_ENOMEM;
	if (strspn(body, " \t\r\n") == strlen(body))
		return IL_EINVALID;
	target = s->catalog ? arena_printf(a, "`%s`.`%s`.`%s`", s->catalog, s->schema, s->table) :
		 arena_printf(a, "`%s`.`%s`", s->schema, s->table);
	p->sql[0] = s->catalog ? arena_printf(a, "CREATE SCHEMA IF NOT EXISTS `%s`.`%s`",
					      s->catalog, s->schema) :
		    arena_printf(a, "CREATE SCHEMA IF NOT EXISTS `%s`", s->schema);
	p->with_schema[0] = 0;         /* the schema may not exist yet */
	p->with_schema[1] = p->with_schema[2] = 1;
	p->n = 2;
	if (target == NULL || p->sql[0] == NULL)
		return IL_ENOMEM;
	if (s->materialization == MAT_VIEW)
		p->sql[1] = arena_printf(a, "CREATE OR REPLACE VIEW %s AS\n%s", target, body);
	else if (rebuilds(s))
		p->sql[1] = arena_printf(a, "CREATE OR REPLACE TABLE %s AS\n%s", target, body);
	else {
		p->sql[1] = arena_printf(a, "CREATE TABLE IF NOT EXISTS %s AS\n"
					 "SELECT * FROM (\n%s\n) AS source WHERE 1 = 0",
					 target, body);
		p->n = 3;
		return p->sql[1] != NULL ? incremental_sql(&p->sql[2], a, s, target, body) :
		       IL_ENOMEM;
	}
	return p->sql[1] != NULL ? 0 : IL_ENOMEM;
}

