/* apply_verify.c: what was approved is what runs — the checks apply makes first */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/apply.h"
#include "core/json_arena.h"
#include "core/project.h"
#include "db/db.h"
#include "db/plans.h"
#include "repo/repo.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strbuf.h"

#define CONTENT_CHANGED "plan_content_changed"

/* 409 plan_content_changed with why (and the models that differ, when known); returns 1. */
static int refuse(struct apply *ap, const char *why, json_object *models)
{
	struct req *r = ap->r;
	json_object *o = json_object_new_object();
	const char *detail = arena_printf(r->arena, "plan %s cannot run: %s; nothing was run, "
					  "generate and approve the plan again", ap->plan_id,
					  why ? why : "its content changed");

	json_object_object_add(o, "detail", json_object_new_string(
		detail ? detail : "the plan's content changed since it was approved"));
	json_object_object_add(o, "code", json_object_new_string(CONTENT_CHANGED));
	if (models != NULL)
		json_object_object_add(o, "models", models);
	r->error_code = CONTENT_CHANGED;
	req_json(r, 409, o);
	return 1;
}

/*
 * The plan's repo_path must still resolve, inside the tenant's roots, to the
 * very path generate resolved: a directory or symlink swapped since (for
 * another repository) is refused before it is opened.
 */
static int check_repo_path(struct apply *ap, char real[PATH_MAX])
{
	struct req *r = ap->r;
	const char *stored = db_val(ap->plan, 0, PLAN_REPO_PATH);

	if (repo_path_resolve(real, r->cfg, r->who.tenant_id, stored) != 0)
		return refuse(ap, "its repository is gone or no longer inside your repository roots",
			      NULL);
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
	int rc = repo_open(&repo, ap->r->arena, path);

	if (rc == IL_ENOTFOUND)
		return refuse(ap, "its repository is not a git repository any more", NULL);
	if (rc < 0)
		return rc;
	rc = repo_load_project(&ap->project, ap->r->arena, repo, db_val(ap->plan, 0, PLAN_TARGET),
			       ap->r->cfg->models_dir);
	if (rc == IL_ENOMEM || rc == 0)
		return rc;
	/* the library's words stay in the log */
	log_error("apply %s: reading the models at the target commit failed: %s", ap->plan_id,
		  repo_last_error(repo));
	ap->project = NULL;
	return refuse(ap, "the models at its target commit cannot be read back intact (a "
		      "repository object is missing or fails its hash check)", NULL);
}

/* The step models whose content hash now differs from the approved one (or NULL). */
static json_object *changed_models(struct apply *ap, json_object *approved)
{
	json_object *steps = json_object_object_get(ap->doc, "steps"), *changed = NULL;
	size_t i;

	for (i = 0; i < json_object_array_length(steps); i++) {
		const char *model = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(steps, i), "model"));
		const char *want = json_object_get_string(json_object_object_get(approved, model));
		int k = model ? project_find(ap->project, model) : -1;

		if (want != NULL && k >= 0 && strcmp(want, ap->project->models[k]->content_hash) == 0)
			continue;
		if (changed == NULL)
			changed = json_object_new_array();
		json_object_array_add(changed, json_object_new_string(model ? model : ""));
	}
	return changed;
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
	struct req *r = ap->r;
	char real[PATH_MAX];
	const char *stored = NULL;
	json_object *approved, *changed;
	int rc;

	rc = db_plan_model_hashes(&stored, r->db, r->arena, r->who.tenant_id, ap->plan_id);
	if (rc < 0)
		return rc;
	if (stored == NULL)
		return refuse(ap, "it was made before the content it approves was recorded", NULL);
	if ((rc = check_repo_path(ap, real)) != 0 || (rc = load_target(ap, real)) != 0)
		return rc;
	approved = api_json_parse(stored);
	if (approved == NULL || json_arena_own(r->arena, approved) < 0)
		return IL_ERR;
	changed = changed_models(ap, approved);
	if (changed == NULL)
		return 0;
	log_warn("apply %s: model content differs from the approved plan", ap->plan_id);
	return refuse(ap, arena_printf(r->arena, "what these models are at its target commit "
				       "differs from what was approved: %s",
				       joined(r->arena, changed)), changed);
}
