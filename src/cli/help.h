/*
 * help.h: the texts of `certfleet help`, `certfleet <command> help` and
 * the aws-style usage block that precedes every usage error.
 */
#ifndef CERTFLEET_CLI_HELP_H
#define CERTFLEET_CLI_HELP_H

#include <stdio.h>

#include "common/cleanup.h"

struct cli_command;

void help_main(FILE *f);
void help_command(FILE *f, const struct cli_command *cmd);

/* "usage: certfleet ...", how to get help, then "certfleet: error: ...". */
void help_usage_error(FILE *f, const char *fmt, ...) _printf_(2, 3);

/* The valid subcommands, for an invalid choice. */
void help_command_list(FILE *f);

#endif
