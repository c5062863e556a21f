/* api.h: the API's route table, worker-lifetime state and handlers */
#ifndef IL_API_H
#define IL_API_H

#include "http/router.h"

struct migration;

/* What a worker keeps between requests (read-only while serving). */
struct api_ctx {
	const struct migration *migrations;   /* expected, from sql_dir */
	int nmigrations;
};

/* The route table the dispatcher serves. */
const struct http_app *api_app(void);

/* auth.c */
int api_authenticate(struct req *r);
int api_auth_signup(struct req *r);
int api_auth_login(struct req *r);
int api_auth_refresh(struct req *r);
int api_auth_logout(struct req *r);
int api_auth_me(struct req *r);

/* health.c */
int api_health_get(struct req *r);
int api_ready_get(struct req *r);

#endif
