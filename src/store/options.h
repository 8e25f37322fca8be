/*
 * options.h: a certificate's options (CertificateTransparencyLoggingPreference
 * and Export) as UpdateCertificateOptions changes them.
 */
#ifndef CERTFLEET_STORE_OPTIONS_H
#define CERTFLEET_STORE_OPTIONS_H

#include "common/cleanup.h"

typedef struct pg_conn PGconn;

/*
 * Sets the CertificateTransparencyLoggingPreference of a certificate
 * certfleet issues (ct_logging: "ENABLED" or "DISABLED"; NULL leaves it)
 * after locking its row, in the caller's transaction or one of its own.
 * Only a requested certificate that is pending validation or issued can
 * change, as in ACM: others will never be issued again.
 * export_option (NULL: not given) must equal the stored value, as Export is
 * fixed when a certificate is requested.
 *
 * -ENOENT  no such certificate (ACM's message)
 * -EPERM   the certificate is imported, or will never be issued again
 *          (FAILED, VALIDATION_TIMED_OUT, REVOKED, EXPIRED, INACTIVE)
 * -EINVAL  export_option differs from the stored one
 * Nothing is written on failure.
 */
int store_cert_options_update(PGconn *conn, const char *arn,
    const char *ct_logging, const char *export_option, char **reterr_msg)
    _wur_;

#endif
