/* contract.c: contract columns checked against a model's SELECT list */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/columns.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/plan_int.h"
#include "util/arena.h"
#include "util/error.h"

static int has_column(const struct str_list *cols, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < cols->n; i++)
		if (strlen(cols->items[i]) == n &&
		    strncasecmp(cols->items[i], name, n) == 0)
			return 1;
	return 0;
}

/* "name:TYPE[:NOT_NULL]" into a violation for a missing column. */
static int missing(struct plan_violation *v, struct arena *a,
		   const char *decl, size_t name_len, enum contract_mode mode)
{
	const char *type = decl + name_len + 1;
	const char *flag = strchr(type, ':');
	size_t type_len = flag ? (size_t)(flag - type) : strlen(type);

	v->column_name = arena_strndup(a, decl, name_len);
	v->expected = arena_printf(a, "%.*s%s", (int)type_len, type,
				   flag ? " NOT NULL" : "");
	v->message = arena_printf(a, "contract column '%.*s' is not in the "
				  "model's SELECT list", (int)name_len, decl);
	v->severity = mode == CONTRACT_STRICT ? "BREAKING" : "WARNING";
	v->violation_type = "COLUMN_MISSING";
	return v->column_name && v->expected && v->message ? 0 : IL_ENOMEM;
}

static int violation_cmp(const void *pa, const void *pb)
{
	const struct plan_violation *a = pa, *b = pb;

	return strcmp(a->column_name, b->column_name);
}

int plan__contract_check(struct plan_step *s, struct arena *a,
			 const struct model *m)
{
	struct str_list cols;
	size_t i;
	int known, rc;

	if (m->contract_mode == CONTRACT_DISABLED || m->contract_columns.n == 0)
		return 0;
	if ((rc = model_output_columns(&cols, &known, a, m)) < 0)
		return rc;
	if (!known)
		return 0;
	s->violations = arena_calloc(a, m->contract_columns.n,
				     sizeof(*s->violations));
	if (s->violations == NULL)
		return IL_ENOMEM;
	for (i = 0; i < m->contract_columns.n; i++) {
		const char *decl = m->contract_columns.items[i];
		size_t n = (size_t)(strchr(decl, ':') - decl);

		if (has_column(&cols, decl, n))
			continue;
		rc = missing(&s->violations[s->n_violations++], a, decl, n,
			     m->contract_mode);
		if (rc < 0)
			return rc;
	}
	if (s->n_violations > 1)
		qsort(s->violations, s->n_violations, sizeof(*s->violations),
		      violation_cmp);
	return 0;
}
