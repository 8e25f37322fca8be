/*
 * acm_model.c: ACM's enumerations (shapes CertificateStatus, KeyAlgorithm,
 * KeyUsageName, ExtendedKeyUsageName, SortBy, SortOrder of the 2015-12-08
 * service model).
 */
#include <stddef.h>
#include <string.h>

#include "common/acm_model.h"

const char *const acm_certificate_statuses[] = { "PENDING_VALIDATION",
	"ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED",
	"FAILED", NULL };

const char *const acm_key_algorithms[] = { "RSA_1024", "RSA_2048",
	"RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
	"EC_secp521r1", NULL };

const char *const acm_key_usage_names[] = { "DIGITAL_SIGNATURE",
	"NON_REPUDIATION", "KEY_ENCIPHERMENT", "DATA_ENCIPHERMENT",
	"KEY_AGREEMENT", "CERTIFICATE_SIGNING", "CRL_SIGNING", "ENCIPHER_ONLY",
	"DECIPHER_ONLY", "ANY", "CUSTOM", NULL };

const char *const acm_extended_key_usage_names[] = {
	"TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION",
	"CODE_SIGNING", "EMAIL_PROTECTION", "TIME_STAMPING", "OCSP_SIGNING",
	"IPSEC_END_SYSTEM", "IPSEC_TUNNEL", "IPSEC_USER", "ANY", "NONE",
	"CUSTOM", NULL };

const char *const acm_sort_by[] = { "CREATED_AT", NULL };
const char *const acm_sort_order[] = { "ASCENDING", "DESCENDING", NULL };
const char *const acm_certificate_export[] = { "ENABLED", "DISABLED", NULL };
const char *const acm_managed_by[] = { "CLOUDFRONT", NULL };

static const struct {
	const char *name;
	const char *oid;
} eku_oids[] = {
	{ "TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1" },
	{ "TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2" },
	{ "CODE_SIGNING", "1.3.6.1.5.5.7.3.3" },
	{ "EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4" },
	{ "IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.5" },
	{ "IPSEC_TUNNEL", "1.3.6.1.5.5.7.3.6" },
	{ "IPSEC_USER", "1.3.6.1.5.5.7.3.7" },
	{ "TIME_STAMPING", "1.3.6.1.5.5.7.3.8" },
	{ "OCSP_SIGNING", "1.3.6.1.5.5.7.3.9" },
	{ "ANY", "2.5.29.37.0" },
};

const char *
acm_extended_key_usage_oid(const char *name)
{
	for (size_t i = 0; i < sizeof(eku_oids) / sizeof(eku_oids[0]); i++)
		if (strcmp(eku_oids[i].name, name) == 0)
			return eku_oids[i].oid;
	return NULL;
}
