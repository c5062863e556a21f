/* plan_int.h: shared between plan.c and plan_json.c, not for other layers */
#ifndef IL_PLAN_INT_H
#define IL_PLAN_INT_H

struct arena;
struct model;
struct plan;
struct plan_step;

/* Fills s->violations for m's contract columns its SELECT does not make. */
int plan__contract_check(struct plan_step *s, struct arena *a,
			 const struct model *m);

/* A growable buffer outside any arena (plan_json.c), with the numbers it
 * formatted last; all zero when empty. */
#define PLAN_NUM_CACHE 4
struct plan_buf {
	char *p;
	size_t len;
	size_t cap;
	int failed;
	int n_num;
	double num[PLAN_NUM_CACHE];
	char num_text[PLAN_NUM_CACHE][40];
	size_t num_len[PLAN_NUM_CACHE];
};
void plan__buf_free(struct plan_buf *b);

/* step_id = SHA-256 of the step's compact canonical JSON without step_id;
 * scratch is reused from step to step. 0 or IL_ETOOBIG. */
int plan__set_step_id(struct plan_step *s, struct plan_buf *scratch);
/*
 * plan_id = SHA-256 of the plan's compact canonical JSON without plan_id,
 * hashed while the plan is made: begin once p's ids, environment and
 * as_of are set; step after each step's plan__set_step_id (its compact
 * JSON still in the scratch buffer); end once the summary is complete
 * (sets p->plan_id). abort frees a hasher that will not end. 0,
 * IL_ETOOBIG or IL_ENOMEM.
 */
struct crypto_sha256_stream;
struct plan_hasher {
	struct crypto_sha256_stream *sha;
	struct plan_buf b;
	size_t n_steps;
};
int plan__hash_begin(struct plan_hasher *h, const struct plan *p);
int plan__hash_step(struct plan_hasher *h, const struct plan_buf *step,
		    const char *step_id);
int plan__hash_end(struct plan_hasher *h, struct plan *p);
void plan__hash_abort(struct plan_hasher *h);
/* x rounded to 6 decimals (through its decimal text, so exactly once). */
double plan__round6(double x);
#endif
