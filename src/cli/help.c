/*
 * help.c: help texts generated from the command table, so a new entry is
 * documented by its doc strings alone. Layout follows `aws help` loosely:
 * synopsis first, then every option with its type and doc line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/help.h"
#include "cli/request.h"
#include "common/xmalloc.h"

static const char *const global_options[][2] = {
	{ "--socket PATH", "Control socket of certfleetd (default: "
			   "$CERTFLEET_SOCKET, else /run/certfleet/control.sock)." },
	{ "--output json|text|table", "Output format (default: json)." },
	{ "--no-paginate", "Send one request; do not follow NextToken." },
	{ "--cli-binary-format base64|raw-in-base64-out",
	    "How blob values other than fileb:// are read (default: base64)." },
	{ "--cli-connect-timeout N", "Seconds to wait to connect; 0: forever "
				     "(default: 60)." },
	{ "--cli-read-timeout N", "Seconds to wait for the answer; 0: forever "
				  "(default: 60)." },
	{ "--debug", "Log each request's target and size to stderr." },
	{ "--version", "Print the version and exit." },
	{ "--help", "Print this help and exit." },
};

void
help_command_list(FILE *f)
{
	for (const struct cli_command *c = cli_commands; c->action; c++) {
		_cleanup_free_ char *n = cli_command_name(c);

		fprintf(f, "  %-32s %s\n", n, c->doc);
	}
}

void
help_main(FILE *f)
{
	fputs("usage: certfleet [options] <command> [parameters]\n\n"
	      "certfleet manages the certificates of certfleetd with the "
	      "commands, options\nand output of `aws acm`.\n\nCommands:\n",
	    f);
	help_command_list(f);
	fputs("\nGlobal options (before or after the command):\n", f);
	for (size_t i = 0; i < ELEMENTSOF(global_options); i++)
		fprintf(f, "  %s\n      %s\n", global_options[i][0],
		    global_options[i][1]);
	fputs("\nValues: file://PATH reads text, fileb://PATH reads bytes; "
	      "structures take\nshorthand (Key=k,Value=v) or JSON. "
	      "Run `certfleet <command> help` for its options.\n"
	      "Exit status: 0 ok, 252 usage error, 254 service error, 255 "
	      "other errors.\n",
	    f);
}

static const char *
opt_type(const struct cli_opt *o)
{
	switch (o->kind) {
	case OPT_MEMBER:
		if (o->member->shape->type == SHAPE_LIST)
			return o->member->shape->member->type == SHAPE_STRUCT ?
			    "list of structures" :
			    "list";
		return shape_type_name(o->member->shape->type);
	case OPT_MEMBER_OFF:
		return "boolean";
	case OPT_SKELETON:
		return "flag";
	case OPT_PAGE_SIZE:
	case OPT_MAX_ITEMS:
		return "integer";
	default:
		return "string";
	}
}

static const char *
opt_doc(const struct cli_opt *o)
{
	switch (o->kind) {
	case OPT_MEMBER:
	case OPT_MEMBER_OFF:
		return o->member->doc ? o->member->doc : "";
	case OPT_CLI_INPUT_JSON:
		return "The whole request as JSON text or file://PATH; options "
		       "given too override it.";
	case OPT_SKELETON:
		return "Print a JSON skeleton of the request and exit.";
	case OPT_STARTING_TOKEN:
		return "Resume from the NextToken a previous run printed.";
	case OPT_PAGE_SIZE:
		return "Items asked for per request (the MaxItems member).";
	case OPT_MAX_ITEMS:
		return "Print at most this many items, then a NextToken.";
	}
	return "";
}

static void
synopsis(FILE *f, const struct cli_opt *o)
{
	bool required = o->kind == OPT_MEMBER && o->member->required;
	bool flag = o->kind == OPT_MEMBER_OFF ||
	    (o->kind == OPT_MEMBER && o->member->shape->type == SHAPE_BOOLEAN) ||
	    o->kind == OPT_SKELETON;
	bool list = o->kind == OPT_MEMBER &&
	    o->member->shape->type == SHAPE_LIST;

	fprintf(f, "    %s--%s%s%s\n", required ? "" : "[", o->name,
	    flag ? "" : list ? " <value> [<value> ...]" : " <value>",
	    required ? "" : "]");
}

void
help_command(FILE *f, const struct cli_command *cmd)
{
	_cleanup_free_ char *name = cli_command_name(cmd);
	struct cli_opt *opts;
	size_t n = request_options(cmd, &opts);

	fprintf(f, "NAME\n    %s - %s\n\nTARGET\n    %s.%s\n\nSYNOPSIS\n"
		   "    certfleet %s\n",
	    name, cmd->doc, cmd->prefix, cmd->action, name);
	for (size_t i = 0; i < n; i++)
		synopsis(f, &opts[i]);
	fputs("\nOPTIONS\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "    --%s (%s)%s\n        %s\n\n", opts[i].name,
		    opt_type(&opts[i]),
		    opts[i].kind == OPT_MEMBER && opts[i].member->required ?
			" required" :
			"",
		    opt_doc(&opts[i]));
	fputs("Global options (--socket, --output, ...): certfleet help\n", f);
	request_options_free(opts, n);
}

void
help_usage_error(FILE *f, const char *fmt, ...)
{
	va_list ap;

	fputs("usage: certfleet [options] <command> [parameters]\n"
	      "To see help text, you can run:\n\n"
	      "  certfleet help\n"
	      "  certfleet <command> help\n\n"
	      "certfleet: error: ",
	    f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}
