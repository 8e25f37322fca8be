/*
 * rdap.c: parsing of the RDAP bootstrap file (RFC 9224) and of domain
 * responses (RFC 9083, with RFC 9537 redaction), so that the contact
 * finder can ask the right server and keep only addresses that reach a
 * person. No I/O here except reading the bootstrap file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_util.h"
#include "common/xmalloc.h"
#include "validation/rdap.h"

/* One "entry" of a service: a DNS label sequence and that service's URL. */
struct rdap_entry {
	char *suffix;		/* lower case, no trailing dot; "" = root */
	const char *url;	/* points into rdap_bootstrap.urls */
};

struct rdap_bootstrap {
	struct rdap_entry *entries;
	size_t n_entries;
	char **urls;		/* one chosen URL per service */
	size_t n_urls;
};

/* Entities nest (registrar > abuse contact); real responses use 2 levels. */
#define RDAP_MAX_ENTITY_DEPTH 8
#define EMAIL_MAX_LEN 254
#define EMAIL_LOCAL_MAX_LEN 64

enum rdap_role {
	ROLE_REGISTRANT,
	ROLE_TECHNICAL,
	ROLE_ADMINISTRATIVE,
	ROLE_COUNT
};
#define ROLE_BIT(r) (1u << (r))
#define ROLE_ALL (ROLE_BIT(ROLE_COUNT) - 1)

static const char *const role_names[ROLE_COUNT] = {
	[ROLE_REGISTRANT] = "registrant",
	[ROLE_TECHNICAL] = "technical",
	[ROLE_ADMINISTRATIVE] = "administrative",
};

/* What a redaction entry's name or path says for each role. */
static const char *const role_redaction_words[ROLE_COUNT] = {
	[ROLE_REGISTRANT] = "registrant",
	[ROLE_TECHNICAL] = "tech",
	[ROLE_ADMINISTRATIVE] = "admin",
};

static void
lower_in_place(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static char *
normalized_domain(const char *domain)
{
	char *d = xstrdup(domain);
	size_t len = strlen(d);

	if (len > 0 && d[len - 1] == '.')
		d[len - 1] = '\0';
	lower_in_place(d);
	return d;
}

void
rdap_bootstrap_free(struct rdap_bootstrap *bs)
{
	size_t i;

	if (bs == NULL)
		return;
	for (i = 0; i < bs->n_entries; i++)
		free(bs->entries[i].suffix);
	for (i = 0; i < bs->n_urls; i++)
		free(bs->urls[i]);
	free(bs->entries);
	free(bs->urls);
	free(bs);
}

static bool
is_http_url(const char *s)
{
	return strncasecmp(s, "https://", 8) == 0 ||
	    strncasecmp(s, "http://", 7) == 0;
}

/* An https URL if the service lists one, else its first http URL. */
static const char *
choose_url(const json_t *urls)
{
	const char *first = NULL, *s;
	size_t i;
	json_t *u;

	json_array_foreach(urls, i, u) {
		if ((s = json_string_value(u)) == NULL || !is_http_url(s))
			continue;
		if (strncasecmp(s, "https://", 8) == 0)
			return s;
		if (first == NULL)
			first = s;
	}
	return first;
}

static int
add_service(struct rdap_bootstrap *bs, const json_t *svc, size_t idx,
    char **reterr_msg)
{
	const json_t *labels = json_array_get(svc, 0);
	const json_t *urls = json_array_get(svc, 1);
	const char *url, *label;
	size_t i;
	json_t *l;

	if (!json_is_array(svc) || !json_is_array(labels) ||
	    !json_is_array(urls)) {
		*reterr_msg = xasprintf("service %zu is not a pair of arrays",
		    idx);
		return -EBADMSG;
	}
	if ((url = choose_url(urls)) == NULL)
		return 0;	/* nothing we can use; other services still count */
	bs->urls = xrealloc(bs->urls, (bs->n_urls + 1) * sizeof(*bs->urls));
	bs->urls[bs->n_urls++] = xstrdup(url);
	json_array_foreach(labels, i, l) {
		if ((label = json_string_value(l)) == NULL) {
			*reterr_msg = xasprintf("service %zu: an entry is not "
			    "a string", idx);
			return -EBADMSG;
		}
		bs->entries = xrealloc(bs->entries,
		    (bs->n_entries + 1) * sizeof(*bs->entries));
		bs->entries[bs->n_entries].suffix = normalized_domain(label);
		bs->entries[bs->n_entries].url = bs->urls[bs->n_urls - 1];
		bs->n_entries++;
	}
	return 0;
}

static int
bootstrap_from_json(const json_t *root, struct rdap_bootstrap **out,
    char **reterr_msg)
{
	const json_t *services = json_object_get(root, "services");
	struct rdap_bootstrap *bs;
	size_t i;
	json_t *svc;
	int r;

	if (!json_is_array(services)) {
		*reterr_msg = xstrdup("no \"services\" array");
		return -EBADMSG;
	}
	bs = xcalloc(1, sizeof(*bs));
	json_array_foreach(services, i, svc) {
		if ((r = add_service(bs, svc, i, reterr_msg)) < 0) {
			rdap_bootstrap_free(bs);
			return r;
		}
	}
	*out = bs;
	return 0;
}

int
rdap_bootstrap_parse(const char *text, size_t len,
    struct rdap_bootstrap **out, char **reterr_msg)
{
	_cleanup_json_ json_t *root = NULL;
	json_error_t jerr;

	if ((root = json_loadb(text, len, 0, &jerr)) == NULL) {
		*reterr_msg = xasprintf("not JSON: %s (line %d)", jerr.text,
		    jerr.line);
		return -EBADMSG;
	}
	return bootstrap_from_json(root, out, reterr_msg);
}

int
rdap_bootstrap_load(const char *path, struct rdap_bootstrap **out,
    char **reterr_msg)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *msg = NULL;
	json_error_t jerr;
	int r;

	if ((root = json_load_file(path, 0, &jerr)) == NULL) {
		*reterr_msg = xasprintf("RDAP bootstrap file %s: %s", path,
		    jerr.text);
		return json_error_code(&jerr) == json_error_cannot_open_file ?
		    -ENOENT : -EBADMSG;
	}
	if ((r = bootstrap_from_json(root, out, &msg)) < 0)
		*reterr_msg = xasprintf("RDAP bootstrap file %s: %s", path,
		    msg);
	return r;
}

/* Number of labels of suffix when domain ends with it on a label
 * boundary, else -1. The root entry "" matches everything with 0. */
static int
suffix_match(const char *domain, const char *suffix)
{
	size_t dl = strlen(domain), sl = strlen(suffix);
	int labels = 1;
	const char *p;

	if (sl == 0)
		return 0;
	if (sl > dl || strcmp(domain + dl - sl, suffix) != 0)
		return -1;
	if (sl < dl && domain[dl - sl - 1] != '.')
		return -1;
	for (p = suffix; *p != '\0'; p++)
		if (*p == '.')
			labels++;
	return labels;
}

const char *
rdap_bootstrap_lookup(const struct rdap_bootstrap *bs, const char *domain)
{
	_cleanup_free_ char *d = NULL;
	const char *best = NULL;
	int best_labels = -1, m;
	size_t i;

	if (bs == NULL || domain == NULL)
		return NULL;
	d = normalized_domain(domain);
	for (i = 0; i < bs->n_entries; i++) {
		m = suffix_match(d, bs->entries[i].suffix);
		if (m > best_labels) {
			best_labels = m;
			best = bs->entries[i].url;
		}
	}
	return best;
}

/* ---- domain responses ---- */

struct found_email {
	char *email;
	enum rdap_role role;
	size_t seq;		/* order of discovery, for a stable sort */
};

struct email_list {
	struct found_email *v;
	size_t n;
};

static bool
contains_ci(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

/* Roles (bits) whose email one redaction entry hides; `any_email` says
 * whether it mentions an email at all. */
static unsigned
redaction_entry_roles(const json_t *entry, bool *any_email)
{
	const json_t *name = json_object_get(entry, "name");
	const char *texts[] = {
		json_get_string(name, "type"),
		json_get_string(name, "description"),
		json_get_string(entry, "prePath"),
		json_get_string(entry, "path"),
		json_get_string(entry, "postPath"),
	};
	unsigned roles = 0;
	bool email = false;
	size_t i;
	int r;

	for (i = 0; i < ELEMENTSOF(texts); i++)
		email = email || contains_ci(texts[i], "email");
	*any_email = email;
	if (!email)
		return 0;
	for (i = 0; i < ELEMENTSOF(texts); i++)
		for (r = 0; r < ROLE_COUNT; r++)
			if (contains_ci(texts[i], role_redaction_words[r]))
				roles |= ROLE_BIT(r);
	return roles;
}

/* The roles whose emails a "redacted" array hides. At entity level an
 * email redaction that names no role applies to the entity itself. */
static unsigned
redacted_roles(const json_t *redacted, bool entity_level)
{
	unsigned roles = 0, r;
	bool email;
	size_t i;
	json_t *entry;

	json_array_foreach(redacted, i, entry) {
		r = redaction_entry_roles(entry, &email);
		if (email && r == 0 && entity_level)
			r = ROLE_ALL;
		roles |= r;
	}
	return roles;
}

static bool
email_char_ok(char c)
{
	return c > 0x20 && c < 0x7f && strchr("<>()[],;:\\\"", c) == NULL;
}

static bool
email_domain_ok(const char *d)
{
	size_t len = strlen(d);

	if (len == 0 || d[0] == '.' || d[len - 1] == '.' ||
	    strstr(d, "..") != NULL || strchr(d, '.') == NULL)
		return false;
	/* RFC 2606 reserves .invalid: registries' placeholder addresses. */
	return strcmp(d, "invalid") != 0 &&
	    (len < 8 || strcmp(d + len - 8, ".invalid") != 0);
}

/* The normalized address, or NULL when v is not one worth writing to. */
static char *
usable_email(const char *v)
{
	_cleanup_free_ char *e = NULL;
	const char *at, *p;
	size_t len;

	while (isspace((unsigned char)*v))
		v++;
	if (strncasecmp(v, "mailto:", 7) == 0)
		v += 7;
	len = strlen(v);
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (len == 0 || len > EMAIL_MAX_LEN)
		return NULL;
	e = xstrndup(v, len);
	lower_in_place(e);
	for (p = e; *p != '\0'; p++)
		if (!email_char_ok(*p))
			return NULL;
	at = strchr(e, '@');
	if (at == NULL || at == e || strchr(at + 1, '@') != NULL ||
	    (size_t)(at - e) > EMAIL_LOCAL_MAX_LEN || !email_domain_ok(at + 1))
		return NULL;
	if (strstr(e, "redacted") != NULL)
		return NULL;
	return TAKE_PTR(e);
}

static void
list_add(struct email_list *l, const char *value, enum rdap_role role)
{
	char *e = usable_email(value);
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].email, e) == 0) {
			if (role < l->v[i].role)
				l->v[i].role = role;
			free(e);
			return;
		}
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n].email = e;
	l->v[l->n].role = role;
	l->v[l->n].seq = l->n;
	l->n++;
}

/* Appends every "email" property of a jCard ["vcard", [[name, params,
 * type, value], ...]]. */
static void
add_vcard_emails(struct email_list *l, const json_t *vcard,
    enum rdap_role role)
{
	const json_t *props = json_array_get(vcard, 1);
	const char *name, *value;
	size_t i;
	json_t *prop;

	if (!json_is_string(json_array_get(vcard, 0)) || !json_is_array(props))
		return;
	json_array_foreach(props, i, prop) {
		name = json_string_value(json_array_get(prop, 0));
		value = json_string_value(json_array_get(prop, 3));
		if (name != NULL && value != NULL &&
		    strcasecmp(name, "email") == 0)
			list_add(l, value, role);
	}
}

static unsigned
entity_roles(const json_t *entity)
{
	const json_t *roles = json_object_get(entity, "roles");
	const char *s;
	unsigned bits = 0;
	size_t i;
	json_t *r;
	int k;

	json_array_foreach(roles, i, r) {
		if ((s = json_string_value(r)) == NULL)
			continue;
		for (k = 0; k < ROLE_COUNT; k++)
			if (strcasecmp(s, role_names[k]) == 0)
				bits |= ROLE_BIT(k);
	}
	return bits;
}

static enum rdap_role
first_role(unsigned bits)
{
	int k;

	for (k = 0; k < ROLE_COUNT; k++)
		if (bits & ROLE_BIT(k))
			break;
	return (enum rdap_role)k;
}

static void
walk_entities(struct email_list *l, const json_t *entities,
    unsigned top_redacted, int depth)
{
	unsigned roles, hidden;
	size_t i;
	json_t *ent;

	if (depth > RDAP_MAX_ENTITY_DEPTH)
		return;
	json_array_foreach(entities, i, ent) {
		roles = entity_roles(ent);
		hidden = top_redacted |
		    redacted_roles(json_object_get(ent, "redacted"), true);
		/* An entity with a redacted role is left out altogether:
		 * the redaction's path may pick it by any of its roles. */
		if (roles != 0 && (roles & hidden) == 0)
			add_vcard_emails(l, json_object_get(ent, "vcardArray"),
			    first_role(roles));
		walk_entities(l, json_object_get(ent, "entities"),
		    top_redacted, depth + 1);
	}
}

static int
cmp_found(const void *a, const void *b)
{
	const struct found_email *x = a, *y = b;

	if (x->role != y->role)
		return x->role < y->role ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

void
rdap_emails_free(char **emails)
{
	char **p;

	if (emails == NULL)
		return;
	for (p = emails; *p != NULL; p++)
		free(*p);
	free(emails);
}

int
rdap_domain_emails(const char *body, size_t len, char ***out,
    char **reterr_msg)
{
	_cleanup_json_ json_t *root = NULL;
	struct email_list l = { NULL, 0 };
	json_error_t jerr;
	char **v;
	size_t i;

	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		*reterr_msg = root == NULL ?
		    xasprintf("RDAP response is not JSON: %s", jerr.text) :
		    xstrdup("RDAP response is not a JSON object");
		return -EBADMSG;
	}
	walk_entities(&l, json_object_get(root, "entities"),
	    redacted_roles(json_object_get(root, "redacted"), false), 0);
	if (l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), cmp_found);
	v = xcalloc(l.n + 1, sizeof(*v));
	for (i = 0; i < l.n; i++)
		v[i] = l.v[i].email;
	free(l.v);
	*out = v;
	return 0;
}
