/* verify.c: what was approved is what runs — the checks apply makes first */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "apply/apply_int.h"
#include "core/project.h"
#include "db/db.h"
#include "db/plans.h"
#include "repo/repo.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/json.h"
#include "util/strbuf.h"

/* A plan_content_changed refusal for why (and the models that differ, when known); 1. */
static int refuse(struct apply *ap, const char *why, json_object *models)
{
	const char *detail = arena_printf(ap->c->arena, "plan %s cannot run: %s; nothing was run, "
					  "generate and approve the plan again", ap->plan_id,
					  why ? why : "its content changed");

	ap->out->verdict = APPLY_REFUSED;
	ap->out->code = APPLY_CONTENT_CHANGED;
	ap->out->detail = detail ? detail : "the plan's content changed since it was approved";
	ap->out->models = models;
	return 1;
}

/*
 * The plan's repo_path must still resolve, inside the tenant's roots, to the
 * very path generate resolved: a directory or symlink swapped since (for
 * another repository) is refused before it is opened.
 */
static int check_repo_path(struct apply *ap, char real[PATH_MAX])
{
	const char *stored = ap->plan.repo_path;

	if (repo_path_resolve(real, ap->c->cfg, ap->c->tenant_id, stored) != 0)
		return refuse(ap, "its repository is gone or no longer inside your repository "
			      "roots", NULL);
	if (strcmp(real, stored) != 0) {
		log_warn("apply %s: repo_path now resolves elsewhere", ap->plan_id);
		return refuse(ap, "its repository path now leads to another place", NULL);
	}
	return 0;
}

/* Reads the models at the plan's target commit (every object hash-checked) into ap->project. */
static int load_target(struct apply *ap, const char *path)
{
	struct repo *repo;
	int rc = repo_open(&repo, ap->c->arena, path);

	if (rc == IL_ENOTFOUND)
		return refuse(ap, "its repository is not a git repository any more", NULL);
	if (rc < 0)
		return rc;
	/* every object read from disk and checked: none served from the worker's parse store */
	repo_set_store(repo, NULL);
	rc = repo_load_project(&ap->project, ap->c->arena, repo, ap->plan.target_sha,
			       ap->c->cfg->models_dir);
	if (rc == IL_ENOMEM || rc == 0)
		return rc;
	/* the library's words stay in the log */
	log_error("apply %s: reading the models at the target commit failed: %s", ap->plan_id,
		  repo_last_error(repo));
	ap->project = NULL;
	return refuse(ap, "the models at its target commit cannot be read back intact (a "
		      "repository object is missing or fails its hash check)", NULL);
}

/* *changed: the step models whose content hash now differs from the approved one (or NULL). */
static int changed_models(json_object **changed, struct apply *ap, json_object *approved)
{
	json_object *steps = json_object_object_get(ap->doc, "steps");
	size_t i;

	*changed = NULL;
	for (i = 0; i < json_object_array_length(steps); i++) {
		const char *model = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(steps, i), "model"));
		const char *want = json_object_get_string(json_object_object_get(approved, model));
		int k = model ? project_find(ap->project, model) : -1;

		if (want != NULL && k >= 0 &&
		    strcmp(want, ap->project->models[k]->content_hash) == 0)
			continue;
		if (*changed == NULL && ((*changed = json_object_new_array()) == NULL ||
					 json_arena_own(ap->c->arena, *changed) < 0))
			return IL_ENOMEM;
		json_object_array_add(*changed, json_object_new_string(model ? model : ""));
	}
	return 0;
}

/* "a, b, c" from a JSON array of strings. */
static const char *joined(struct arena *a, json_object *list)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, a, 1 << 16);
	for (i = 0; i < json_object_array_length(list); i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "",
			    json_object_get_string(json_object_array_get_idx(list, i)));
	return strbuf_cstr(&sb) ? strbuf_cstr(&sb) : "(too many to list)";
}

int apply_verify_content(struct apply *ap)
{
	const struct apply_ctx *c = ap->c;
	char real[PATH_MAX];
	const char *stored = NULL;
	json_object *approved, *changed;
	int rc;

	rc = db_plan_model_hashes(&stored, c->db, c->arena, c->tenant_id, ap->plan_id);
	if (rc < 0)
		return rc;
	if (stored == NULL)
		return refuse(ap, "it was made before the content it approves was recorded", NULL);
	if ((rc = check_repo_path(ap, real)) != 0 || (rc = load_target(ap, real)) != 0)
		return rc;
	if ((approved = apply_json_parse(ap, stored)) == NULL)
		return IL_ERR;
	if ((rc = changed_models(&changed, ap, approved)) < 0 || changed == NULL)
		return rc;
	log_warn("apply %s: model content differs from the approved plan", ap->plan_id);
	return refuse(ap, arena_printf(c->arena, "what these models are at its target commit "
				       "differs from what was approved: %s",
				       joined(c->arena, changed)), changed);
}
