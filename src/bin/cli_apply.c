/* cli_apply.c: ironlayer apply — a line per step as it starts and ends, then a summary */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "bin/cli_remote.h"
#include "bin/cli_render.h"
#include "util/arena.h"
#include "util/limits.h"
#include "util/strbuf.h"

#define POLL_INTERVAL_S 0.25
#define PAGE 100

/* A run of this apply and which of its lines are out. */
struct seen_run {
	const char *run_id;
	int started;
	int ended;
};

struct progress {
	struct remote *rm;
	const char *plan_id;
	json_object *steps;            /* the plan's steps: "[i/N]" follows their order */
	struct strbuf before;          /* ",id,id," of runs from earlier applies of the plan */
	struct seen_run *runs;
	size_t n_runs, cap;
	int ok, failed, skipped;
	double cost;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1-based position of the step in the plan, or 0. */
static int step_index(const struct progress *p, const char *step_id)
{
	size_t i;

	for (i = 0; step_id != NULL && i < json_object_array_length(p->steps); i++) {
		const char *id = cli_str(json_object_array_get_idx(p->steps, i), "step_id");

		if (id != NULL && strcmp(id, step_id) == 0)
			return (int)i + 1;
	}
	return 0;
}

static int from_earlier_apply(const struct progress *p, const char *run_id)
{
	const char *all = strbuf_cstr(&p->before);
	size_t n = strlen(run_id);
	const char *at = all;

	while (at != NULL && (at = strstr(at, run_id)) != NULL) {
		if (at > all && at[-1] == ',' && at[n] == ',')
			return 1;
		at += n;
	}
	return 0;
}

static struct seen_run *seen(struct progress *p, const char *run_id)
{
	size_t i;

	for (i = 0; i < p->n_runs; i++)
		if (strcmp(p->runs[i].run_id, run_id) == 0)
			return &p->runs[i];
	if (p->n_runs == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct seen_run *more = arena_calloc(p->rm->a, cap, sizeof(*more));

		if (more == NULL)
			return NULL;
		if (p->n_runs)
			memcpy(more, p->runs, p->n_runs * sizeof(*more));
		p->runs = more;
		p->cap = cap;
	}
	p->runs[p->n_runs].run_id = run_id;
	return &p->runs[p->n_runs++];
}

static void start_line(const struct progress *p, json_object *run)
{
	char type[80];

	printf("[%d/%zu] START %s (%s)\n", step_index(p, cli_str(run, "step_id")),
	       json_object_array_length(p->steps), cli_str(run, "model_name"),
	       render_run_type(type, sizeof(type), run));
	fflush(stdout);
}

/* The run's telemetry (seconds, rows, cost), or NULL. */
static json_object *telemetry(struct progress *p, const char *run_id)
{
	json_object *t = NULL;
	struct cli_reply r;

	if (cli_api_call(&p->rm->api, "GET", arena_printf(p->rm->a, "/api/v1/runs/%s/telemetry",
							    run_id), NULL, &r) != 0 ||
	    r.status != 200)
		return NULL;
	t = r.json;
	return t;
}

/* A step that never ran because an upstream one failed: CANCELLED (SKIPPED before). */
static int skipped(const char *status)
{
	return status != NULL &&
	       (strcmp(status, "CANCELLED") == 0 || strcmp(status, "SKIPPED") == 0);
}

static void end_line(struct progress *p, json_object *run)
{
	const char *status = cli_str(run, "status"), *err = cli_str(run, "error_message");
	json_object *t = telemetry(p, cli_str(run, "run_id"));
	int colour = p->rm->colour, ok = status != NULL && strcmp(status, "SUCCESS") == 0;
	int skip = skipped(status);
	char type[80], rows[48] = "";

	p->ok += ok;
	p->skipped += skip;
	p->failed += !ok && !skip;
	p->cost += cli_num(t, "cost_usd", 0);
	if (t != NULL && cli_num(t, "rows_processed", -1) >= 0)
		cli_count(rows, sizeof(rows), (long long)cli_num(t, "rows_processed", 0), "row",
			  NULL);
	printf("[%d/%zu] %s%-5s%s %s (%s)", step_index(p, cli_str(run, "step_id")),
	       json_object_array_length(p->steps),
	       cli_c(colour, ok ? C_GREEN : skip ? C_DIM : C_RED),
	       ok ? "OK" : skip ? "SKIP" : run_failed(status) ? "FAIL" : status,
	       cli_c(colour, C_RESET), cli_str(run, "model_name"),
	       render_run_type(type, sizeof(type), run));
	if (!skip)
		printf(" in %.2fs", cli_num(t, "runtime_seconds", 0));
	if (*rows != '\0')
		printf(", %s", rows);
	if (!ok && err != NULL)
		printf(": %s", err);
	printf("\n");
	fflush(stdout);
}

struct ordered {
	json_object *run;
	const char *started_at;
	int index;
};

static int by_start(const void *x, const void *y)
{
	const struct ordered *a = x, *b = y;
	int c = strcmp(a->started_at, b->started_at);

	return c != 0 ? c : a->index - b->index;
}

/* Prints what changed among the runs of this apply, oldest first; nothing
 * with --json, whose output is the answer's JSON alone. */
static void observe(struct progress *p, json_object *items)
{
	size_t i, n = 0, len = items ? json_object_array_length(items) : 0;
	struct ordered *o;

	if (p->rm->json)
		return;
	o = arena_calloc(p->rm->a, len + 1, sizeof(*o));

	for (i = 0; o != NULL && i < len; i++) {
		json_object *run = json_object_array_get_idx(items, i);
		const char *id = cli_str(run, "run_id");

		if (id == NULL || from_earlier_apply(p, id))
			continue;
		o[n].run = run;
		o[n].started_at = cli_str(run, "started_at") ? cli_str(run, "started_at") : "";
		o[n++].index = step_index(p, cli_str(run, "step_id"));
	}
	if (o != NULL)
		qsort(o, n, sizeof(*o), by_start);
	for (i = 0; o != NULL && i < n; i++) {
		struct seen_run *s = seen(p, cli_str(o[i].run, "run_id"));
		int done = run_done(cli_str(o[i].run, "status"));

		if (s == NULL || s->ended)
			continue;
		/* a step seen only once it was done still gets its start line first;
		 * a skipped one never started */
		if (!s->started && !skipped(cli_str(o[i].run, "status")))
			start_line(p, o[i].run);
		s->started = 1;
		if (done) {
			end_line(p, o[i].run);
			s->ended = 1;
		}
	}
}

/* The ids of the plan's runs before this apply (a resumed plan has some). */
static int earlier_runs(struct progress *p)
{
	size_t got = PAGE, i;
	int page;

	strbuf_init(&p->before, p->rm->a, IL_MAX_RESPONSE_TEXT);
	strbuf_adds(&p->before, ",");
	for (page = 0; page < 100 && got == PAGE; page++) {
		json_object *reply, *items;

		if (remote_get(p->rm, arena_printf(p->rm->a, "/api/v1/runs?plan_id=%s&limit=%d"
						   "&offset=%d", p->plan_id, PAGE, page * PAGE),
			       &reply) != 0)
			return 1;
		items = cli_list_items(reply);
		got = items ? json_object_array_length(items) : 0;
		for (i = 0; i < got; i++)
			strbuf_addf(&p->before, "%s,",
				    cli_str(json_object_array_get_idx(items, i), "run_id"));
	}
	return strbuf_cstr(&p->before) != NULL ? 0 : 1;
}

/* A poll of the plan's runs on the second connection, started. */
static CURL *start_poll(struct progress *p, CURLM *m, struct curl_slist **h, struct strbuf *sink)
{
	CURL *e = cli_api_easy(&p->rm->api, "GET", arena_printf(p->rm->a, "/api/v1/runs?plan_id=%s"
								 "&limit=%d", p->plan_id, PAGE),
			       NULL, h, sink);

	if (e != NULL && curl_multi_add_handle(m, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(*h);
		return NULL;
	}
	return e;
}

static void end_poll(struct progress *p, CURLM *m, CURL **e, struct curl_slist **h,
		     struct strbuf *sink, int use)
{
	long status = 0;

	curl_easy_getinfo(*e, CURLINFO_RESPONSE_CODE, &status);
	if (use && status == 200 && strbuf_cstr(sink) != NULL)
		observe(p, cli_list_items(cli_api_parse(p->rm->a, sink->buf, sink->len)));
	curl_multi_remove_handle(m, *e);
	curl_easy_cleanup(*e);
	curl_slist_free_all(*h);
	*e = NULL;
	*h = NULL;
}

/* The apply's answer once its transfer is over (result: how it ended). */
static void take_answer(struct progress *p, struct cli_reply *answer, CURL *apply,
			const struct strbuf *sink, CURLcode result)
{
	memset(answer, 0, sizeof(*answer));
	if (result != CURLE_OK) {
		fprintf(stderr, "ironlayer apply: cannot reach %s: %s\n", p->rm->api.url,
			curl_easy_strerror(result));
		return;
	}
	curl_easy_getinfo(apply, CURLINFO_RESPONSE_CODE, &answer->status);
	answer->body = strbuf_cstr(sink);
	answer->len = sink->len;
	answer->json = answer->body ? cli_api_parse(p->rm->a, answer->body, answer->len) : NULL;
}

/*
 * Sends the apply and, while it is in flight, polls the plan's runs on a
 * second connection (one multi handle drives both), printing each step's
 * lines as they show. *answer gets the apply's answer.
 */
static int drive(struct progress *p, struct cli_reply *answer)
{
	struct curl_slist *ah = NULL, *ph = NULL;
	struct strbuf sink, poll_sink;
	CURLM *m = curl_multi_init();
	const char *path = arena_printf(p->rm->a, "/api/v1/plans/%s/apply", p->plan_id);
	CURL *apply = m ? cli_api_easy(&p->rm->api, "POST", path, "{}", &ah, &sink) : NULL;
	CURL *poll = NULL;
	CURLcode result = CURLE_FAILED_INIT;
	double next = now_s() + POLL_INTERVAL_S;
	int running, done = 0;

	if (apply == NULL || curl_multi_add_handle(m, apply) != CURLM_OK)
		done = 1;
	while (!done) {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == apply) {
				result = msg->data.result;
				done = 1;
			} else if (msg->msg == CURLMSG_DONE && msg->easy_handle == poll) {
				end_poll(p, m, &poll, &ph, &poll_sink, 1);
				next = now_s() + POLL_INTERVAL_S;
			}
		}
		if (!done && poll == NULL && now_s() >= next)
			poll = start_poll(p, m, &ph, &poll_sink);
		if (!done)
			curl_multi_poll(m, NULL, 0, 50, NULL);
	}
	if (poll != NULL)
		end_poll(p, m, &poll, &ph, &poll_sink, 0);
	take_answer(p, answer, apply, &sink, result);
	if (apply != NULL) {
		curl_multi_remove_handle(m, apply);
		curl_easy_cleanup(apply);
	}
	curl_slist_free_all(ah);
	curl_multi_cleanup(m);
	return result == CURLE_OK ? 0 : 1;
}

/* The last lines of the runs not reported yet, and the summary; the exit status. */
static int summarise(struct progress *p, json_object *reply, double seconds)
{
	const char *status = cli_str(reply, "status");
	int applied = status != NULL && strcmp(status, "applied") == 0, colour = p->rm->colour;
	char id[16], cost[48], b[3][48];

	observe(p, json_object_object_get(reply, "runs"));
	printf("%sPlan %s %s%s: %s, %s, %s in %.2fs, cost %s\n",
	       cli_c(colour, applied ? C_GREEN : C_RED),
	       render_short_id(id, sizeof(id), p->plan_id), status ? status : "?",
	       cli_c(colour, C_RESET),
	       cli_count(b[0], 48, p->ok, "step succeeded", "steps succeeded"),
	       cli_count(b[1], 48, p->failed, "failed", "failed"),
	       cli_count(b[2], 48, p->skipped, "skipped", "skipped"), seconds,
	       cli_cost(cost, sizeof(cost), p->cost));
	return applied && p->failed == 0 ? 0 : 1;
}

static int run_apply(struct remote *rm, const char *given)
{
	struct progress p;
	struct cli_reply r;
	json_object *plan;
	double t0 = now_s();

	memset(&p, 0, sizeof(p));
	p.rm = rm;
	if ((p.plan_id = remote_plan_id(rm, given)) == NULL ||
	    remote_get(rm, arena_printf(rm->a, "/api/v1/plans/%s", p.plan_id), &plan) != 0 ||
	    earlier_runs(&p) != 0)
		return 1;
	p.steps = json_object_object_get(plan, "steps");
	if (!rm->json)
		printf("Applying plan %.12s to %s: %zu steps\n", p.plan_id,
		       cli_str(plan, "environment") ? cli_str(plan, "environment") : "?",
		       p.steps ? json_object_array_length(p.steps) : (size_t)0);
	if (drive(&p, &r) != 0 || cli_api_ok(&rm->api, &r) != 0)
		return 1;
	if (rm->json) {
		const char *status = cli_str(r.json, "status");

		return cli_print_json(r.json) || status == NULL || strcmp(status, "applied") != 0;
	}
	return summarise(&p, r.json, now_s() - t0);
}

/*
 * ironlayer apply ID: applies an approved plan, printing a line as each
 * step starts and ends, then a summary. Exit status 1 when a step failed.
 */
int cli_apply(int argc, char **argv)
{
	const char *url = NULL, *pos[1] = { NULL };
	int json = 0, n;
	const struct cli_opt opts[] = {
		{ "--url", &url, NULL }, { "--json", NULL, &json }, { NULL, NULL, NULL }
	};
	struct remote rm;

	if ((n = cli_parse("apply", argc, argv, opts, pos, 1)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (n != 1)
		return cli_usage_error("apply");
	if (remote_start(&rm, "apply", url, json) != 0)
		return remote_end(&rm, 1);
	return remote_end(&rm, run_apply(&rm, pos[0]));
}
