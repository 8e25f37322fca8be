/*
 * commands.h: the certfleet subcommands, one table entry each (OpenSMTPD's
 * smtpctl style). An entry names the target (prefix and action), lists the
 * request members that become options, and says whether the action pages.
 * The subcommand is the action in kebab-case and each option the member in
 * kebab-case, as the AWS CLI derives them, so `aws acm` users find the same
 * names. Everything else (argv parsing, help, pagination) is generic.
 */
#ifndef CERTFLEET_CLI_COMMANDS_H
#define CERTFLEET_CLI_COMMANDS_H

#include "cli/args.h"

/* Target prefixes: ACM's own actions, and certfleet's extensions. */
#define PREFIX_ACM "CertificateManager"
#define PREFIX_CERTFLEET "CertFleet"

/* How an action pages, as in ACM's paginators-1.json. */
struct paginator {
	const char *input_token;	/* request member: "NextToken" */
	const char *output_token;	/* response member: "NextToken" */
	const char *limit_key;		/* request member: "MaxItems" */
	const char *result_key;		/* response list that is merged */
};

struct cli_command {
	const char *prefix;	/* PREFIX_ACM or PREFIX_CERTFLEET */
	const char *action;	/* "ImportCertificate"; X-Amz-Target suffix */
	const struct shape_member *options;	/* request members; NULL ends */
	const struct paginator *paginator;	/* NULL unless it pages */
	const char *doc;	/* one line for help */
};

/* Ends with an entry whose action is NULL. */
extern const struct cli_command cli_commands[];

/* Response members that hold timestamps (epoch seconds on the wire). */
extern const char *const cli_timestamp_members[];

/* The entry whose kebab-case action is name, or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* The subcommand name of an entry (malloc'd). */
char *cli_command_name(const struct cli_command *cmd);

#endif
