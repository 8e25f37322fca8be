/*
 * main.c: the certfleet command. Global options may stand anywhere, as with
 * aws; the first other word picks the table entry, the rest become its
 * request. Exit statuses are the AWS CLI's: 0 done, 252 usage or parameter
 * error, 254 the service refused, 255 anything else (socket unreachable,
 * unreadable answer).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cli/commands.h"
#include "cli/help.h"
#include "cli/output.h"
#include "cli/paginate.h"
#include "cli/request.h"
#include "cli/transport.h"
#include "common/log.h"
#include "common/xmalloc.h"

enum {
	EXIT_USAGE = 252,
	EXIT_SERVICE = 254,
	EXIT_OTHER = 255,
};

struct globals {
	struct transport transport;
	enum output_format output;
	enum binary_format binary;
	bool no_paginate;
	bool debug;
	bool help;
	bool version;
	int argc;		/* the words that are not global options */
	const char **argv;
};

/* What a page call needs, and what it leaves behind when it fails. */
struct call_ctx {
	const struct transport *transport;
	const struct cli_command *cmd;
	struct service_error err;
	char *msg;
};

/*
 * jansson's strings may hold a private key in base64 (import-certificate)
 * or an encrypted one (export-certificate): wipe every block it frees.
 */
static void
json_wiping_free(void *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, malloc_usable_size(p));
	free(p);
}

static int
usage(const char *msg)
{
	help_usage_error(stderr, "%s", msg);
	return EXIT_USAGE;
}

static int
global_value(int argc, char **argv, int *i, const char **ret)
{
	if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0)
		return -EINVAL;
	*ret = argv[++(*i)];
	return 0;
}

static int
global_seconds(const char *s, long *ret)
{
	json_int_t v;

	if (args_parse_integer(s, &v) < 0 || v < 0 || v > 86400)
		return -EINVAL;
	*ret = (long)v;
	return 0;
}

/* One global option at argv[*i]: 1 if it was one, 0 if not, <0 bad. */
static int
global_option(struct globals *g, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = NULL;
	int r;

	if (strcmp(a, "--debug") == 0)
		g->debug = true;
	else if (strcmp(a, "--no-paginate") == 0)
		g->no_paginate = true;
	else if (strcmp(a, "--version") == 0)
		g->version = true;
	else if (strcmp(a, "--help") == 0 && g->argc == 0)
		g->help = true;
	else if (strcmp(a, "--socket") == 0) {
		if (global_value(argc, argv, i, &g->transport.socket_path) < 0)
			return -EINVAL;
	} else if (strcmp(a, "--output") == 0) {
		if (global_value(argc, argv, i, &v) < 0)
			return -EINVAL;
		if ((r = output_format_from_string(v)) < 0)
			return -EINVAL;
		g->output = (enum output_format)r;
	} else if (strcmp(a, "--cli-binary-format") == 0) {
		if (global_value(argc, argv, i, &v) < 0)
			return -EINVAL;
		if (strcmp(v, "base64") == 0)
			g->binary = BINARY_BASE64;
		else if (strcmp(v, "raw-in-base64-out") == 0)
			g->binary = BINARY_RAW_IN_BASE64_OUT;
		else
			return -EINVAL;
	} else if (strcmp(a, "--cli-connect-timeout") == 0) {
		if (global_value(argc, argv, i, &v) < 0 ||
		    global_seconds(v, &g->transport.connect_timeout) < 0)
			return -EINVAL;
	} else if (strcmp(a, "--cli-read-timeout") == 0) {
		if (global_value(argc, argv, i, &v) < 0 ||
		    global_seconds(v, &g->transport.read_timeout) < 0)
			return -EINVAL;
	} else
		return 0;
	return 1;
}

/* What a global option accepts, for its usage error. */
static const char *
global_choices(const char *name)
{
	if (strcmp(name, "--output") == 0)
		return "json | text | table";
	if (strcmp(name, "--cli-binary-format") == 0)
		return "base64 | raw-in-base64-out";
	if (strcmp(name, "--socket") == 0)
		return "a path";
	return "seconds, 0 to 86400";
}

static int
parse_globals(struct globals *g, int argc, char **argv)
{
	const char *env = getenv("CERTFLEET_SOCKET");

	g->transport.socket_path = env && *env ? env : CERTFLEET_SOCKET_DEFAULT;
	g->transport.connect_timeout = 60;
	g->transport.read_timeout = 60;
	g->argv = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 1; i < argc; i++) {
		const char *name = argv[i];
		int r = global_option(g, argc, argv, &i);

		if (r < 0) {
			_cleanup_free_ char *m = xasprintf("argument %s: "
							   "expected one valid "
							   "argument (%s)",
			    name, global_choices(name));

			return usage(m);
		}
		if (r == 0)
			g->argv[g->argc++] = argv[i];
	}
	return 0;
}

static int
page_call(void *userdata, json_t *request, json_t **response)
{
	struct call_ctx *ctx = userdata;

	return transport_call(ctx->transport, ctx->cmd->prefix,
	    ctx->cmd->action, request, response, &ctx->err, &ctx->msg);
}

static int
send_request(const struct globals *g, const struct cli_command *cmd,
    const struct request *req, struct call_ctx *ctx, json_t **result)
{
	if (cmd->paginator && g->no_paginate)
		return paginate_once(cmd->paginator, req->body, &req->page,
		    page_call, ctx, result);
	if (cmd->paginator)
		return paginate_run(cmd->paginator, req->body, &req->page,
		    page_call, ctx, result, &ctx->msg);
	return page_call(ctx, req->body, result);
}

static int
terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static int
run(const struct globals *g, const struct cli_command *cmd)
{
	struct call_ctx ctx = { .transport = &g->transport, .cmd = cmd };
	_cleanup_json_ json_t *result = NULL;
	struct request req = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	r = request_build(cmd, g->argc - 1, g->argv + 1, g->binary, &req,
	    &err);
	if (r == -EINVAL)
		return usage(err);
	if (r < 0) {
		fprintf(stderr, "\n%s\n", err);
		return EXIT_USAGE;
	}
	if (req.help || req.skeleton) {
		if (req.help)
			help_command(stdout, cmd);
		else
			output_json(stdout, result = args_skeleton(cmd->options));
		request_clear(&req);
		return 0;
	}
	r = send_request(g, cmd, &req, &ctx, &result);
	request_clear(&req);
	if (r == -EREMOTEIO)
		fprintf(stderr, "\nAn error occurred (%s) when calling the %s "
				"operation: %s\n",
		    ctx.err.code, cmd->action, ctx.err.message);
	else if (r < 0)
		fprintf(stderr, "\n%s\n", ctx.msg ? ctx.msg : strerror(-r));
	service_error_clear(&ctx.err);
	free(ctx.msg);
	if (r < 0)
		return r == -EREMOTEIO ? EXIT_SERVICE : EXIT_OTHER;
	output_timestamps(result, cli_timestamp_members);
	output_print(stdout, result, g->output, cmd->action,
	    cmd->paginator && !g->no_paginate, terminal_width());
	return fflush(stdout) == 0 ? 0 : EXIT_OTHER;
}

static int
dispatch(struct globals *g)
{
	const struct cli_command *cmd;

	if (g->version) {
		printf("certfleet %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (g->help || (g->argc > 0 && strcmp(g->argv[0], "help") == 0)) {
		help_main(stdout);
		return 0;
	}
	if (g->argc == 0)
		return usage("the following arguments are required: command");
	cmd = cli_command_find(g->argv[0]);
	if (cmd == NULL) {
		help_usage_error(stderr, "argument command: Invalid choice "
					 "'%s', valid choices are:\n",
		    g->argv[0]);
		help_command_list(stderr);
		return EXIT_USAGE;
	}
	log_debug("command %s, socket %s", g->argv[0],
	    g->transport.socket_path);
	return run(g, cmd);
}

int
main(int argc, char **argv)
{
	struct globals g = { 0 };
	int status;

	json_set_alloc_funcs(malloc, json_wiping_free);
	log_open("certfleet");
	status = parse_globals(&g, argc, argv);
	if (status == 0) {
		log_set_level(g.debug ? LOG_DEBUG : LOG_WARNING);
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fputs("certfleet: could not initialise libcurl\n",
			    stderr);
			status = EXIT_OTHER;
		} else {
			status = dispatch(&g);
			curl_global_cleanup();
		}
	}
	free(g.argv);
	return status;
}
