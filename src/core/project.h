/* project.h: every model at one commit, validated, with refs and DAG */
#ifndef IL_PROJECT_H
#define IL_PROJECT_H
#include <stddef.h>

#include "core/dag.h"
#include "core/diag.h"
#include "core/model.h"

struct arena;
struct project_short;

struct project {
	struct arena *arena;
	const char *models_dir;   /* directory the models came from, or NULL */
	struct model **models;    /* after project_finish: sorted by name,
				     unique names; index = DAG node */
	size_t n_models;
	size_t cap;
	struct diag_list diags;   /* every problem, sorted by project_finish */
	struct dag dag;           /* edges upstream -> model, after finish */
	struct project_short *shorts;  /* short-name index (project.c) */
	size_t n_shorts;
	int finished;
};

/* An empty project whose memory lives in a. Returns 0 or IL_ENOMEM. */
int project_new(struct project **out, struct arena *a);

/*
 * Parses one model file (path relative to the repository root) and adds
 * it. text must outlive the project. Problems go to p->diags. Returns 0,
 * IL_ETOOBIG past IL_MAX_MODELS, or IL_ENOMEM.
 */
int project_add_file(struct project *p, const char *path, const char *text,
		     size_t len);

/*
 * Validates the whole project once every file is added: duplicate names,
 * refs and dependencies (exact name, or a unique short name after the
 * dot; unresolved ones name the closest model), cycles spelled
 * `a → b → a` (each model refs the next), then the DAG and every model's
 * content_hash. Returns 0 (check p->diags.n_errors) or IL_ENOMEM.
 */
int project_finish(struct project *p);

/* Index of the model called name, or -1. */
int project_find(const struct project *p, const char *name);

/*
 * The model a ref argument names: exact name, else the only model whose
 * part after the dot is name. -1 when none, -2 when ambiguous.
 */
int project_resolve(const struct project *p, const char *name, size_t len);
#endif
