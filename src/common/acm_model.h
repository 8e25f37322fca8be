/*
 * acm_model.h: ACM's enumerations, as the service model spells them, for
 * every part of certfleet that validates or prints them.
 */
#ifndef CERTFLEET_COMMON_ACM_MODEL_H
#define CERTFLEET_COMMON_ACM_MODEL_H

/* Each list is NULL-terminated. */
extern const char *const acm_certificate_statuses[];
extern const char *const acm_key_algorithms[];
extern const char *const acm_key_usage_names[];
extern const char *const acm_extended_key_usage_names[];
extern const char *const acm_sort_by[];
extern const char *const acm_sort_order[];
extern const char *const acm_certificate_export[];
extern const char *const acm_managed_by[];

/* The OID ACM shows beside an extended key usage name; NULL if none. */
const char *acm_extended_key_usage_oid(const char *name);

#endif
