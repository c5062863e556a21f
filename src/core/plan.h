/* plan.h: the interval planner and its canonical JSON (see docs/plan-json.md) */
#ifndef IL_PLAN_H
#define IL_PLAN_H
#include <stddef.h>

#include "core/date.h"
#include "core/model.h"
#include "util/crypto.h"

struct arena;
struct project;

/* Defaults when the config does not say otherwise. */
#define PLAN_DEFAULT_LOOKBACK_DAYS 30
#define PLAN_DEFAULT_COST_PER_SECOND 0.0007
#define PLAN_DEFAULT_RUNTIME_SECONDS 300.0
#define PLAN_DEFAULT_ENVIRONMENT "dev"

/* The end date (exclusive) of the last successful interval of a model. */
struct plan_watermark {
	const char *model;
	const char *end;          /* YYYY-MM-DD */
};

/* Recent successful runtimes of a model, in seconds (any order). */
struct plan_runtimes {
	const char *model;
	const double *seconds;
	size_t n;
};

/*
 * Everything besides the two projects that a plan depends on. The state
 * store (PostgreSQL for the API, a --state file for the CLI) fills the
 * watermarks and runtimes; a model may appear at most once in each.
 * Start from plan_inputs_init().
 */
struct plan_inputs {
	const char *base;             /* 40-hex commit ids */
	const char *target;
	const char *environment;
	const char *as_of;            /* YYYY-MM-DD: the end of every range */
	long default_lookback_days;   /* 1..IL_MAX_LOOKBACK_DAYS */
	double cost_per_compute_second;
	const struct plan_watermark *watermarks;
	size_t n_watermarks;
	const struct plan_runtimes *runtimes;
	size_t n_runtimes;
};

enum run_type {
	RUN_FULL_REFRESH = 0,
	RUN_INCREMENTAL
};

/*
 * A contract column (header contract_columns, mode WARN or STRICT) that the
 * model's SELECT list does not produce. Checked only when every output
 * column can be named (no *, no unaliased expression).
 */
struct plan_violation {
	const char *column_name;
	const char *expected;       /* the declared TYPE[ NOT NULL] */
	const char *message;
	const char *severity;       /* "BREAKING" (STRICT) or "WARNING" (WARN) */
	const char *violation_type; /* "COLUMN_MISSING" */
};

struct plan_step {
	char step_id[IL_SHA256_HEX_LEN + 1];
	const char *model;
	enum run_type run_type;
	int has_range;                     /* 0: input_range is null */
	char start[IL_DATE_LEN + 1];       /* [start, end) */
	char end[IL_DATE_LEN + 1];
	const char **depends_on;           /* step ids, by upstream name */
	size_t n_depends_on;
	int parallel_group;
	const char *reason;
	double compute_seconds;            /* rounded to 6 decimals */
	double cost_usd;                   /* rounded to 6 decimals */
	struct plan_violation *violations; /* by column name */
	size_t n_violations;
};

struct plan {
	char plan_id[IL_SHA256_HEX_LEN + 1];
	const char *base;
	const char *target;
	const char *environment;
	char as_of[IL_DATE_LEN + 1];
	struct plan_step *steps;           /* topological, ties by name */
	size_t n_steps;
	/* summary lists, each sorted by name */
	struct str_list models_changed;    /* affected: steps and up_to_date */
	struct str_list models_modified;   /* MODIFIED */
	struct str_list models_added;
	struct str_list models_removed;
	struct str_list cosmetic_changes_skipped;
	struct str_list metadata_changes;
	struct str_list up_to_date;        /* affected, but the range is empty */
	double estimated_cost_usd;
};

/* Defaults: environment "dev", lookback 30, 0.0007 per second, no state. */
void plan_inputs_init(struct plan_inputs *in);

/*
 * Builds the plan that takes the environment from base to target. The
 * target must be a finished project without errors (else IL_EINVALID and
 * *err names the problem: the caller lists target->diags); the base is
 * read leniently (a base model with errors still has a hash; NULL means a
 * base without models: everything is ADDED). Invalid
 * inputs (ids, as_of, duplicate or malformed state) give IL_EINVALID with
 * *err set. Everything lives in a. Same inputs, same plan, same bytes.
 * Returns 0, IL_EINVALID or IL_ENOMEM.
 */
int plan_build(struct plan **out, struct arena *a, const struct project *base,
	       const struct project *target, const struct plan_inputs *in,
	       const char **err);

/*
 * The canonical plan document: keys sorted at every level, 2-space
 * indent, numbers in fixed notation, UTF-8, ending with one newline.
 * *out is NUL-terminated; *len excludes the NUL. 0, IL_ETOOBIG, IL_ENOMEM.
 */
int plan_to_json(const char **out, size_t *len, struct arena *a,
		 const struct plan *p);

/*
 * The one way IronLayer writes a cost or duration: fixed notation with up
 * to 6 decimals, trailing zeros dropped but one kept (300.0, 0.21,
 * 0.000013), never an exponent. out holds at least PLAN_NUMBER_LEN bytes;
 * returns the length, or -1 when v does not fit.
 */
#define PLAN_NUMBER_LEN 64
int plan_format_number(char *out, double v);

/*
 * Parses a --state file (format in docs/plan-json.md):
 *   {"watermarks": {"schema.name": "YYYY-MM-DD"},
 *    "run_history": {"schema.name": [seconds, ...]}}
 * into in->watermarks / in->runtimes (both keys optional, nothing else
 * allowed). Strings live in a. IL_EINVALID sets *err. 0 or IL_ENOMEM.
 */
int plan_state_parse(struct plan_inputs *in, struct arena *a,
		     const char *text, size_t len, const char **err);
#endif
