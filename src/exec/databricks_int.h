/* databricks_int.h (exec): what databricks.c and databricks_sql.c share */
#ifndef IL_DATABRICKS_INT_H
#define IL_DATABRICKS_INT_H

struct arena;
struct exec_step;

/* The statements of one step, in order, and whether each names the step's schema. */
struct step_sql {
	const char *sql[3];
	int with_schema[3];          /* send the step's schema as the default schema */
	int n;
};

/*
 * The Databricks SQL for step s by materialization: the schema, the table
 * when the step needs it to exist, then the statement that does the work.
 * Names and dates are checked first. 0, IL_EINVALID or IL_ENOMEM.
 */
int dbx_step_statements(struct step_sql *p, struct arena *a, const struct exec_step *s);

#endif
