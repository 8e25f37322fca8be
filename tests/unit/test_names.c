/*
 * test_names.c: the domain-name rules of RequestCertificate
 * (src/validation/names.c). The single-name cases live in vectors/names.txt,
 * one per line, so a new case is one line; lists, limits, the deny-list
 * file format and the policy's loading are tested here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/xmalloc.h"
#include "validation/names.h"

#define VECTORS TOP_SRCDIR "/tests/unit/vectors/names.txt"

/* The policy the classify vectors are written for. */
static const char deny_fixture[] = "# test deny list\n"
                                   "evil.example.com\n"
                                   "  Phish.CO.uk   # trailing comment\n"
                                   "\n"
                                   "badtld\n"
                                   "bad.org\n"
                                   "www.shop.example.net\n"
                                   "evil.example.com\n";

static char *
write_temp(const char *content)
{
	char *path = xstrdup("/tmp/test_names.XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(content);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static struct names_policy *
fixture_policy(void)
{
	char *err = NULL, *path = write_temp(deny_fixture);
	struct names_policy *p = names_policy_new(NULL, &err);

	assert_non_null(p);
	assert_int_equal(names_policy_load_deny_list(p, path, &err), 0);
	assert_int_equal(names_policy_add_reserved_suffixes(
	                     p, "certfleet.example.org", &err),
	    0);
	assert_int_equal(names_policy_add_reserved_suffixes(
	                     p, " intra.example.info , ", &err),
	    0);
	unlink(path);
	free(path);
	return p;
}

/* Vector mismatches so far: every one is reported, then the test fails. */
static int vector_failures;

#define vector_fail(...)                                                       \
	do {                                                                   \
		print_error(__VA_ARGS__);                                      \
		print_error("\n");                                             \
		vector_failures++;                                             \
	} while (0)

/* Decodes "", \\, and \xNN escapes so vectors can hold any octet. */
static void
decode(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (strcmp(in, "\"\"") == 0) {
		out[0] = '\0';
		return;
	}
	for (size_t i = 0; in[i] && o + 1 < len; i++) {
		unsigned int byte;

		if (strncmp(in + i, "\\\\", 2) == 0) {
			out[o++] = '\\';
			i++;
		} else if (in[i] == '\\' && in[i + 1] == 'x' &&
		    sscanf(in + i + 2, "%2x", &byte) == 1) {
			out[o++] = (char)byte;
			i += 3;
		} else
			out[o++] = in[i];
	}
	out[o] = '\0';
}

static void
vector_name(int lineno, const char *in, const char *want, const char *msg)
{
	char *out = NULL, *err = NULL;
	int r = names_normalize(in, &out, &err);

	if (strcmp(want, "EINVAL") == 0 || strcmp(want, "EDOM") == 0) {
		int code = want[1] == 'I' ? -EINVAL : -EDOM;

		if (r != code)
			vector_fail("line %d: '%s': got %d (%s), want %s",
			    lineno, in, r, out ? out : err, want);
		else if (msg[0] != '\0' && strstr(err, msg) == NULL)
			vector_fail("line %d: message '%s' lacks '%s'", lineno,
			    err, msg);
	} else if (r != 0 || strcmp(out, want) != 0)
		vector_fail("line %d: '%s': got %d '%s' (%s), want '%s'",
		    lineno, in, r, out ? out : "", err ? err : "", want);
	free(out);
	free(err);
}

static void
vector_classify(
    const struct names_policy *p, int lineno, const char *in, const char *want)
{
	const char *reason = NULL;
	char *detail = NULL;
	int r = names_classify(p, in, &reason, &detail);

	if (strcmp(want, "OK") == 0) {
		if (r != 0)
			vector_fail("line %d: '%s': got %s (%s), want OK",
			    lineno, in, reason, detail);
	} else if (r != 1 || strcmp(reason, want) != 0 || detail == NULL)
		vector_fail("line %d: '%s': got %d %s, want %s", lineno, in, r,
		    r ? reason : "OK", want);
	free(detail);
}

static void
vector_registrable(
    const struct names_policy *p, int lineno, const char *in, const char *want)
{
	char *got = names_registrable_domain(p, in);

	if (strcmp(want, "NULL") == 0 ? got != NULL
	                              : (got == NULL || strcmp(got, want) != 0))
		vector_fail("line %d: '%s': got %s, want %s", lineno, in,
		    got ? got : "NULL", want);
	free(got);
}

static void
vector_parent(int lineno, const char *vd, const char *name, const char *want)
{
	bool got = names_is_parent_or_self(vd, name);

	if (got != (strcmp(want, "yes") == 0))
		vector_fail("line %d: '%s' of '%s': got %s, want %s", lineno,
		    vd, name, got ? "yes" : "no", want);
}

/* Runs one vector line; returns 1 when it was a case. */
static int
run_line(const struct names_policy *p, int lineno, char *line)
{
	char *f[4] = {NULL}, *save = NULL, a[512], b[512], c[512];
	int n = 0;

	for (char *t = strtok_r(line, " \t\n", &save); t && n < 4;
	     t = strtok_r(NULL, " \t\n", &save))
		f[n++] = t;
	if (n == 0 || f[0][0] == '#')
		return 0;
	if (n < 3) {
		vector_fail("line %d: too few columns", lineno);
		return 1;
	}
	decode(f[1], a, sizeof(a));
	decode(f[2], b, sizeof(b));
	decode(f[3] ? f[3] : "\"\"", c, sizeof(c));
	if (strcmp(f[0], "name") == 0)
		vector_name(lineno, a, b, c);
	else if (strcmp(f[0], "classify") == 0)
		vector_classify(p, lineno, a, b);
	else if (strcmp(f[0], "admin") == 0) {
		if (strcmp(names_strip_for_admin(a), b) != 0)
			vector_fail("line %d: '%s': got '%s', want '%s'",
			    lineno, a, names_strip_for_admin(a), b);
	} else if (strcmp(f[0], "registrable") == 0)
		vector_registrable(p, lineno, a, b);
	else if (strcmp(f[0], "parent") == 0)
		vector_parent(lineno, a, b, c);
	else
		vector_fail("line %d: unknown kind '%s'", lineno, f[0]);
	return 1;
}

static void
test_vectors(void **state)
{
	struct names_policy *p = fixture_policy();
	FILE *f = fopen(VECTORS, "r");
	char line[1024];
	int lineno = 0, cases = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		cases += run_line(p, ++lineno, line);
	fclose(f);
	print_message("%d vector cases, %d failed\n", cases, vector_failures);
	assert_int_equal(vector_failures, 0);
	assert_true(cases >= 100);
	names_policy_free(p);
}

/* A name of `labels` labels of `len` letters each, the last of `last`. */
static char *
make_name(size_t labels, size_t len, size_t last)
{
	size_t total = (labels - 1) * (len + 1) + last;
	char *s = xmalloc(total + 1), *o = s;

	for (size_t i = 0; i < labels; i++) {
		size_t l = i + 1 == labels ? last : len;

		memset(o, 'a', l);
		o += l;
		if (i + 1 < labels)
			*o++ = '.';
	}
	*o = '\0';
	return s;
}

static void
expect_name(const char *in, int want)
{
	char *out = NULL, *err = NULL;
	int r = names_normalize(in, &out, &err);

	assert_int_equal(r, want);
	free(out);
	free(err);
}

/* The guide's examples: (63).(63).(63).(61) is legal, one more is not. */
static void
test_lengths(void **state)
{
	char *ok = make_name(4, 63, 61), *long_total = make_name(4, 63, 62);
	char *label64 = make_name(2, 64, 3), *label63 = make_name(2, 63, 3);
	char *huge = make_name(100, 63, 3), *err = NULL, *out = NULL;

	(void)state;
	assert_int_equal(strlen(ok), 253);
	expect_name(ok, 0);
	expect_name(long_total, -EINVAL);
	expect_name(label64, -EINVAL);
	expect_name(label63, 0);
	/* A huge name is echoed cut short, not in full. */
	assert_int_equal(names_normalize(huge, &out, &err), -EINVAL);
	assert_non_null(strstr(err, "..."));
	assert_true(strlen(err) < 400);
	free(err);
	assert_int_equal(names_normalize(NULL, &out, &err), -EINVAL);
	free(err);
	free(ok);
	free(long_total);
	free(label64);
	free(label63);
	free(huge);
}

static void
test_unicode_message(void **state)
{
	char *out = NULL, *err = NULL;

	(void)state;
	assert_int_equal(
	    names_normalize("bücher.example", &out, &err), -EINVAL);
	assert_string_equal(err,
	    "Invalid domain name 'bücher.example': it contains non-ASCII "
	    "characters; ACM takes an internationalised name in its ASCII "
	    "(IDNA A-label) form: use 'xn--bcher-kva.example'.");
	assert_null(out);
	free(err);
}

static void
test_list_dedup_order(void **state)
{
	const char *sans[] = {"Example.com", "www.example.com", "*.Example.com",
	    "EXAMPLE.COM", "api.example.com"};
	char **names = NULL, *err = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(names_normalize_list("WWW.example.com", sans,
	                     ELEMENTSOF(sans), 10, &names, &n, &err),
	    0);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "www.example.com");
	assert_string_equal(names[1], "example.com");
	assert_string_equal(names[2], "*.example.com");
	assert_string_equal(names[3], "api.example.com");
	assert_null(names[4]);
	names_list_free(names);
	names_list_free(NULL);

	assert_int_equal(
	    names_normalize_list("example.com", NULL, 0, 1, &names, &n, &err),
	    0);
	assert_int_equal(n, 1);
	names_list_free(names);
}

static void
test_list_limit(void **state)
{
	char *sans[12], **names = NULL, *err = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(sans); i++)
		sans[i] = xasprintf("n%zu.example.com", i);
	/* DomainName plus 9 SANs: 10 names, the default limit. */
	assert_int_equal(names_normalize_list("example.com",
	                     (const char *const *)sans, 9, 0, &names, &n, &err),
	    0);
	assert_int_equal(n, 10);
	names_list_free(names);
	/* 11 names: refused with ACM's message. */
	assert_int_equal(
	    names_normalize_list("example.com", (const char *const *)sans, 10,
	        0, &names, &n, &err),
	    -E2BIG);
	assert_non_null(strstr(err, "Certificate has too many domains."));
	assert_non_null(strstr(err, "10"));
	free(err);
	/* Duplicates do not count. */
	free(sans[9]);
	sans[9] = xstrdup("N0.EXAMPLE.com");
	assert_int_equal(
	    names_normalize_list("example.com", (const char *const *)sans, 10,
	        10, &names, &n, &err),
	    0);
	assert_int_equal(n, 10);
	names_list_free(names);
	/* A configured limit. */
	assert_int_equal(
	    names_normalize_list("example.com", (const char *const *)sans, 12,
	        13, &names, &n, &err),
	    0);
	names_list_free(names);
	assert_int_equal(names_normalize_list("example.com",
	                     (const char *const *)sans, 3, 3, &names, &n, &err),
	    -E2BIG);
	free(err);
	for (size_t i = 0; i < ELEMENTSOF(sans); i++)
		free(sans[i]);
}

static void
test_list_errors(void **state)
{
	const char *sans[] = {"ok.example.com", "bad_name.example.com"};
	const char *sans2[] = {"xn--zz.example.com"};
	char **names = NULL, *err = NULL, *first = NULL, *first64 = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    names_normalize_list("example.com", sans, 2, 10, &names, &n, &err),
	    -EINVAL);
	assert_non_null(strstr(err, "bad_name.example.com"));
	free(err);
	assert_int_equal(
	    names_normalize_list("example.com", sans2, 1, 10, &names, &n, &err),
	    -EDOM);
	free(err);
	assert_int_equal(
	    names_normalize_list(NULL, NULL, 0, 10, &names, &n, &err), -EINVAL);
	free(err);
	/* DomainName is the CN: at most 64 octets; SANs may be longer. */
	first64 = make_name(2, 60, 3);
	first = make_name(2, 61, 3);
	assert_int_equal(strlen(first64), 64);
	assert_int_equal(
	    names_normalize_list(first64, NULL, 0, 10, &names, &n, &err), 0);
	names_list_free(names);
	assert_int_equal(
	    names_normalize_list(first, NULL, 0, 10, &names, &n, &err), -EDOM);
	assert_non_null(strstr(err, "64 octets"));
	free(err);
	assert_int_equal(
	    names_normalize_list("example.com", (const char *const *)&first, 1,
	        10, &names, &n, &err),
	    0);
	assert_int_equal(n, 2);
	names_list_free(names);
	free(first);
	free(first64);
}

static int
load_deny(struct names_policy *p, const char *content, char **err)
{
	char *path = write_temp(content);
	int r = names_policy_load_deny_list(p, path, err);

	unlink(path);
	free(path);
	return r;
}

static void
expect_deny_error(struct names_policy *p, const char *content,
    const char *where, const char *what)
{
	char *err = NULL;

	assert_int_equal(load_deny(p, content, &err), -EINVAL);
	if (strstr(err, where) == NULL || strstr(err, what) == NULL)
		fail_msg("'%s' lacks '%s' or '%s'", err, where, what);
	assert_non_null(strstr(err, "/tmp/test_names."));
	free(err);
}

static void
test_deny_list_file(void **state)
{
	char *err = NULL, *detail = NULL;
	const char *reason = NULL;
	struct names_policy *p = names_policy_new(NULL, &err);

	(void)state;
	assert_int_equal(load_deny(p, "# only comments\n\n   \n", &err), 0);
	assert_int_equal(
	    names_classify(p, "www.example.com", &reason, &detail), 0);
	assert_int_equal(load_deny(p, "example.com\r\n", &err), 0);
	assert_int_equal(
	    names_classify(p, "www.example.com", &reason, &detail), 1);
	assert_string_equal(reason, "DOMAIN_NOT_ALLOWED");
	assert_non_null(strstr(detail, "example.com"));
	free(detail);
	/* Malformed lines name file and line; the old list stays. */
	expect_deny_error(p, "ok.com\nbad_entry.com\n", ":2:", "'_'");
	expect_deny_error(p, "a.com b.com\n", ":1:", "one domain a line");
	expect_deny_error(p, "\n\n*.example.com\n", ":3:", "without '*.'");
	expect_deny_error(p, "ok.com\nexample..com\n", ":2:", "empty label");
	expect_deny_error(p, "bücher.example\n", ":1:", "xn--bcher-kva");
	expect_deny_error(p, "-bad.com\n", ":1:", "hyphen");
	assert_int_equal(names_classify(p, "example.com", &reason, &detail), 1);
	free(detail);
	/* A missing file is -ENOENT with the path. */
	assert_int_equal(
	    names_policy_load_deny_list(p, "/nonexistent/deny", &err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/deny"));
	free(err);
	/* Loading again replaces the list. */
	assert_int_equal(load_deny(p, "other.org\n", &err), 0);
	assert_int_equal(names_classify(p, "example.com", &reason, &detail), 0);
	names_policy_free(p);
}

/* Many entries: each parent is one binary search. */
static void
test_deny_list_large(void **state)
{
	size_t n = 20000, len = 0;
	char *content = xmalloc(n * 32), *err = NULL, *detail = NULL;
	const char *reason = NULL;
	struct names_policy *p = names_policy_new(NULL, &err);

	(void)state;
	for (size_t i = n; i > 0; i--)
		len += (size_t)snprintf(
		    content + len, n * 32 - len, "host%zu.example.com\n", i);
	assert_int_equal(load_deny(p, content, &err), 0);
	assert_int_equal(
	    names_classify(p, "a.host777.example.com", &reason, &detail), 1);
	free(detail);
	assert_int_equal(
	    names_classify(p, "host0.example.com", &reason, &detail), 0);
	/* *.example.com would match every host: refused. */
	assert_int_equal(
	    names_classify(p, "*.example.com", &reason, &detail), 1);
	assert_string_equal(reason, "DOMAIN_NOT_ALLOWED");
	free(detail);
	free(content);
	names_policy_free(p);
}

static void
test_reserved_suffixes(void **state)
{
	char *err = NULL, *detail = NULL;
	const char *reason = NULL;
	struct names_policy *p = names_policy_new(NULL, &err);

	(void)state;
	assert_int_equal(names_policy_add_reserved_suffixes(p, "", &err), 0);
	assert_int_equal(names_policy_add_reserved_suffixes(p, NULL, &err), 0);
	assert_int_equal(
	    names_policy_add_reserved_suffixes(
	        p, "A.Example.com, b.example.net,,c.example.org", &err),
	    0);
	assert_int_equal(
	    names_classify(p, "x.a.example.com", &reason, &detail), 1);
	assert_string_equal(reason, "ADDITIONAL_VERIFICATION_REQUIRED");
	assert_non_null(strstr(detail, "a.example.com"));
	free(detail);
	assert_int_equal(
	    names_classify(p, "C.EXAMPLE.ORG", &reason, &detail), 1);
	free(detail);
	/* A malformed item adds nothing. */
	assert_int_equal(names_policy_add_reserved_suffixes(
	                     p, "d.example.com, bad_one.com", &err),
	    -EINVAL);
	assert_non_null(strstr(err, "bad_one.com"));
	free(err);
	assert_int_equal(
	    names_policy_add_reserved_suffixes(p, "*.example.com", &err),
	    -EINVAL);
	free(err);
	assert_int_equal(
	    names_policy_add_reserved_suffixes(p, "e.example.com # note", &err),
	    -EINVAL);
	free(err);
	assert_int_equal(
	    names_classify(p, "d.example.com", &reason, &detail), 0);
	/* Earlier suffixes stay when more are added. */
	assert_int_equal(
	    names_policy_add_reserved_suffixes(p, "d.example.com", &err), 0);
	assert_int_equal(
	    names_classify(p, "d.example.com", &reason, &detail), 1);
	free(detail);
	assert_int_equal(
	    names_classify(p, "b.example.net", &reason, &detail), 1);
	free(detail);
	names_policy_free(p);
}

/* The first failing check wins: public suffix, deny list, reserved. */
static void
test_classify_order(void **state)
{
	char *err = NULL, *detail = NULL;
	const char *reason = NULL;
	struct names_policy *p = names_policy_new(NULL, &err);

	(void)state;
	assert_int_equal(load_deny(p, "example.com\ncom\n", &err), 0);
	assert_int_equal(
	    names_policy_add_reserved_suffixes(p, "www.example.com", &err), 0);
	assert_int_equal(
	    names_classify(p, "www.example.com", &reason, &detail), 1);
	assert_string_equal(reason, "DOMAIN_NOT_ALLOWED");
	free(detail);
	assert_int_equal(names_classify(p, "com", &reason, &detail), 1);
	assert_string_equal(reason, "INVALID_PUBLIC_DOMAIN");
	assert_non_null(strstr(detail, "public suffix"));
	free(detail);
	assert_int_equal(
	    names_classify(p, "example.invalid", &reason, &detail), 1);
	assert_non_null(strstr(detail, "not under a public suffix"));
	free(detail);
	names_policy_free(p);
}

static void
test_policy_psl_sources(void **state)
{
	char *err = NULL, *detail = NULL;
	const char *reason = NULL;
	struct names_policy *p;

	(void)state;
	/* An unreadable file falls back to libpsl's own list. */
	p = names_policy_new("/nonexistent/public_suffix_list.dat", &err);
	assert_non_null(p);
	assert_int_equal(names_classify(p, "co.uk", &reason, &detail), 1);
	free(detail);
	assert_int_equal(
	    names_classify(p, "example.co.uk", &reason, &detail), 0);
	names_policy_free(p);
	names_policy_free(NULL);
	/* A list of our own: only what it names is a suffix. */
	{
		char *path = write_temp("// test list\n"
		                        "// ===BEGIN ICANN DOMAINS===\n"
		                        "test\n"
		                        "// ===END ICANN DOMAINS===\n");

		p = names_policy_new(path, &err);
		unlink(path);
		free(path);
	}
	assert_non_null(p);
	assert_int_equal(
	    names_classify(p, "example.test", &reason, &detail), 0);
	assert_int_equal(names_classify(p, "example.com", &reason, &detail), 1);
	free(detail);
	names_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_unicode_message),
	    cmocka_unit_test(test_list_dedup_order),
	    cmocka_unit_test(test_list_limit),
	    cmocka_unit_test(test_list_errors),
	    cmocka_unit_test(test_deny_list_file),
	    cmocka_unit_test(test_deny_list_large),
	    cmocka_unit_test(test_reserved_suffixes),
	    cmocka_unit_test(test_classify_order),
	    cmocka_unit_test(test_policy_psl_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
