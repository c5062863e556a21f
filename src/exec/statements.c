/* statements.c (exec): the statements a step runs, by executor */
#include <string.h>

#include "exec/databricks_int.h"
#include "exec/exec.h"
#include "exec/postgres_int.h"
#include "util/error.h"

int exec_step_statements(struct step_sql *out, const char **why, struct arena *a,
			 const char *executor, const struct exec_step *s)
{
	int rc;

	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (strcmp(executor, "databricks") != 0)
		return pg_step_statements(out, why, a, s);
	rc = dbx_step_statements(out, a, s);
	if (rc == IL_EINVALID)
		*why = "the step has an invalid name, key, range or SQL";
	return rc;
}
