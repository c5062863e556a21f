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

#endif
