/*
 * output.h: printing a response as the AWS CLI does: json (4-space indent),
 * text (tab-separated rows, list names upper-cased as row prefixes) and
 * table (boxed sections, one per nested structure or list).
 */
#ifndef CERTFLEET_CLI_OUTPUT_H
#define CERTFLEET_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

enum output_format {
	OUTPUT_JSON,
	OUTPUT_TEXT,
	OUTPUT_TABLE,
};

/* "json", "text", "table"; -1 for anything else. */
int output_format_from_string(const char *s);

/*
 * Replaces numbers under the given member names (NULL-terminated) by ISO
 * 8601 text in local time, as the AWS CLI v2 prints timestamps:
 * "2024-05-01T12:00:00+00:00", with ".ffffff" when there are fractions.
 */
void output_timestamps(json_t *v, const char *const *members);

void output_json(FILE *f, const json_t *v);

/*
 * awscli's text format. A "NextToken" member of a paginated result is
 * printed last as "NEXTTOKEN\t<token>", as aws does.
 */
void output_text(FILE *f, const json_t *v, bool paginated);

/*
 * awscli's table format under a title (the action name). Wider than width
 * (the terminal's; 0 for no limit), one-row sections turn vertical.
 */
void output_table(FILE *f, const json_t *v, const char *title, int width);

/* Prints v in format; an empty object prints nothing, as with aws. */
void output_print(FILE *f, const json_t *v, enum output_format format,
    const char *title, bool paginated, int width);

#endif
