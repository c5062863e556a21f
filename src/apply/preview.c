/* preview.c: the statements apply would send for a plan, sending none */
#include <string.h>

#include "apply/apply_int.h"
#include "core/model.h"
#include "db/db.h"
#include "util/arena.h"
#include "util/error.h"

/*
 * The statements of one step through the same functions apply uses
 * (apply_step_prepare, then exec_step_statements), or why it cannot run.
 */
static int step_statements(struct apply_preview_step *o, struct apply *ap, const struct step *s)
{
	struct exec_step e;
	struct step_sql p;
	const char *why = ap->project == NULL ?
		"cannot read the models at the plan's target commit" :
		apply_step_prepare(&e, ap, s);
	int rc = 0;

	if (why == NULL) {
		o->prepared = 1;
		o->materialization = materialization_name(e.materialization);
		o->target = apply_qualified(ap, s->model);
		rc = exec_step_statements(&p, &why, ap->c->arena, ap->env.executor, &e);
		if (rc == 0 && why == NULL) {
			const char **sql = arena_calloc(ap->c->arena, (size_t)p.n + 1,
							sizeof(*sql));

			if (sql == NULL)
				return IL_ENOMEM;
			memcpy(sql, p.sql, (size_t)p.n * sizeof(*sql));
			o->sql = sql;
			o->n = p.n;
		}
	}
	o->error = why;
	return rc == IL_ENOMEM ? rc : 0;
}

static int preview_steps(struct apply_preview *pv, struct apply *ap)
{
	json_object *steps = json_object_object_get(ap->doc, "steps");
	size_t i, n = json_object_array_length(steps);
	int rc = 0;

	pv->environment = ap->env.name;
	pv->executor = ap->env.executor;
	if ((pv->steps = arena_calloc(ap->c->arena, n + 1, sizeof(*pv->steps))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		struct apply_preview_step *o = &pv->steps[i];
		struct step s;

		apply_read_step(&s, json_object_array_get_idx(steps, i));
		o->step_id = s.id;
		o->model = s.model;
		o->run_type = s.run_type;
		o->start = s.start;
		o->end = s.end;
		rc = step_statements(o, ap, &s);
		pv->n = i + 1;
	}
	return rc;
}

int apply_preview(struct apply_outcome *out, struct apply_preview *pv,
		  const struct apply_ctx *c, const char *plan_id)
{
	struct apply ap;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(pv, 0, sizeof(*pv));
	memset(&ap, 0, sizeof(ap));
	ap.c = c;
	ap.out = out;
	ap.plan_id = plan_id;
	rc = db_plan_load(&ap.plan, c->db, c->arena, c->tenant_id, plan_id, 0);
	if (rc == IL_ENOTFOUND) {
		apply_refuse(&ap, APPLY_NOT_FOUND, "not_found", "plan %s not found", plan_id);
		return 0;
	}
	if (rc < 0 || (rc = apply_check_environment(&ap)) != 0)
		return rc > 0 ? 0 : rc;
	if ((ap.doc = apply_json_parse(&ap, ap.plan.plan_text)) == NULL)
		return IL_ERR;
	/* the models apply would run: the approved content, read back and checked */
	if ((rc = apply_verify_content(&ap)) != 0)
		return rc > 0 ? 0 : rc;
	return preview_steps(pv, &ap);
}
