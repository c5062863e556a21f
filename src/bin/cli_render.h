/* cli_render.h: plans, runs and environments as people read them */
#ifndef IL_CLI_RENDER_H
#define IL_CLI_RENDER_H

#include <stdio.h>

#include <json-c/json.h>

/*
 * A plan (the plan JSON, or the API's plan with status and approvals) as a
 * summary: the models that changed (+ added, ~ modified, - removed), the
 * steps by parallel group with run type, range and reason, and a last line
 * with the counts and the estimated cost. colour: use escape codes.
 */
void render_plan(FILE *out, json_object *plan, int colour);

/* The lists: one header line, then a line per item. */
void render_plans(FILE *out, json_object *items, int colour);
void render_runs(FILE *out, json_object *items, int colour);
void render_envs(FILE *out, json_object *items, int colour);

/* A status word in its colour (green for success, red for failure …), padded to width. */
const char *render_status(char *buf, size_t size, const char *status, int width, int colour);
/* 1 for a run status that means the step failed (FAIL, FAILED). */
int run_failed(const char *status);
/* 1 for a run status that is final (SUCCESS, FAIL(ED), SKIPPED, CANCELLED). */
int run_done(const char *status);
/* "FULL_REFRESH" or "INCREMENTAL 2026-11-04..2026-11-05" for a step or run. */
const char *render_run_type(char *buf, size_t size, json_object *o);
/* The first 12 characters of an id. */
const char *render_short_id(char *buf, size_t size, const char *id);

#endif
