/*
 * handlers.h: the action handlers the table in actions.c points at, one
 * file per resource, and the helpers they share.
 */
#ifndef CERTFLEET_API_HANDLERS_H
#define CERTFLEET_API_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pg_conn PGconn;
struct api_call;
struct input;
struct store_tag;
typedef struct json_t json_t;

/* certificates.c */
int handle_import_certificate(struct api_call *call, PGconn *conn);
int handle_describe_certificate(struct api_call *call, PGconn *conn);
int handle_get_certificate(struct api_call *call, PGconn *conn);
int handle_delete_certificate(struct api_call *call, PGconn *conn);

/* requests.c */
int handle_request_certificate(struct api_call *call, PGconn *conn);
int handle_resend_validation_email(struct api_call *call, PGconn *conn);
/* Adds DomainValidationOptions, Options and ManagedBy to a
 * CertificateDetail object. */
struct store_request_info;
void describe_request_details(const struct store_request_info *info,
    bool imported, json_t *detail);
/* One DomainValidation object (ACM's shape), for a request's names and a
 * renewal's; ValidationEmails only when there are some. */
json_t *domain_validation_json(const char *domain_name,
    const char *validation_domain, const char *status, const char *method,
    char *const *emails);

/* certificate_list.c */
int handle_list_certificates(struct api_call *call, PGconn *conn);

/* tags.c */
int handle_add_tags_to_certificate(struct api_call *call, PGconn *conn);
int handle_list_tags_for_certificate(struct api_call *call, PGconn *conn);
int handle_remove_tags_from_certificate(struct api_call *call, PGconn *conn);
/*
 * Reads a Tags member (list of Key/Value). Returns the tags (caller frees
 * with store_tags_free) or NULL when absent or invalid (recorded in in).
 */
struct store_tag *tags_from_input(struct input *in, const char *member,
    bool required, size_t *n);

/* account.c */
int handle_get_account_configuration(struct api_call *call, PGconn *conn);
int handle_put_account_configuration(struct api_call *call, PGconn *conn);

/* authority.c */
int handle_get_certificate_authority_certificate(struct api_call *call,
    PGconn *conn);

/* bindings.c: CertFleet.CreateBinding and friends */
int handle_create_binding(struct api_call *call, PGconn *conn);
int handle_describe_binding(struct api_call *call, PGconn *conn);
int handle_list_bindings(struct api_call *call, PGconn *conn);
int handle_delete_binding(struct api_call *call, PGconn *conn);

/* renewal.c: RenewCertificate; DescribeCertificate's RenewalSummary */
int handle_renew_certificate(struct api_call *call, PGconn *conn);
struct store_renewal_summary;
void describe_renewal_summary(const struct store_renewal_summary *s,
    json_t *detail);

/* events.c */
int handle_lookup_events(struct api_call *call, PGconn *conn);

/* The ResourceNotFoundException message for an ARN. */
int fail_not_found(struct api_call *call, const char *arn);

/* options.c: UpdateCertificateOptions; ExportCertificate, always refused
 * (private keys never leave the daemon through the API) */
int handle_update_certificate_options(struct api_call *call, PGconn *conn);
int handle_export_certificate(struct api_call *call, PGconn *conn);

#endif
