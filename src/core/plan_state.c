/* plan_state.c: the --state JSON file (watermarks, run history) */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/date.h"
#include "core/plan.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/json.h"
#include "util/limits.h"

static int only_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static int parse_watermarks(struct plan_inputs *in, struct arena *a,
			    struct json_object *obj, const char **err)
{
	struct plan_watermark *w;
	size_t n = 0;
	long day;

	if (!json_object_is_type(obj, json_type_object))
		goto bad;
	w = arena_calloc(a, (size_t)json_object_object_length(obj) + 1,
			 sizeof(*w));
	if (w == NULL)
		return IL_ENOMEM;
	json_object_object_foreach(obj, key, val) {
		const char *end = json_object_get_string(val);

		if (!json_object_is_type(val, json_type_string) ||
		    date_parse(end, &day) < 0)
			goto bad;
		w[n].model = arena_strdup(a, key);
		w[n].end = arena_strdup(a, end);
		if (!w[n].model || !w[n].end)
			return IL_ENOMEM;
		n++;
	}
	in->watermarks = w;
	in->n_watermarks = n;
	return 0;
bad:
	*err = "state: \"watermarks\" must map model names to YYYY-MM-DD dates";
	return IL_EINVALID;
}

static int parse_seconds(struct plan_runtimes *r, struct arena *a,
			 struct json_object *arr)
{
	size_t i, n = json_object_array_length(arr);
	double *v;

	if (n > IL_MAX_RUNTIMES)
		return IL_EINVALID;
	v = arena_calloc(a, n + 1, sizeof(*v));
	if (v == NULL)
		return IL_ENOMEM;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_double) &&
		    !json_object_is_type(e, json_type_int))
			return IL_EINVALID;
		v[i] = json_object_get_double(e);
		if (!isfinite(v[i]) || v[i] < 0 || v[i] > 1e9)
			return IL_EINVALID;
	}
	r->seconds = v;
	r->n = n;
	return 0;
}

static int parse_history(struct plan_inputs *in, struct arena *a,
			 struct json_object *obj, const char **err)
{
	struct plan_runtimes *r;
	size_t n = 0;
	int rc;

	if (!json_object_is_type(obj, json_type_object))
		goto bad;
	r = arena_calloc(a, (size_t)json_object_object_length(obj) + 1,
			 sizeof(*r));
	if (r == NULL)
		return IL_ENOMEM;
	json_object_object_foreach(obj, key, val) {
		if (!json_object_is_type(val, json_type_array))
			goto bad;
		if ((rc = parse_seconds(&r[n], a, val)) == IL_ENOMEM)
			return rc;
		if (rc < 0)
			goto bad;
		if ((r[n].model = arena_strdup(a, key)) == NULL)
			return IL_ENOMEM;
		n++;
	}
	in->runtimes = r;
	in->n_runtimes = n;
	return 0;
bad:
	*err = "state: \"run_history\" must map model names to arrays of up "
	       "to 1000 runtimes in seconds (0 to 1e9)";
	return IL_EINVALID;
}

int plan_state_parse(struct plan_inputs *in, struct arena *a,
		     const char *text, size_t len, const char **err)
{
	struct json_tokener *tok;
	struct json_object *root;
	int rc = 0;

	*err = NULL;
	if (len > IL_MAX_STATE_FILE || len > (size_t)INT32_MAX) {
		*err = "state: file too large";
		return IL_EINVALID;
	}
	if ((tok = json_tokener_new()) == NULL)
		return IL_ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root && !only_space(text + tok->char_offset,
				len - (size_t)tok->char_offset))
		rc = IL_EINVALID;
	json_tokener_free(tok);
	if (root == NULL || rc < 0 || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		*err = "state: not a JSON object";
		return IL_EINVALID;
	}
	if (json_arena_own(a, root) < 0)
		return IL_ENOMEM;
	json_object_object_foreach(root, key, val) {
		if (strcmp(key, "watermarks") == 0)
			rc = parse_watermarks(in, a, val, err);
		else if (strcmp(key, "run_history") == 0)
			rc = parse_history(in, a, val, err);
		else {
			*err = "state: only \"watermarks\" and \"run_history\" "
			       "are allowed";
			rc = IL_EINVALID;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}
