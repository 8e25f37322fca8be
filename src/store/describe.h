/*
 * describe.h: everything DescribeCertificate shows, read in one statement.
 */
#ifndef CERTFLEET_STORE_DESCRIBE_H
#define CERTFLEET_STORE_DESCRIBE_H

#include <libpq-fe.h>

#include "common/cleanup.h"
#include "store/renewal.h"
#include "store/store.h"

struct store_cert_description {
	struct store_cert *cert;		/* PEM members NULL */
	struct store_request_info *request;
	struct store_renewal_summary *renewal;	/* status NULL: none yet */
};

/*
 * Fills *out (all three parts) from one round trip: the certificate's row
 * joined with its validation names. -ENOENT with ACM's message when the ARN
 * names no certificate. On failure *out is left empty.
 */
int store_cert_describe(PGconn *conn, const char *arn,
    struct store_cert_description *out, char **reterr_msg) _wur_;
/* Frees the parts and empties *d; accepts an empty one. */
void store_cert_description_clear(struct store_cert_description *d);


#endif
