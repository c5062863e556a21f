/* apply_util.h: what the apply, apply-limit, recovery and security tests share:
 * repositories of sleeping models, plans approved and applied, applies in the
 * background, the warehouse, the fake Databricks' record, the apply pool */
#ifndef IL_T_APPLY_UTIL_H
#define IL_T_APPLY_UTIL_H

#include <pthread.h>
#include <stdio.h>

#include "harness.h"

/* A model file: its path in the repository and its text. */
struct model_file {
	const char *path;
	const char *text;
};

/*
 * A new git repository of tenant t (under its own directory of the stack's
 * repo root), with an empty first commit; path gets its location (512
 * bytes), base that commit (48 bytes).
 */
void repo_new(char *path, char *base, const struct tenant *t, const char *name);
/* Writes the n files and commits them; sha gets the commit (48 bytes). */
void repo_commit(const char *repo, char *sha, const struct model_file *files, size_t n);

/* A new tenant whose admin's email starts with prefix, and its dev schema prefix. */
void limits_tenant(struct tenant *t, const char *prefix);
/* Puts the tenant on a tier (a billing account row, as a paid subscription would). */
void set_tier(const struct tenant *t, const char *tier);
/* Generates base..target of repo in env and approves it; returns the plan id (malloc'd). */
char *plan_approved(const struct tenant *t, const char *repo, const char *base,
		    const char *target, const char *env);
/*
 * Approves the plan a generate answered (generated: 200 or 201, freed here);
 * returns its id (malloc'd).
 */
char *plan_approve(const struct tenant *t, struct resp *generated);
/* POST /plans/:id/apply. */
struct resp *apply_plan(const struct tenant *t, const char *plan_id);
/* The status (and error) of model's run in an apply's runs or a list of runs, or NULL. */
const char *run_of(struct resp *r, const char *model, const char **error);

/* An apply running in a thread, and what it came to. */
struct bg_apply {
	pthread_t thread;
	const struct tenant *t;
	char plan_id[80];
	long status;
	char code[64];
	char plan_status[32];
	double seconds;
};
void bg_apply_start(struct bg_apply *b, const struct tenant *t, const char *plan_id);
void bg_apply_join(struct bg_apply *b);
/*
 * Waits (up to seconds) until GET /runs?plan_id= shows model's run with
 * status, from another connection than the apply's; fails the test otherwise.
 */
void wait_run_status(const struct tenant *t, const char *plan_id, const char *model,
		     const char *status, double seconds);

/* One number from a database of the cluster (a tenant's: tenant_wh_db), as the superuser. */
long long wh_number(const char *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The fake Databricks' record of requests so far, as one string (malloc'd). */
char *databricks_record(void);
/* Seconds on a monotonic clock. */
double now_s(void);
/* The pid of the worker holding an apply slot of the stack (0 if none). */
int apply_slot_holder(void);
/*
 * A psql session in the background holding the session advisory lock key
 * (as a worker holds an apply lock); returns its pid once the lock is held.
 */
int hold_advisory_lock(const char *key);
/* Ends that session: its lock goes with it (returns once it is gone). */
void release_advisory_lock(int pid, const char *key);

#endif
