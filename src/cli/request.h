/*
 * request.h: a subcommand's argv to its request JSON. The options come
 * from the command table (one per request member, booleans as --x/--no-x),
 * plus the generic ones: --cli-input-json, --generate-cli-skeleton and, for
 * actions that page, --starting-token, --page-size and --max-items (which
 * replace the paging members, as in the AWS CLI).
 */
#ifndef CERTFLEET_CLI_REQUEST_H
#define CERTFLEET_CLI_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cli/args.h"

struct cli_command;

enum opt_kind {
	OPT_MEMBER,		/* --certificate-arn: a request member */
	OPT_MEMBER_OFF,		/* --no-x: a boolean member set false */
	OPT_CLI_INPUT_JSON,
	OPT_SKELETON,
	OPT_STARTING_TOKEN,
	OPT_PAGE_SIZE,
	OPT_MAX_ITEMS,
};

/* One option a subcommand accepts. */
struct cli_opt {
	char *name;			/* without the leading "--" */
	enum opt_kind kind;
	const struct shape_member *member;	/* OPT_MEMBER, OPT_MEMBER_OFF */
};

/* Paging the user asked for; zero values mean "not given". */
struct page_opts {
	json_int_t max_items;		/* stop after this many items */
	json_int_t page_size;		/* the limit member of each request */
	const char *starting_token;	/* a NextToken printed earlier */
};

struct request {
	json_t *body;		/* the request JSON object */
	struct page_opts page;
	bool help;		/* "help" or --help: print help, send nothing */
	bool skeleton;		/* --generate-cli-skeleton */
};

/* The options of cmd in help order; free with request_options_free(). */
size_t request_options(const struct cli_command *cmd, struct cli_opt **ret);
void request_options_free(struct cli_opt *opts, size_t n);

/*
 * Parses argv (the words after the subcommand) into req. Returns 0;
 * -EINVAL for a usage error (message without prefix, for
 * "certfleet: error: %s"); -EBADMSG for a bad value or a request that fails
 * validation (message complete, printed as is).
 */
int request_build(const struct cli_command *cmd, int argc,
    const char *const *argv, enum binary_format bf, struct request *req,
    char **reterr_msg) _wur_;

void request_clear(struct request *req);

#endif
