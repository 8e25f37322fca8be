/*
 * names.h: the rules on the domain names of a RequestCertificate, as the
 * ACM guide states them, in three groups:
 *
 *   1. syntax and normalisation of DomainName and SubjectAlternativeNames,
 *      refused with an exception before anything is stored;
 *   2. names_classify(): the checks after which a request is stored but ends
 *      in status FAILED with ACM's FailureReason (INVALID_PUBLIC_DOMAIN,
 *      DOMAIN_NOT_ALLOWED, ADDITIONAL_VERIFICATION_REQUIRED);
 *   3. helpers for the contact finder (admin addresses, registrable domain,
 *      ValidationDomain parents).
 *
 * Everything here is a pure function of its arguments and of an immutable
 * struct names_policy, so one policy can be shared by many threads once it
 * is loaded. Link with $(VALIDATION_LIBS) $(COMMON_LIBS).
 *
 * Exceptions for the API layer (what ACM does, as far as it is known):
 *
 *   -EINVAL  the name breaks ACM's DomainNameString model (1..253 octets,
 *            labels of letters, digits and inner hyphens, at least two,
 *            an optional leading "*." only, ASCII only): AWS answers such
 *            input with ValidationException. Our message says what is wrong
 *            and, for a Unicode name, gives its "xn--" form to use instead.
 *   -EDOM    the name fits the model but breaks a service rule: an "xn--"
 *            label that is not a valid IDNA A-label, or a DomainName longer
 *            than 64 octets (the guide: "The first domain name you enter
 *            cannot exceed 64 octets, including periods", the RFC 5280 limit
 *            of the subject CN): InvalidParameterException.
 *   -E2BIG   more distinct names than [limits] domains_per_certificate:
 *            LimitExceededException with ACM's message "Certificate has too
 *            many domains." (observed from ACM; our message adds the counts).
 *
 * A ValidationDomain that is not the name or one of its parents (see
 * names_is_parent_or_self()) is InvalidDomainValidationOptionsException.
 */
#ifndef CERTFLEET_VALIDATION_NAMES_H
#define CERTFLEET_VALIDATION_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"

/* DNS limits, in octets, and ACM's limit on the first name (the CN). */
#define NAMES_MAX_LENGTH 253
#define NAMES_MAX_LABEL 63
#define NAMES_MAX_FIRST_LENGTH 64
/* [limits] domains_per_certificate when the caller passes 0. */
#define NAMES_DEFAULT_MAX_NAMES 10

/* Debian's copy of the Public Suffix List (package publicsuffix). */
#define NAMES_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

/* FailureReason values decided here (ACM's FailureReason enum). */
#define NAMES_FAILURE_INVALID_PUBLIC_DOMAIN "INVALID_PUBLIC_DOMAIN"
#define NAMES_FAILURE_DOMAIN_NOT_ALLOWED "DOMAIN_NOT_ALLOWED"
#define NAMES_FAILURE_ADDITIONAL_VERIFICATION "ADDITIONAL_VERIFICATION_REQUIRED"

struct names_policy;

/*
 * Checks one name and returns its normal form (lower case) in *ret. Returns
 * 0, -EINVAL or -EDOM (see above) with a message in *reterr_msg.
 */
int names_normalize(const char *name, char **ret, char **reterr_msg) _wur_;

/*
 * Checks DomainName and the SubjectAlternativeNames (n_sans of them, sans
 * may be NULL when n_sans is 0), lower-cases them and removes duplicates,
 * keeping the first-seen order with DomainName first. At most max_names
 * distinct names in all, DomainName included (0: NAMES_DEFAULT_MAX_NAMES).
 * On success *ret_names is a NULL-terminated array of *ret_count names, to
 * be freed with names_list_free(). Returns 0, -EINVAL, -EDOM or -E2BIG.
 */
int names_normalize_list(const char *domain_name, const char *const *sans,
    size_t n_sans, size_t max_names, char ***ret_names, size_t *ret_count,
    char **reterr_msg) _wur_;

/* Frees a NULL-terminated array of strings; accepts NULL. */
void names_list_free(char **names);

/*
 * The Public Suffix List from psl_file (NULL: NAMES_PSL_FILE), falling back
 * to libpsl's newest built-in or distribution list when the file cannot be
 * read, and empty deny and reserved lists. NULL only if no list at all can
 * be loaded; *reterr_msg says why.
 */
struct names_policy *names_policy_new(const char *psl_file, char **reterr_msg);
void names_policy_free(struct names_policy *p);

/*
 * Loads the deny list ([validation] deny_list_file): one domain a line, in
 * any case, blank lines and '#' comments (whole-line or after the name)
 * ignored. A name and all names under it are denied. Replaces any list
 * loaded before. Returns 0, -errno when the file cannot be read, or -EINVAL
 * with "path:line: ..." for a malformed line (the old list is kept).
 */
int names_policy_load_deny_list(
    struct names_policy *p, const char *path, char **reterr_msg) _wur_;

/*
 * Adds reserved suffixes ([validation] reserved_suffixes, comma-separated;
 * certfleet's own public host name is passed the same way). Spaces around
 * the commas are ignored. Returns 0 or -EINVAL naming the malformed item
 * (nothing is added then).
 */
int names_policy_add_reserved_suffixes(
    struct names_policy *p, const char *csv, char **reterr_msg) _wur_;

/*
 * Returns 0 when the name may go on to validation, or 1 when the request
 * must end FAILED: *failure_reason is then one of NAMES_FAILURE_* (static)
 * and *detail a malloc'd sentence for the log and the operator. A wildcard
 * is judged by the name after "*.", and is also refused when it would match
 * a denied or reserved name (*.example.com when www.example.com is listed).
 * Checked in this order: INVALID_PUBLIC_DOMAIN (the name is not under a
 * suffix of the ICANN section of the list, or is itself one; names under a
 * private-section suffix such as github.io are accepted, as other CAs do),
 * DOMAIN_NOT_ALLOWED, ADDITIONAL_VERIFICATION_REQUIRED. NO_AVAILABLE_CONTACTS
 * and OTHER are decided elsewhere. The name should be normalised already;
 * upper case is tolerated.
 */
int names_classify(const struct names_policy *p, const char *name,
    const char **failure_reason, char **detail);

/*
 * The name without one leading "www." or "*.", the guide's rule for the
 * administrative addresses (admin@, hostmaster@, ...): a pointer into name.
 * Nothing is dropped when only one label would remain ("www.com" stays).
 */
const char *names_strip_for_admin(const char *name);

/*
 * The registrable domain of a name (a wildcard is judged without "*."):
 * the public suffix plus one label, by the whole list (so user.github.io
 * for a.user.github.io), or the name itself when it is a private-section
 * suffix (github.io). The top of the MX walk. malloc'd, lower case; NULL
 * when the name has no registrable domain (com, example.invalid).
 */
char *names_registrable_domain(const struct names_policy *p, const char *name);

/*
 * Whether validation_domain is name itself or one of its parent domains,
 * compared label by label without regard to case; a trailing dot on either
 * is ignored. For "*.example.com" the candidates are example.com and its
 * parents. Any well-formed parent is accepted here, "com" included: the
 * ValidationDomain then fails names_classify() like any name would.
 */
bool names_is_parent_or_self(const char *validation_domain, const char *name);

#endif
