/*
 * paginate.c: follows NextToken the way botocore's PageIterator does, so
 * `certfleet list-certificates --max-items N` prints the same items and an
 * interchangeable resume token as `aws acm list-certificates --max-items N`.
 * When N falls inside a page, the token names that page's request token
 * and how many of its items were already shown; the next run fetches the
 * page again and skips them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/paginate.h"
#include "cli/request.h"
#include "common/base64.h"
#include "common/xmalloc.h"

/* Byte for byte what Python's json.dumps() gives botocore's encoder. */
char *
paginate_token_encode(const char *next_token, json_int_t truncate)
{
	_cleanup_free_ char *value = NULL, *text = NULL;
	json_t *s = next_token ? json_string(next_token) : json_null();

	value = json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	json_decref(s);
	if (truncate > 0)
		text = xasprintf("{\"NextToken\": %s, \"boto_truncate_amount\": "
				 "%" JSON_INTEGER_FORMAT "}",
		    value, truncate);
	else
		text = xasprintf("{\"NextToken\": %s}", value);
	return base64_encode(text, strlen(text));
}

void
paginate_token_decode(const char *token, char **next_token,
    json_int_t *truncate)
{
	_cleanup_free_ unsigned char *text = NULL;
	_cleanup_json_ json_t *t = NULL;
	json_t *nt, *amount;
	size_t len;

	*next_token = NULL;
	*truncate = 0;
	if (base64_decode(token, strlen(token), &text, &len) == 0)
		t = json_loadb((const char *)text, len, 0, NULL);
	nt = json_object_get(t, "NextToken");
	if (!json_is_object(t) || (nt && !json_is_string(nt) && !json_is_null(nt))) {
		*next_token = xstrdup(token);
		return;
	}
	if (json_is_string(nt))
		*next_token = xstrdup(json_string_value(nt));
	amount = json_object_get(t, "boto_truncate_amount");
	if (json_is_integer(amount) && json_integer_value(amount) > 0)
		*truncate = json_integer_value(amount);
}

/* The first request: the page size and the starting token applied. */
static json_t *
first_request(const struct paginator *pg, const json_t *request,
    const struct page_opts *opts, const char *token)
{
	json_t *req = json_deep_copy(request);

	if (opts->page_size > 0)
		json_object_set_new(req, pg->limit_key,
		    json_integer(opts->page_size));
	if (token)
		json_object_set_new(req, pg->input_token, json_string(token));
	return req;
}

int
paginate_once(const struct paginator *pg, const json_t *request,
    const struct page_opts *opts, page_call_fn call, void *ctx,
    json_t **result)
{
	_cleanup_free_ char *token = NULL;
	_cleanup_json_ json_t *req = NULL;
	json_int_t skip;

	if (opts->starting_token)
		paginate_token_decode(opts->starting_token, &token, &skip);
	req = first_request(pg, request, opts, token);
	if (opts->max_items > 0 && opts->page_size == 0)
		json_object_set_new(req, pg->limit_key,
		    json_integer(opts->max_items));
	return call(ctx, req, result);
}

/* The walk in progress. */
struct walk {
	const struct paginator *pg;
	const struct page_opts *opts;
	json_t *result;		/* merged response */
	json_t *items;		/* result->result_key */
	json_int_t total;	/* items kept so far */
	char *resume;		/* resume token, once the walk stops early */
};

/* Keeps this page's items; true when max_items is reached inside it. */
static bool
take_items(struct walk *w, json_t *page_items, json_int_t skip,
    const char *page_token)
{
	size_t n = json_array_size(page_items);
	json_int_t room = w->opts->max_items - w->total;

	for (size_t i = (size_t)skip; i < n; i++) {
		if (w->opts->max_items > 0 && room == 0) {
			w->resume = paginate_token_encode(page_token,
			    (json_int_t)i);
			return true;
		}
		json_array_append(w->items, json_array_get(page_items, i));
		w->total++;
		room--;
	}
	return false;
}

/* The first page's other members, as botocore's non_aggregate_part. */
static void
keep_first_page(struct walk *w, json_t *resp)
{
	const char *key;
	json_t *v;

	json_object_foreach(resp, key, v)
		if (strcmp(key, w->pg->result_key) != 0 &&
		    strcmp(key, w->pg->output_token) != 0)
			json_object_set(w->result, key, v);
}

static int
walk_pages(struct walk *w, json_t *req, const char *start_token,
    json_int_t skip, page_call_fn call, void *ctx, char **reterr_msg)
{
	_cleanup_free_ char *token = start_token ? xstrdup(start_token) : NULL;
	_cleanup_free_ char *previous = NULL;

	for (bool first = true;; first = false) {
		_cleanup_json_ json_t *resp = NULL;
		json_t *nt;
		int r;

		r = call(ctx, req, &resp);
		if (r < 0)
			return r;
		if (first)
			keep_first_page(w, resp);
		if (take_items(w, json_object_get(resp, w->pg->result_key),
			first ? skip : 0, token))
			return 0;
		nt = json_object_get(resp, w->pg->output_token);
		if (!json_is_string(nt) || json_string_length(nt) == 0)
			return 0;
		if (w->opts->max_items > 0 && w->total == w->opts->max_items) {
			w->resume = paginate_token_encode(json_string_value(nt),
			    0);
			return 0;
		}
		if (previous && strcmp(previous, json_string_value(nt)) == 0) {
			*reterr_msg = xasprintf("The same next token was "
						"received twice: %s",
			    previous);
			return -EPROTO;
		}
		free(previous);
		previous = xstrdup(json_string_value(nt));
		free(token);
		token = xstrdup(previous);
		json_object_set_new(req, w->pg->input_token,
		    json_string(token));
	}
}

int
paginate_run(const struct paginator *pg, const json_t *request,
    const struct page_opts *opts, page_call_fn call, void *ctx,
    json_t **result, char **reterr_msg)
{
	struct walk w = { .pg = pg, .opts = opts };
	_cleanup_free_ char *token = NULL;
	_cleanup_json_ json_t *req = NULL;
	json_int_t skip = 0;
	int r;

	if (opts->starting_token)
		paginate_token_decode(opts->starting_token, &token, &skip);
	req = first_request(pg, request, opts, token);
	w.result = json_object();
	w.items = json_array();
	json_object_set(w.result, pg->result_key, w.items);
	r = walk_pages(&w, req, token, skip, call, ctx, reterr_msg);
	json_decref(w.items);
	if (r < 0) {
		json_decref(w.result);
		free(w.resume);
		return r;
	}
	if (w.resume)
		json_object_set_new(w.result, "NextToken",
		    json_string(w.resume));
	free(w.resume);
	*result = w.result;
	return 0;
}
