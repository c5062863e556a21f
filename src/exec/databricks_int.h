/* databricks_int.h (exec): what databricks.c and databricks_sql.c share */
#ifndef IL_DATABRICKS_INT_H
#define IL_DATABRICKS_INT_H

struct arena;
struct exec_step;
struct step_sql;

/*
 * The Databricks SQL for step s by materialization: the schema, the table
 * when the step needs it to exist, then the statement that does the work.
 * Names and dates are checked first. 0, IL_EINVALID or IL_ENOMEM.
 */
int dbx_step_statements(struct step_sql *p, struct arena *a, const struct exec_step *s);

#endif
