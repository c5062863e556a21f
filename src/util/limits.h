/* limits.h: every size and count limit, named in one place */
#ifndef IL_LIMITS_H
#define IL_LIMITS_H

/* Default request body cap; the config key max_body_bytes overrides it. */
#define IL_DEFAULT_MAX_BODY (1024 * 1024)
/* Longest request path we route; longer paths are answered 404. */
#define IL_MAX_PATH 2048
/* Query strings: total length and number of parameters. */
#define IL_MAX_QUERY 4096
#define IL_MAX_QUERY_PARAMS 32
/* Path parameters captured by one route pattern. */
#define IL_MAX_ROUTE_PARAMS 4
/* X-Request-Id values we echo: at most this long, [A-Za-z0-9._-] only. */
#define IL_MAX_REQUEST_ID 64
/* A single config file line and the number of configured repo roots. */
#define IL_MAX_CONFIG_LINE 4096
#define IL_MAX_REPO_ROOTS 16
/* Log lines are cut at this length. */
#define IL_MAX_LOG_LINE 8192
/* A response body a handler builds as text (a plan, an advisory). */
#define IL_MAX_RESPONSE_TEXT (1 << 24)
/* A Link header's text. */
#define IL_MAX_LINK_HEADER 16384

/*
 * Identifiers we splice into SQL ([a-z][a-z0-9_]*, see ident_ok): at most
 * PostgreSQL's NAMEDATALEN - 1 bytes; a schema prefix leaves room for the
 * "_<schema>" it is joined to.
 */
#define IL_MAX_IDENT 63
#define IL_MAX_SCHEMA_PREFIX 40

/* Planner (src/core, src/repo): one model file, models per commit, names. */
#define IL_MAX_SQL_FILE (1024 * 1024)
#define IL_MAX_MODELS 100000
#define IL_MAX_MODEL_NAME 128
/* Header values, list items per header, refs per body. */
#define IL_MAX_HEADER_VALUE 4096
#define IL_MAX_LIST_ITEMS 256
#define IL_MAX_REFS 1024
/* Canonical SQL of one model, and a whole plan document. */
#define IL_MAX_CANONICAL_SQL (2 * 1024 * 1024)
#define IL_MAX_PLAN_JSON (256 * 1024 * 1024)
/* Cycles spelled out in one report (the rest are counted). */
#define IL_MAX_CYCLES_REPORTED 32
/* Lookback window a model header may ask for, in days. */
#define IL_MAX_LOOKBACK_DAYS 3650
/* A --state file and the runtimes kept per model. */
#define IL_MAX_STATE_FILE (64 * 1024 * 1024)
#define IL_MAX_RUNTIMES 1000

#endif
