/*
 * paginate.h: botocore's paginator for the CLI. Without --max-items it
 * follows the output token until the last page and merges the result
 * lists; with --max-items N it stops after N items and hands back a resume
 * token in botocore's format (base64 of {"NextToken": ..,
 * "boto_truncate_amount": ..}), so tokens pass between certfleet and aws.
 */
#ifndef CERTFLEET_CLI_PAGINATE_H
#define CERTFLEET_CLI_PAGINATE_H

#include <jansson.h>

#include "common/cleanup.h"

struct paginator;
struct page_opts;

/*
 * Sends one request and returns its parsed response. A negative return
 * stops the walk and is passed back from paginate_run() unchanged; the
 * callback keeps whatever it needs to report the failure.
 */
typedef int (*page_call_fn)(void *ctx, json_t *request, json_t **response);

/*
 * Walks the pages of one request. *result is the merged response: the
 * result list, the other members of the first page and "NextToken" when
 * the walk stopped early. -EPROTO (with a message) if the server repeats
 * a token.
 */
int paginate_run(const struct paginator *pg, const json_t *request,
    const struct page_opts *opts, page_call_fn call, void *ctx,
    json_t **result, char **reterr_msg) _wur_;

/* Sends the request once, as --no-paginate does. */
int paginate_once(const struct paginator *pg, const json_t *request,
    const struct page_opts *opts, page_call_fn call, void *ctx,
    json_t **result) _wur_;

/* botocore's resume token; next_token may be NULL. */
char *paginate_token_encode(const char *next_token, json_int_t truncate);

/*
 * Reads a resume token. Anything that is not botocore's encoding is taken
 * as the server's own token, as botocore does. *next_token may be NULL.
 */
void paginate_token_decode(const char *token, char **next_token,
    json_int_t *truncate);

#endif
