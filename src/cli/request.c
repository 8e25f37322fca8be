/*
 * request.c: parses a subcommand's words the way the AWS CLI's argparse
 * setup does (nargs '+' for lists, the last of a repeated option wins,
 * required options checked before values are read, unknown words collected
 * and reported together), then turns each option into its request member.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/request.h"
#include "common/xmalloc.h"

/* A member hidden behind the paging options, as the AWS CLI hides them. */
static bool
member_hidden(const struct cli_command *cmd, const struct shape_member *m)
{
	const struct paginator *p = cmd->paginator;

	return p && (strcmp(m->name, p->input_token) == 0 ||
			strcmp(m->name, p->limit_key) == 0);
}

static void
opt_add(struct cli_opt *opts, size_t *n, char *name, enum opt_kind kind,
    const struct shape_member *m)
{
	opts[*n].name = name;
	opts[*n].kind = kind;
	opts[*n].member = m;
	(*n)++;
}

size_t
request_options(const struct cli_command *cmd, struct cli_opt **ret)
{
	size_t n = 0, cap = 8;
	struct cli_opt *opts;

	for (const struct shape_member *m = cmd->options; m->name; m++)
		cap += 2;
	opts = xcalloc(cap, sizeof(*opts));
	for (const struct shape_member *m = cmd->options; m->name; m++) {
		_cleanup_free_ char *k = NULL;

		if (member_hidden(cmd, m))
			continue;
		k = args_kebab(m->name);
		if (m->shape->type == SHAPE_BOOLEAN)
			opt_add(opts, &n, xasprintf("no-%s", k), OPT_MEMBER_OFF,
			    m);
		opt_add(opts, &n, TAKE_PTR(k), OPT_MEMBER, m);
	}
	opt_add(opts, &n, xstrdup("cli-input-json"), OPT_CLI_INPUT_JSON, NULL);
	if (cmd->paginator) {
		opt_add(opts, &n, xstrdup("starting-token"), OPT_STARTING_TOKEN,
		    NULL);
		opt_add(opts, &n, xstrdup("page-size"), OPT_PAGE_SIZE, NULL);
		opt_add(opts, &n, xstrdup("max-items"), OPT_MAX_ITEMS, NULL);
	}
	opt_add(opts, &n, xstrdup("generate-cli-skeleton"), OPT_SKELETON,
	    NULL);
	*ret = opts;
	return n;
}

void
request_options_free(struct cli_opt *opts, size_t n)
{
	for (size_t i = 0; opts && i < n; i++)
		free(opts[i].name);
	free(opts);
}

void
request_clear(struct request *req)
{
	json_decref(req->body);
	memset(req, 0, sizeof(*req));
}

/* An option as given: which one, and the words that followed it. */
struct given {
	const struct cli_opt *opt;
	const char **words;
	size_t n;
};

/* The parse in progress. */
struct parse {
	const struct cli_command *cmd;
	struct cli_opt *opts;
	size_t nopts;
	struct given *given;
	size_t ngiven;
	FILE *unknown;		/* unknown words, ", "-separated */
	bool any_unknown;
};

static const struct cli_opt *
opt_find(const struct parse *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->nopts; i++)
		if (strlen(p->opts[i].name) == len &&
		    strncmp(p->opts[i].name, name, len) == 0)
			return &p->opts[i];
	return NULL;
}

static bool
is_option(const char *w)
{
	return strncmp(w, "--", 2) == 0;
}

static void
unknown_add(struct parse *p, const char *w)
{
	fprintf(p->unknown, "%s%s", p->any_unknown ? ", " : "", w);
	p->any_unknown = true;
}

static bool
takes_list(const struct cli_opt *o)
{
	return o->kind == OPT_MEMBER && o->member->shape->type == SHAPE_LIST;
}

static bool
takes_no_value(const struct cli_opt *o)
{
	return o->kind == OPT_MEMBER_OFF ||
	    (o->kind == OPT_MEMBER && o->member->shape->type == SHAPE_BOOLEAN);
}

/* Consumes the values of the option at argv[*i]; returns -EINVAL on error. */
static int
take_values(struct parse *p, const struct cli_opt *o, const char *eq,
    int argc, const char *const *argv, int *i, char **reterr_msg)
{
	struct given *g = &p->given[p->ngiven++];

	g->opt = o;
	g->words = xcalloc((size_t)argc + 1, sizeof(char *));
	if (takes_no_value(o)) {
		if (eq == NULL)
			return 0;
		*reterr_msg = xasprintf("argument --%s: ignored explicit "
					"argument '%s'",
		    o->name, eq);
		return -EINVAL;
	}
	if (eq) {
		g->words[g->n++] = eq;
		return 0;
	}
	if (o->kind == OPT_SKELETON) {
		if (*i + 1 < argc && strcmp(argv[*i + 1], "input") == 0)
			(*i)++;
		return 0;
	}
	while (*i + 1 < argc && !is_option(argv[*i + 1])) {
		g->words[g->n++] = argv[++(*i)];
		if (!takes_list(o))
			break;
	}
	if (g->n > 0)
		return 0;
	*reterr_msg = xasprintf("argument --%s: expected %s argument", o->name,
	    takes_list(o) ? "at least one" : "one");
	return -EINVAL;
}

static int
scan(struct parse *p, int argc, const char *const *argv, struct request *req,
    char **reterr_msg)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		const struct cli_opt *o;
		int r;

		if ((i == 0 && strcmp(a, "help") == 0) ||
		    strcmp(a, "--help") == 0) {
			req->help = true;
			return 0;
		}
		if (!is_option(a)) {
			unknown_add(p, a);
			continue;
		}
		eq = strchr(a, '=');
		o = opt_find(p, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (o == NULL) {
			unknown_add(p, a);
			while (i + 1 < argc && !is_option(argv[i + 1]))
				unknown_add(p, argv[++i]);
			continue;
		}
		r = take_values(p, o, eq ? eq + 1 : NULL, argc, argv, &i,
		    reterr_msg);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct given *
given_find(const struct parse *p, enum opt_kind kind,
    const struct shape_member *m)
{
	const struct given *last = NULL;

	for (size_t i = 0; i < p->ngiven; i++)
		if (p->given[i].opt->kind == kind && p->given[i].opt->member == m)
			last = &p->given[i];
	return last;
}

static int
check_required(const struct parse *p, char **reterr_msg)
{
	_cleanup_free_ char *list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);

	/* The JSON input may hold them; validation then checks. */
	if (given_find(p, OPT_CLI_INPUT_JSON, NULL) ||
	    given_find(p, OPT_SKELETON, NULL)) {
		if (f)
			fclose(f);
		return 0;
	}
	if (f == NULL)
		return -errno;
	for (const struct shape_member *m = p->cmd->options; m->name; m++) {
		_cleanup_free_ char *k = NULL;

		if (!m->required || member_hidden(p->cmd, m) ||
		    given_find(p, OPT_MEMBER, m) || given_find(p, OPT_MEMBER_OFF, m))
			continue;
		k = args_kebab(m->name);
		fprintf(f, "%s--%s", len ? ", " : "", k);
		fflush(f);
	}
	fclose(f);
	if (len == 0)
		return 0;
	*reterr_msg = xasprintf("the following arguments are required: %s",
	    list);
	return -EINVAL;
}

static int
paging_value(const struct given *g, json_int_t *ret, char **reterr_msg)
{
	if (args_parse_integer(g->words[0], ret) < 0 || *ret <= 0) {
		*reterr_msg = xasprintf("argument --%s: invalid int value: "
					"'%s'",
		    g->opt->name, g->words[0]);
		return -EINVAL;
	}
	return 0;
}

static int
input_json(const struct given *g, json_t **body, char **reterr_msg)
{
	const char *text = g->words[0];
	char *file = NULL;
	size_t len = 0;
	bool binary;
	json_error_t e;
	json_t *v;
	int r;

	r = args_paramfile(text, &file, &len, &binary, reterr_msg);
	if (r < 0)
		return -EBADMSG;
	v = json_loadb(file ? file : text, file ? len : strlen(text), 0, &e);
	secret_free(file, len);
	/* The input may carry a key: keep jansson's quote of it out. */
	if (strstr(e.text, " near '"))
		*strstr(e.text, " near '") = '\0';
	if (!json_is_object(v)) {
		json_decref(v);
		*reterr_msg = xasprintf("Error parsing parameter "
					"'--cli-input-json': Invalid JSON "
					"received: %s (line %d, column %d)",
		    v ? "not a JSON object" : e.text, e.line, e.column);
		return -EBADMSG;
	}
	json_decref(*body);
	*body = v;
	return 0;
}

/* Sets one given option into the request. */
static int
apply(const struct given *g, enum binary_format bf, struct request *req,
    char **reterr_msg)
{
	_cleanup_free_ char *err = NULL;
	json_t *v = NULL;
	int r;

	switch (g->opt->kind) {
	case OPT_MEMBER_OFF:
		json_object_set_new(req->body, g->opt->member->name,
		    json_false());
		return 0;
	case OPT_MEMBER:
		if (g->opt->member->shape->type == SHAPE_BOOLEAN) {
			json_object_set_new(req->body, g->opt->member->name,
			    json_true());
			return 0;
		}
		r = args_value(g->opt->member->shape, g->words, g->n, bf, &v,
		    &err);
		if (r < 0) {
			*reterr_msg = xasprintf("Error parsing parameter "
						"'--%s': %s",
			    g->opt->name, err);
			return -EBADMSG;
		}
		json_object_set_new(req->body, g->opt->member->name, v);
		return 0;
	case OPT_STARTING_TOKEN:
		req->page.starting_token = g->words[0];
		return 0;
	case OPT_PAGE_SIZE:
		return paging_value(g, &req->page.page_size, reterr_msg);
	case OPT_MAX_ITEMS:
		return paging_value(g, &req->page.max_items, reterr_msg);
	case OPT_SKELETON:
		req->skeleton = true;
		return 0;
	case OPT_CLI_INPUT_JSON:
		return 0;
	}
	return 0;
}

static int
build(struct parse *p, enum binary_format bf, struct request *req,
    char **reterr_msg)
{
	const struct given *input = given_find(p, OPT_CLI_INPUT_JSON, NULL);
	int r;

	req->body = json_object();
	r = check_required(p, reterr_msg);
	if (r < 0)
		return r;
	if (input) {
		r = input_json(input, &req->body, reterr_msg);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->ngiven; i++) {
		r = apply(&p->given[i], bf, req, reterr_msg);
		if (r < 0)
			return r;
	}
	if (req->skeleton)
		return 0;
	r = args_validate(req->body, p->cmd->options, reterr_msg);
	return r < 0 ? -EBADMSG : 0;
}

int
request_build(const struct cli_command *cmd, int argc,
    const char *const *argv, enum binary_format bf, struct request *req,
    char **reterr_msg)
{
	struct parse p = { .cmd = cmd };
	_cleanup_free_ char *unknown = NULL;
	size_t ulen = 0;
	int r;

	memset(req, 0, sizeof(*req));
	p.nopts = request_options(cmd, &p.opts);
	p.given = xcalloc((size_t)argc + 1, sizeof(*p.given));
	p.unknown = open_memstream(&unknown, &ulen);
	if (p.unknown == NULL)
		r = -errno;
	else
		r = scan(&p, argc, argv, req, reterr_msg);
	if (p.unknown)
		fclose(p.unknown);
	if (r == 0 && !req->help) {
		/* argparse reports missing options before unknown ones. */
		if (p.any_unknown && check_required(&p, reterr_msg) == 0) {
			*reterr_msg = xasprintf("Unknown options: %s", unknown);
			r = -EINVAL;
		} else if (p.any_unknown)
			r = -EINVAL;
		else
			r = build(&p, bf, req, reterr_msg);
	}
	for (size_t i = 0; i < p.ngiven; i++)
		free(p.given[i].words);
	free(p.given);
	request_options_free(p.opts, p.nopts);
	if (r < 0)
		request_clear(req);
	return r;
}
