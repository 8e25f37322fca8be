/*
 * names.c: the domain-name rules of RequestCertificate. Syntax first (what
 * ACM refuses outright), then the policy checks that end a stored request
 * in FAILED (public suffixes by libpsl, the deny list, reserved suffixes),
 * then the small helpers the contact finder shares with the API layer.
 *
 * Internationalised names are handled by libidn2 only: ACM takes names in
 * their ASCII form, so a Unicode name is refused with its A-label spelled
 * out, and every "xn--" label must decode under IDNA2008/TR46.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <libpsl.h>

#include "common/xmalloc.h"
#include "validation/names.h"

/* The longest name we echo back in a message, in input octets. */
#define QUOTE_MAX 120

/*
 * A sorted set of lower-case domains that covers each member and every name
 * under it. parents holds the parent of each member, so that a wildcard
 * *.B can be found to match a member x.B with one lookup.
 */
struct name_set {
	char **v;
	size_t n;
	char **parents;
	size_t n_parents;
};

struct names_policy {
	psl_ctx_t *psl; /* psl_free() is a no-op on the built-in list */
	struct name_set deny;
	struct name_set reserved;
};

/* Name syntax */

static bool
has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static void
lower_ascii(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * The input as it may appear in a message (which becomes JSON): printable
 * ASCII as is, everything else as \xNN, cut at QUOTE_MAX octets.
 */
static char *
quote(const char *s)
{
	size_t len = strlen(s), n = len > QUOTE_MAX ? QUOTE_MAX : len;
	char *out = xmalloc(n * 4 + 4), *o = out;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			*o++ = (char)c;
		else
			o += snprintf(o, 5, "\\x%02x", c);
	}
	if (n < len)
		o += snprintf(o, 4, "...");
	*o = '\0';
	return out;
}

/* The A-label form of a Unicode name, keeping a leading "*.". */
static char *
to_alabel(const char *name, const char **why)
{
	bool wild = strncmp(name, "*.", 2) == 0;
	char *out = NULL, *res;
	int r;

	r = idn2_to_ascii_8z(wild ? name + 2 : name, &out,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (r != IDN2_OK) {
		*why = idn2_strerror(r);
		return NULL;
	}
	res = xasprintf("%s%s", wild ? "*." : "", out);
	idn2_free(out);
	return res;
}

static char *
unicode_reason(const char *name, char **shown)
{
	const char *why = NULL;
	_cleanup_free_ char *alabel = to_alabel(name, &why);

	if (alabel != NULL) {
		/* idn2 accepted it, so it is valid UTF-8: show it as typed. */
		*shown = xstrdup(name);
		return xasprintf("it contains non-ASCII characters; ACM takes "
		                 "an internationalised name in its ASCII "
		                 "(IDNA A-label) form: use '%s'",
		    alabel);
	}
	*shown = quote(name);
	return xasprintf("it contains non-ASCII characters and has no valid "
	                 "IDNA form (%s); use letters, digits, hyphens and "
	                 "dots only",
	    why);
}

/* Checks one label; returns a reason or NULL. */
static char *
label_reason(const char *l, size_t len, bool last)
{
	if (len == 0)
		return xstrdup("it has an empty label (two dots in a row, or a "
		               "dot at the start)");
	if (len > NAMES_MAX_LABEL)
		return xasprintf("label '%.20s...' is %zu octets long; a label "
		                 "can have at most %d",
		    l, len, NAMES_MAX_LABEL);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (!isalnum(c) && c != '-') {
			if (c == '*')
				return xstrdup("a wildcard (*) is allowed only "
				               "as the whole leftmost label, "
				               "as in *.example.com");
			if (!isprint(c))
				return xasprintf("it contains the control "
				                 "character 0x%02x; only "
				                 "letters, digits, hyphens "
				                 "and dots are allowed",
				    c);
			return xasprintf("it contains '%c'; only letters, "
			                 "digits, hyphens and dots are allowed",
			    c);
		}
	}
	if (l[0] == '-' || l[len - 1] == '-')
		return xasprintf(
		    "label '%.*s' starts or ends with a hyphen", (int)len, l);
	if (last && len < 2)
		return xasprintf("its last label '%.*s' has one character; a "
		                 "top-level domain has at least two",
		    (int)len, l);
	return NULL;
}

/* Checks the labels of a lower-case ASCII name; returns a reason or NULL. */
static char *
labels_reason(const char *s, size_t min_labels)
{
	size_t labels = 0;
	const char *l = s;

	for (;;) {
		const char *dot = strchr(l, '.');
		size_t len = dot ? (size_t)(dot - l) : strlen(l);
		char *why;

		if (dot != NULL && dot[1] == '\0')
			return xstrdup("it ends with a dot; write the name "
			               "without the final dot");
		why = label_reason(l, len, dot == NULL && min_labels > 1);
		if (why != NULL)
			return why;
		labels++;
		if (dot == NULL)
			break;
		l = dot + 1;
	}
	if (labels < min_labels)
		return xstrdup("it has a single label; a certificate names a "
		               "fully qualified domain such as example.com");
	return NULL;
}

/* The wildcard rules, given the whole lower-case name. */
static char *
wildcard_reason(const char *s)
{
	const char *base = strncmp(s, "*.", 2) == 0 ? s + 2 : s;

	if (strcmp(s, "*") == 0)
		return xstrdup("a wildcard must be followed by a domain, as "
		               "in *.example.com");
	if (strchr(base, '*') == NULL)
		return NULL;
	if (base != s &&
	    (strcmp(base, "*") == 0 || strncmp(base, "*.", 2) == 0))
		return xstrdup("it has more than one wildcard; only the "
		               "leftmost label can be *, as in *.example.com");
	return xstrdup("a wildcard (*) is allowed only as the whole "
	               "leftmost label, as in *.example.com");
}

/* The label after the next dot, or NULL at the last label. */
static const char *
next_label(const char *l)
{
	const char *dot = strchr(l, '.');

	return dot ? dot + 1 : NULL;
}

/* Each "xn--" label must be a valid IDNA A-label; returns a reason or NULL. */
static char *
alabels_reason(const char *s)
{
	for (const char *l = s; l != NULL; l = next_label(l)) {
		const char *dot = strchr(l, '.');
		size_t len = dot ? (size_t)(dot - l) : strlen(l);
		_cleanup_free_ char *label = xstrndup(l, len);
		uint8_t *out = NULL;
		int r;

		if (strncmp(label, "xn--", 4) != 0)
			continue;
		r = idn2_lookup_u8(
		    (const uint8_t *)label, &out, IDN2_NONTRANSITIONAL);
		if (r != IDN2_OK)
			return xasprintf("label '%s' is not a valid IDNA "
			                 "A-label (%s)",
			    label, idn2_strerror(r));
		r = strcmp((const char *)out, label);
		if (r != 0) {
			char *why = xasprintf("label '%s' is not in the "
			                      "canonical IDNA form; use '%s'",
			    label, (const char *)out);

			idn2_free(out);
			return why;
		}
		idn2_free(out);
	}
	return NULL;
}

/*
 * The checks shared by names, deny-list entries and reserved suffixes:
 * returns 0 with the lower-case name in *norm, or -EINVAL/-EDOM with a
 * reason in *why and the input as it may be shown in *shown.
 */
static int
check_name(const char *in, size_t min_labels, bool allow_wild, char **norm,
    char **why, char **shown)
{
	_cleanup_free_ char *s = NULL;
	size_t len = strlen(in);
	const char *base;

	*why = NULL;
	if (len == 0) {
		*shown = xstrdup("");
		*why = xstrdup("it is empty");
		return -EINVAL;
	}
	if (has_non_ascii(in)) {
		*why = unicode_reason(in, shown);
		return -EINVAL;
	}
	*shown = quote(in);
	if (len > NAMES_MAX_LENGTH) {
		*why = xasprintf("it is %zu octets long; a domain name can "
		                 "have at most %d",
		    len, NAMES_MAX_LENGTH);
		return -EINVAL;
	}
	s = xstrdup(in);
	lower_ascii(s);
	if (allow_wild)
		*why = wildcard_reason(s);
	base = allow_wild && strncmp(s, "*.", 2) == 0 ? s + 2 : s;
	if (*why == NULL)
		*why = labels_reason(base, min_labels);
	if (*why != NULL)
		return -EINVAL;
	*why = alabels_reason(base);
	if (*why != NULL)
		return -EDOM;
	free(*shown);
	*shown = NULL;
	*norm = TAKE_PTR(s);
	return 0;
}

int
names_normalize(const char *name, char **ret, char **reterr_msg)
{
	_cleanup_free_ char *why = NULL, *shown = NULL;
	int r;

	if (name == NULL) {
		*reterr_msg = xstrdup("Domain name is missing.");
		return -EINVAL;
	}
	r = check_name(name, 2, true, ret, &why, &shown);
	if (r < 0)
		*reterr_msg =
		    xasprintf("Invalid domain name '%s': %s.", shown, why);
	return r;
}

void
names_list_free(char **names)
{
	if (names == NULL)
		return;
	for (char **n = names; *n != NULL; n++)
		free(*n);
	free(names);
}

static bool
list_contains(char *const *names, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* The guide's limit on DomainName, which becomes the subject CN. */
static int
check_first_length(const char *name, char **reterr_msg)
{
	size_t len = strlen(name);

	if (len <= NAMES_MAX_FIRST_LENGTH)
		return 0;
	*reterr_msg = xasprintf("DomainName '%s' is %zu octets long; the first "
	                        "domain name cannot exceed %d octets (the "
	                        "certificate's common name). Put a shorter "
	                        "name in DomainName and this one in "
	                        "SubjectAlternativeNames.",
	    name, len, NAMES_MAX_FIRST_LENGTH);
	return -EDOM;
}

int
names_normalize_list(const char *domain_name, const char *const *sans,
    size_t n_sans, size_t max_names, char ***ret_names, size_t *ret_count,
    char **reterr_msg)
{
	size_t max = max_names ? max_names : NAMES_DEFAULT_MAX_NAMES;
	size_t cap = (n_sans < max ? n_sans : max) + 2, count = 0;
	char **names = xcalloc(cap, sizeof(*names));
	int r;

	for (size_t i = 0; i <= n_sans; i++) {
		const char *in = i == 0 ? domain_name : sans[i - 1];
		char *n = NULL;

		r = names_normalize(in, &n, reterr_msg);
		if (r == 0 && i == 0)
			r = check_first_length(n, reterr_msg);
		if (r < 0) {
			free(n);
			names_list_free(names);
			return r;
		}
		if (list_contains(names, count, n)) {
			free(n);
			continue;
		}
		if (count == max) {
			free(n);
			names_list_free(names);
			*reterr_msg = xasprintf("Certificate has too many "
			                        "domains. At most %zu distinct "
			                        "names are allowed, DomainName "
			                        "included.",
			    max);
			return -E2BIG;
		}
		names[count++] = n;
	}
	*ret_names = names;
	*ret_count = count;
	return 0;
}

/* Name sets: the deny list and the reserved suffixes */

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
name_set_clear(struct name_set *set)
{
	strv_free(set->v, set->n);
	strv_free(set->parents, set->n_parents);
	*set = (struct name_set){0};
}

/* Sorts v and drops repeats; returns the new count. */
static size_t
sort_unique(char **v, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_strp);
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && strcmp(v[out - 1], v[i]) == 0)
			free(v[i]);
		else
			v[out++] = v[i];
	}
	return out;
}

/* Takes the n names of v (malloc'd array of malloc'd names) into set. */
static void
name_set_build(struct name_set *set, char **v, size_t n)
{
	size_t np = 0;

	name_set_clear(set);
	set->n = sort_unique(v, n);
	set->v = v;
	set->parents = xcalloc(set->n, sizeof(char *));
	for (size_t i = 0; i < set->n; i++) {
		const char *dot = strchr(set->v[i], '.');

		if (dot != NULL)
			set->parents[np++] = xstrdup(dot + 1);
	}
	set->n_parents = sort_unique(set->parents, np);
}

static bool
strv_has(char *const *v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), cmp_strp) != NULL;
}

/* The member that is name or one of its parents, or NULL. */
static const char *
name_set_covering(const struct name_set *set, const char *name)
{
	if (set->n == 0)
		return NULL;
	for (const char *s = name; s != NULL; s = next_label(s)) {
		char *const *hit;

		hit = bsearch(&s, set->v, set->n, sizeof(*set->v), cmp_strp);
		if (hit != NULL)
			return *hit;
	}
	return NULL;
}

/* The first member x.base, which the wildcard *.base would match. */
static const char *
name_set_matched_by_wildcard(const struct name_set *set, const char *base)
{
	if (!strv_has(set->parents, set->n_parents, base))
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const char *dot = strchr(set->v[i], '.');

		if (dot != NULL && strcmp(dot + 1, base) == 0)
			return set->v[i];
	}
	return NULL;
}

/* Policy */

static psl_ctx_t *
load_psl(const char *path, char **reterr_msg)
{
	psl_ctx_t *psl = psl_load_file(path ? path : NAMES_PSL_FILE);

	if (psl == NULL)
		psl = psl_latest(NULL);
	if (psl == NULL)
		psl = (psl_ctx_t *)psl_builtin();
	if (psl == NULL)
		*reterr_msg = xasprintf("Cannot load the Public Suffix List "
		                        "from %s, and libpsl has no built-in "
		                        "list (install the publicsuffix "
		                        "package).",
		    path ? path : NAMES_PSL_FILE);
	return psl;
}

struct names_policy *
names_policy_new(const char *psl_file, char **reterr_msg)
{
	psl_ctx_t *psl = load_psl(psl_file, reterr_msg);
	struct names_policy *p;

	if (psl == NULL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->psl = psl;
	return p;
}

void
names_policy_free(struct names_policy *p)
{
	if (p == NULL)
		return;
	psl_free(p->psl);
	name_set_clear(&p->deny);
	name_set_clear(&p->reserved);
	free(p);
}

/* Removes a '#' comment and surrounding blanks in place. */
static char *
trim_line(char *line)
{
	char *hash = strchr(line, '#'), *end;

	if (hash != NULL)
		*hash = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return line;
}

/* One deny-list entry: a domain of one label or more, no wildcard. */
static int
parse_deny_entry(const char *path, size_t lineno, const char *entry,
    char **norm, char **reterr_msg)
{
	_cleanup_free_ char *why = NULL, *shown = NULL;

	if (strpbrk(entry, " \t") != NULL) {
		shown = quote(entry);
		*reterr_msg = xasprintf("%s:%zu: '%s': one domain a line is "
		                        "expected.",
		    path, lineno, shown);
		return -EINVAL;
	}
	if (strncmp(entry, "*.", 2) == 0) {
		shown = quote(entry);
		*reterr_msg = xasprintf("%s:%zu: '%s': write the domain "
		                        "without '*.'; an entry denies the "
		                        "domain and every name under it.",
		    path, lineno, shown);
		return -EINVAL;
	}
	if (check_name(entry, 1, false, norm, &why, &shown) < 0) {
		*reterr_msg = xasprintf("%s:%zu: invalid domain '%s': %s.",
		    path, lineno, shown, why);
		return -EINVAL;
	}
	return 0;
}

static int
read_deny_file(
    FILE *f, const char *path, char ***ret_v, size_t *ret_n, char **reterr_msg)
{
	_cleanup_free_ char *line = NULL;
	size_t linecap = 0, lineno = 0, n = 0, cap = 16;
	char **v = xcalloc(cap, sizeof(*v));

	while (getline(&line, &linecap, f) >= 0) {
		char *entry = trim_line(line), *norm = NULL;

		lineno++;
		if (*entry == '\0')
			continue;
		if (parse_deny_entry(path, lineno, entry, &norm, reterr_msg) <
		    0) {
			strv_free(v, n);
			return -EINVAL;
		}
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = norm;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

int
names_policy_load_deny_list(
    struct names_policy *p, const char *path, char **reterr_msg)
{
	char errbuf[128], **v = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (f == NULL) {
		r = -errno;
		*reterr_msg = xasprintf("Cannot read the deny list %s: %s.",
		    path, strerror_r(-r, errbuf, sizeof(errbuf)));
		return r;
	}
	r = read_deny_file(f, path, &v, &n, reterr_msg);
	if (r == 0 && ferror(f)) {
		strv_free(v, n);
		*reterr_msg = xasprintf("Cannot read the deny list %s: read "
		                        "error.",
		    path);
		r = -EIO;
	}
	fclose(f);
	if (r == 0)
		name_set_build(&p->deny, v, n);
	return r;
}

/* Splits csv into checked, lower-case suffixes appended to *v. */
static int
parse_suffixes(const char *csv, char ***v, size_t *n, char **reterr_msg)
{
	_cleanup_free_ char *copy = xstrdup(csv);
	char *save = NULL;

	for (char *item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		_cleanup_free_ char *why = NULL, *shown = NULL;
		char *norm = NULL;

		item = trim_line(item);
		if (*item == '\0')
			continue;
		if (check_name(item, 1, false, &norm, &why, &shown) < 0) {
			*reterr_msg = xasprintf("Invalid reserved suffix "
			                        "'%s': %s.",
			    shown, why);
			return -EINVAL;
		}
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = norm;
	}
	return 0;
}

int
names_policy_add_reserved_suffixes(
    struct names_policy *p, const char *csv, char **reterr_msg)
{
	size_t n = p->reserved.n;
	char **v = xcalloc(n + 1, sizeof(*v));

	if (csv == NULL)
		csv = "";
	if (strchr(csv, '#') != NULL) {
		free(v);
		*reterr_msg = xstrdup("Invalid reserved suffixes: '#' is not "
		                      "allowed.");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(p->reserved.v[i]);
	if (parse_suffixes(csv, &v, &n, reterr_msg) < 0) {
		strv_free(v, n);
		return -EINVAL;
	}
	name_set_build(&p->reserved, v, n);
	return 0;
}

/* Classification */

static bool
is_icann_suffix(const psl_ctx_t *psl, const char *s)
{
	return psl_is_public_suffix2(
	           psl, s, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 0;
}

/*
 * 0 when name (the part after any "*.") is under an ICANN public suffix and
 * is not one itself; shown is the whole name as it may be echoed.
 */
static int
public_domain_reason(
    const psl_ctx_t *psl, const char *name, char **detail, const char *shown)
{
	if (*name != '\0' && is_icann_suffix(psl, name)) {
		if (strcmp(shown, name) == 0)
			*detail = xasprintf("'%s' is a public suffix; a "
			                    "certificate can only name a "
			                    "domain registered under one "
			                    "(Public Suffix List)",
			    shown);
		else
			*detail = xasprintf("'%s' is a wildcard on the public "
			                    "suffix '%s'; a certificate can "
			                    "only name a domain registered "
			                    "under one (Public Suffix List)",
			    shown, name);
		return 1;
	}
	for (const char *s = strchr(name, '.'); s != NULL; s = strchr(s, '.')) {
		s++;
		if (is_icann_suffix(psl, s))
			return 0;
	}
	*detail = xasprintf("'%s' is not under a public suffix: its top-level "
	                    "domain is not on the Public Suffix List",
	    shown);
	return 1;
}

static int
listed_reason(const struct name_set *set, const char *base, bool wild,
    const char *shown, const char *what, char **detail)
{
	const char *hit = name_set_covering(set, base);

	if (hit != NULL) {
		*detail = xasprintf("'%s' is under '%s', %s", shown, hit, what);
		return 1;
	}
	hit = wild ? name_set_matched_by_wildcard(set, base) : NULL;
	if (hit != NULL) {
		*detail =
		    xasprintf("'%s' would match '%s', %s", shown, hit, what);
		return 1;
	}
	return 0;
}

int
names_classify(const struct names_policy *p, const char *name,
    const char **failure_reason, char **detail)
{
	_cleanup_free_ char *s = xstrdup(name ? name : "");
	_cleanup_free_ char *shown = NULL;
	bool wild = strncmp(s, "*.", 2) == 0;
	const char *base = wild ? s + 2 : s;

	size_t len = strlen(s);

	/* A normalised name has no final dot; tolerate one all the same. */
	if (len > 1 && s[len - 1] == '.')
		s[len - 1] = '\0';
	lower_ascii(s);
	shown = quote(s);
	*failure_reason = NAMES_FAILURE_INVALID_PUBLIC_DOMAIN;
	if (public_domain_reason(p->psl, base, detail, shown))
		return 1;
	*failure_reason = NAMES_FAILURE_DOMAIN_NOT_ALLOWED;
	if (listed_reason(&p->deny, base, wild, shown,
	        "which is on the deny list", detail))
		return 1;
	*failure_reason = NAMES_FAILURE_ADDITIONAL_VERIFICATION;
	if (listed_reason(&p->reserved, base, wild, shown,
	        "a reserved suffix that needs additional verification by the "
	        "operator",
	        detail))
		return 1;
	*failure_reason = NULL;
	*detail = NULL;
	return 0;
}

/* Helpers for the contact finder */

const char *
names_strip_for_admin(const char *name)
{
	if (strncasecmp(name, "www.", 4) == 0 && strchr(name + 4, '.') != NULL)
		return name + 4;
	if (strncmp(name, "*.", 2) == 0 && strchr(name + 2, '.') != NULL)
		return name + 2;
	return name;
}

char *
names_registrable_domain(const struct names_policy *p, const char *name)
{
	_cleanup_free_ char *s = xstrdup(name);
	_cleanup_free_ char *detail = NULL;
	const char *base = strncmp(s, "*.", 2) == 0 ? s + 2 : s;
	const char *reg;

	lower_ascii(s);
	if (public_domain_reason(p->psl, base, &detail, base))
		return NULL;
	reg = psl_registrable_domain(p->psl, base);
	/* NULL: base is itself a private-section suffix such as github.io. */
	return xstrdup(reg ? reg : base);
}

/* The length of s without one trailing dot. */
static size_t
len_no_dot(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && s[len - 1] == '.' ? len - 1 : len;
}

bool
names_is_parent_or_self(const char *validation_domain, const char *name)
{
	const char *vd = validation_domain, *base;
	size_t vlen, nlen, blen;

	if (vd == NULL || name == NULL)
		return false;
	vlen = len_no_dot(vd);
	nlen = len_no_dot(name);
	if (vlen == 0 || vd[0] == '.')
		return false;
	if (vlen == nlen && strncasecmp(vd, name, vlen) == 0)
		return true;
	/* Only the name itself may contain a wildcard or be odd-shaped. */
	if (memchr(vd, '*', vlen) != NULL || strstr(vd, "..") != NULL)
		return false;
	base = nlen > 2 && strncmp(name, "*.", 2) == 0 ? name + 2 : name;
	blen = nlen - (size_t)(base - name);
	if (blen == vlen)
		return strncasecmp(vd, base, vlen) == 0;
	return blen > vlen && base[blen - vlen - 1] == '.' &&
	    strncasecmp(vd, base + blen - vlen, vlen) == 0;
}
