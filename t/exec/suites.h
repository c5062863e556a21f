/* suites.h: the unit test suites of src/exec */
#ifndef IL_T_EXEC_SUITES_H
#define IL_T_EXEC_SUITES_H

#include <check.h>

Suite *suite_databricks(void);
Suite *suite_pg_provision(void);

#endif
