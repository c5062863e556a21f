/* server.h: the FastCGI accept loop */
#ifndef IL_SERVER_H
#define IL_SERVER_H

#include <signal.h>

struct db;
struct http_app;
struct il_config;

/*
 * Serves requests from the FastCGI socket listen_fd (0 under spawn-fcgi)
 * until SIGTERM or SIGINT: the request in flight is finished first. Each
 * request gets a fresh arena state; ctx is handed to handlers as r->ctx.
 * Returns 0 on a clean stop, -1 when the loop could not start.
 */
int http_serve(const struct http_app *app, const struct il_config *cfg,
	       struct db *db, void *ctx, int listen_fd);

#endif
