/* advise.h: plan advisory: cost, risk and lint heuristics, and the LLM prompt */
#ifndef IL_ADVISE_H
#define IL_ADVISE_H
#include <stddef.h>

#include <json-c/json.h>

struct arena;
struct model;
struct project;

/* Bounds on what an advisory (and the prompt built from it) may hold. */
#define ADVISE_MAX_FINDINGS 50          /* lint findings per model */
#define ADVISE_MAX_DIFF_LINES 400       /* diff lines per model in a prompt */
#define ADVISE_MAX_PROMPT (256 * 1024)  /* bytes of one prompt */
#define ADVISE_MAX_REPLY_ITEMS 100      /* risk notes or optimisations kept */
#define ADVISE_MAX_NOTE 2000            /* bytes of one note or suggestion */
#define ADVISE_MAX_SUMMARY 4000         /* bytes of the LLM's summary */

/* The run history of one model in the plan's environment (newest first). */
struct advise_history {
	const double *runtimes;   /* seconds of recent successful runs */
	size_t n_runtimes;
	long recent_runs;         /* finished runs in the window */
	long recent_failures;     /* of which failed */
};

/* One plan step, as the stored plan names it. */
struct advise_step {
	const char *step_id;
	const char *model;
	int full_refresh;                  /* run_type FULL_REFRESH */
	double planned_seconds;            /* the planner's compute estimate */
	struct advise_history history;
};

/*
 * Everything the heuristics read. base and target are the projects at the
 * plan's commits; either may be NULL when the repository can no longer be
 * read (the SQL-based factors and lint are then skipped).
 */
struct advise_input {
	const struct advise_step *steps;
	size_t n_steps;
	const struct project *base;
	const struct project *target;
	const char *environment;
	double cost_per_second;
};

/*
 * The deterministic advisory: {"summary", "steps": [{step_id, model, cost,
 * risk, suggestions, change}]} (change: advise_classify_change, or null);
 * same input, same JSON. *out is a new json object the
 * caller owns. Returns 0 or IL_ENOMEM.
 */
int advise_heuristics(json_object **out, struct arena *a,
		      const struct advise_input *in);

/* One lint finding; line is the line in the model file. */
struct advise_finding {
	const char *rule;
	const char *message;
	unsigned line;
};

/*
 * Lints a model's SQL (SELECT *, CROSS JOIN, ORDER BY without LIMIT in a
 * subquery, NOT IN with a subquery, non-sargable date filters, incremental
 * model never filtering on its time_column). At most ADVISE_MAX_FINDINGS,
 * in source order. SQL that does not lex gives no findings.
 * Returns 0 or IL_ENOMEM.
 */
int advise_lint(struct advise_finding **out, size_t *n, struct arena *a,
		const struct model *m);

/*
 * The output column names of a model's top-level SELECT (lower-case), or
 * *n = (size_t)-1 when they cannot be known (SELECT *, no SELECT, bad SQL).
 * Returns 0 or IL_ENOMEM.
 */
int advise_output_columns(const char ***out, size_t *n, struct arena *a,
			  const struct model *m);

/*
 * Counts the lines that differ between two texts (added plus removed).
 * When diff is not NULL, also writes a unified-style listing ("- ", "+ ",
 * "  " prefixes) of at most max_lines lines into it.
 */
struct strbuf;
size_t advise_line_diff(struct strbuf *diff, struct arena *a, const char *old_text,
			const char *new_text, size_t max_lines);

/*
 * SQL with comments dropped and every string and number literal replaced by
 * '?', line breaks kept; emails and secret-looking tokens are redacted too.
 * NULL on a lexical error (the caller leaves the SQL out) or no memory.
 */
const char *advise_redact_sql(struct arena *a, const char *sql, size_t len);
/* Free text with emails and secret-looking tokens replaced; NULL on no memory. */
const char *advise_redact_text(struct arena *a, const char *text);

/*
 * The reference's semantic_classification of the step's own change
 * ({change_type, confidence, requires_full_rebuild, impact_scope}): breaking
 * when output columns went away, partition_shift when the time column or
 * incrementality changed, non_breaking for a new model or added columns,
 * metric_semantic when the same columns are computed differently. *out is
 * NULL when the model did not change itself (rebuilt for an upstream
 * change) or the projects are unknown. Returns 0 or IL_ENOMEM.
 */
int advise_classify_change(json_object **out, struct arena *a, const struct advise_input *in,
			   const struct advise_step *s);

/*
 * The advisory (as advise_heuristics made it, with "llm" added) keyed by
 * model name in the reference's shapes: {semantic_classification?,
 * cost_prediction, risk_score, suggestions}; LLM risk notes join the risk
 * factors and its optimisations the suggestions. A new object, or NULL when
 * the advisory has no steps.
 */
json_object *advise_by_model(json_object *advisory);

/* The instructions sent with every advisory prompt. */
const char *advise_system_prompt(void);

/*
 * The user prompt: the plan summary, each changed model's redacted SQL
 * diff, and the heuristic findings (advisory from advise_heuristics).
 * NULL when it would exceed ADVISE_MAX_PROMPT or memory ran out.
 */
const char *advise_prompt(struct arena *a, const struct advise_input *in,
			  json_object *advisory);

/*
 * Validates an LLM reply text (a JSON object, optionally inside a ``` fence)
 * against the plan's models: {"summary": str, "risk_notes": [{model, note}],
 * "optimizations": [{model, suggestion}]}. Entries naming models outside the
 * plan are dropped, long texts cut. *out is a new object {summary,
 * risk_notes, optimizations, dropped_items}, or NULL with *why set.
 */
int advise_reply_validate(json_object **out, const char **why, const char *text,
			  const struct advise_input *in);

#endif
