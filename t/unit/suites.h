/* suites.h: the unit test suites of util/, db/ and http/ */
#ifndef IL_T_SUITES_H
#define IL_T_SUITES_H

#include <check.h>

Suite *suite_arena(void);
Suite *suite_strbuf(void);
Suite *suite_parse(void);
Suite *suite_config(void);
Suite *suite_secret(void);
Suite *suite_sqlsplit(void);
Suite *suite_query(void);
Suite *suite_router(void);
Suite *suite_body(void);
Suite *suite_netguard(void);
Suite *suite_pg_connect(void);
Suite *suite_httpc(void);
Suite *suite_json_text(void);
Suite *suite_token(void);

#endif
