/* prompt.c (advise): the advisory prompt for an LLM, and validation of its reply */
#include <string.h>

#include "advise/advise.h"
#include "core/model.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/strbuf.h"

const char *advise_system_prompt(void)
{
	return "You review SQL transformation plans for IronLayer. You get an execution "
	       "plan, each changed model's SQL diff (literals are replaced by ?, comments "
	       "removed) and findings from deterministic heuristics. Reply with one JSON "
	       "object only, no prose around it: {\"summary\": string, \"risk_notes\": "
	       "[{\"model\": string, \"note\": string}], \"optimizations\": [{\"model\": "
	       "string, \"suggestion\": string}]}. Only name models that are in the plan. "
	       "Keep every note under 500 characters.";
}

static const struct model *model_at(const struct project *p, const char *name)
{
	int i = p ? project_find(p, name) : -1;

	return i >= 0 ? p->models[i] : NULL;
}

/* The redacted diff of one changed model, or nothing for an unchanged one. */
static void add_diff(struct strbuf *sb, struct arena *a, const struct advise_input *in,
		     const char *name)
{
	const struct model *b = model_at(in->base, name), *t = model_at(in->target, name);
	const char *old_sql = "", *new_sql;
	struct strbuf d;

	if (t == NULL)
		return;
	if (b != NULL && b->body_len == t->body_len && memcmp(b->body, t->body, b->body_len) == 0)
		return;
	new_sql = advise_redact_sql(a, t->body, t->body_len);
	if (b != NULL)
		old_sql = advise_redact_sql(a, b->body, b->body_len);
	strbuf_addf(sb, "\n### %s (%s)\n", name, b ? "modified" : "added");
	if (new_sql == NULL || old_sql == NULL) {
		strbuf_adds(sb, "(SQL left out: it could not be read)\n");
		return;
	}
	strbuf_init(&d, a, ADVISE_MAX_PROMPT);
	advise_line_diff(&d, a, old_sql, new_sql, ADVISE_MAX_DIFF_LINES);
	strbuf_adds(sb, "```diff\n");
	strbuf_adds(sb, strbuf_cstr(&d) ? strbuf_cstr(&d) : "(diff too large)\n");
	strbuf_adds(sb, "```\n");
}

/* One step's heuristics without its id (ids say nothing to a reviewer). */
static void add_findings(struct strbuf *sb, json_object *step)
{
	static const char *const keys[] = { "cost", "risk", "suggestions" };
	json_object *v;
	size_t k;

	if (!json_object_object_get_ex(step, "model", &v))
		return;
	strbuf_addf(sb, "- %s:", json_object_get_string(v));
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (json_object_object_get_ex(step, keys[k], &v))
			strbuf_addf(sb, " %s %s", keys[k],
				    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	strbuf_addc(sb, '\n');
}

const char *advise_prompt(struct arena *a, const struct advise_input *in,
			  json_object *advisory)
{
	struct strbuf sb;
	json_object *steps = NULL, *summary = NULL;
	size_t i;

	json_object_object_get_ex(advisory, "steps", &steps);
	json_object_object_get_ex(advisory, "summary", &summary);
	strbuf_init(&sb, a, ADVISE_MAX_PROMPT);
	strbuf_addf(&sb, "Execution plan for environment %s, %zu steps in order:\n",
		    in->environment ? in->environment : "dev", in->n_steps);
	for (i = 0; i < in->n_steps; i++)
		strbuf_addf(&sb, "%zu. %s (%s)\n", i + 1, in->steps[i].model,
			    in->steps[i].full_refresh ? "full refresh" : "incremental");
	strbuf_adds(&sb, "\n## Heuristic summary\n");
	strbuf_adds(&sb, json_object_to_json_string_ext(summary, JSON_C_TO_STRING_PLAIN));
	strbuf_adds(&sb, "\n\n## Heuristic findings per step\n");
	for (i = 0; i < json_object_array_length(steps); i++)
		add_findings(&sb, json_object_array_get_idx(steps, i));
	strbuf_adds(&sb, "\n## SQL changes\n");
	for (i = 0; i < in->n_steps; i++)
		add_diff(&sb, a, in, in->steps[i].model);
	strbuf_adds(&sb, "\nReply with the JSON object described in your instructions.\n");
	if (strbuf_cstr(&sb) == NULL)
		return NULL;
	return advise_redact_text(a, strbuf_cstr(&sb));
}

/* The JSON object inside a reply: bare, or in a ``` fence, or amid prose. */
static json_object *reply_object(const char *text)
{
	const char *open = strchr(text, '{'), *close = strrchr(text, '}');
	json_tokener *tok;
	json_object *o;

	if (open == NULL || close == NULL || close < open)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, open, (int)(close - open + 1));
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
			  json_tokener_get_parse_end(tok) != (size_t)(close - open + 1) ||
			  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* A string cut at max bytes without splitting a UTF-8 sequence. */
static json_object *bounded(json_object *s, size_t max)
{
	const char *p = json_object_get_string(s);
	size_t n = strlen(p);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	return json_object_new_string_len(p, (int)n);
}

static int in_plan(const struct advise_input *in, const char *model)
{
	size_t i;

	for (i = 0; i < in->n_steps; i++)
		if (strcmp(in->steps[i].model, model) == 0)
			return 1;
	return 0;
}

/* Keeps the {model, text_key} entries of list that name plan models. */
static json_object *entries(json_object *list, const char *text_key,
			    const struct advise_input *in, int *dropped)
{
	json_object *out = json_object_new_array(), *e, *m, *t, *kept;
	size_t i, n = json_object_is_type(list, json_type_array) ?
		json_object_array_length(list) : 0;

	if (list != NULL && !json_object_is_type(list, json_type_array))
		(*dropped)++;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(list, i);
		if (json_object_array_length(out) >= ADVISE_MAX_REPLY_ITEMS ||
		    !json_object_object_get_ex(e, "model", &m) ||
		    !json_object_object_get_ex(e, text_key, &t) ||
		    !json_object_is_type(m, json_type_string) ||
		    !json_object_is_type(t, json_type_string) ||
		    !in_plan(in, json_object_get_string(m))) {
			(*dropped)++;
			continue;
		}
		kept = json_object_new_object();
		json_object_object_add(kept, "model",
				       json_object_new_string(json_object_get_string(m)));
		json_object_object_add(kept, text_key, bounded(t, ADVISE_MAX_NOTE));
		json_object_array_add(out, kept);
	}
	return out;
}

int advise_reply_validate(json_object **out, const char **why, const char *text,
			  const struct advise_input *in)
{
	json_object *o, *summary, *notes = NULL, *opts = NULL, *res;
	int dropped = 0;

	*out = NULL;
	*why = NULL;
	if (text == NULL || (o = reply_object(text)) == NULL) {
		*why = "the reply is not a JSON object";
		return -1;
	}
	if (!json_object_object_get_ex(o, "summary", &summary) ||
	    !json_object_is_type(summary, json_type_string)) {
		json_object_put(o);
		*why = "the reply has no summary";
		return -1;
	}
	json_object_object_get_ex(o, "risk_notes", &notes);
	json_object_object_get_ex(o, "optimizations", &opts);
	res = json_object_new_object();
	json_object_object_add(res, "summary", bounded(summary, ADVISE_MAX_SUMMARY));
	json_object_object_add(res, "risk_notes", entries(notes, "note", in, &dropped));
	json_object_object_add(res, "optimizations", entries(opts, "suggestion", in, &dropped));
	json_object_object_add(res, "dropped_items", json_object_new_int(dropped));
	json_object_put(o);
	*out = res;
	return 0;
}
