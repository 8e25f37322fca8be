/*
 * test_store.c: src/store against a real PostgreSQL server.
 *
 * CERTFLEET_TEST_DSN names a server where we may create databases (for
 * example "host=/tmp/pg port=55432 dbname=postgres user=postgres"); without
 * it every test is skipped. Each test gets a database of its own, migrated
 * and prepared, and drops it at the end. A few statements here set up what
 * the store has no function for yet (bindings, a future schema version).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/describe.h"
#include "store/store.h"

#define ARN_PREFIX "arn:aws:acm:local:000000000000:certificate/"

struct fixture {
	char dbname[64];
	PGconn *conn;		/* migrated and prepared */
};

static const char *
test_dsn(void)
{
	const char *dsn = getenv("CERTFLEET_TEST_DSN");

	return dsn != NULL && *dsn != '\0' ? dsn : NULL;
}

/* The test server's DSN with another database name. */
static PGconn *
connect_db(const char *dbname)
{
	const char *keys[] = { "dbname", "dbname", NULL };
	const char *values[] = { test_dsn(), dbname, NULL };
	PGconn *conn;

	conn = PQconnectdbParams(keys, values, 1);
	assert_non_null(conn);
	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("connect %s: %s", dbname, PQerrorMessage(conn));
	return conn;
}

static void
admin_exec(const char *sql)
{
	PGconn *admin = connect_db(NULL);
	PGresult *res = PQexec(admin, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(admin));
	PQclear(res);
	PQfinish(admin);
}

static void
sql_exec(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

static long
sql_long(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	long v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(conn));
	v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static int
create_db(void **state, bool migrate)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *msg = NULL, *sql;
	int applied;

	*state = f;
	if (test_dsn() == NULL)
		return 0;
	snprintf(f->dbname, sizeof(f->dbname), "certfleet_test_%ld_%08lx",
	    (long)getpid(), (unsigned long)random());
	sql = xasprintf("CREATE DATABASE %s", f->dbname);
	admin_exec(sql);
	free(sql);
	f->conn = connect_db(f->dbname);
	if (!migrate)
		return 0;
	assert_int_equal(store_migrate(f->conn, &applied, &msg), 0);
	assert_int_equal(store_prepare(f->conn, &msg), 0);
	return 0;
}

static int
setup(void **state)
{
	return create_db(state, true);
}

static int
setup_empty(void **state)
{
	return create_db(state, false);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *sql;

	if (f->conn != NULL) {
		PQfinish(f->conn);
		sql = xasprintf("DROP DATABASE %s WITH (FORCE)", f->dbname);
		admin_exec(sql);
		free(sql);
	}
	free(f);
	return 0;
}

static PGconn *
need_db(void **state)
{
	struct fixture *f = *state;

	if (f->conn == NULL)
		skip();
	return f->conn;
}

/* ---- test data ----------------------------------------------------------- */

static char **
strv(const char *first, ...)
{
	char **v = xcalloc(16, sizeof(char *));
	va_list ap;
	size_t n = 0;

	va_start(ap, first);
	for (const char *s = first; s != NULL && n < 15; s = va_arg(ap, const char *))
		v[n++] = xstrdup(s);
	va_end(ap);
	return v;
}

static char *
arn_of(const char *suffix)
{
	return xasprintf(ARN_PREFIX "%s", suffix);
}

/* A version whose every field names `tag`, valid for a year from now. */
static void
make_version(struct store_cert_version *v, const char *tag)
{
	static const unsigned char key[] = { 's', 'e', 0, 'a', 'l', 0xff, 0 };

	memset(v, 0, sizeof(*v));
	v->certificate_pem = xasprintf("-----BEGIN CERTIFICATE-----\n%s\n"
	    "-----END CERTIFICATE-----\n", tag);
	v->chain_pem = xasprintf("chain of %s", tag);
	v->sealed_key = xmalloc(sizeof(key) + 1);
	memcpy(v->sealed_key, key, sizeof(key));
	v->sealed_key[sizeof(key)] = (unsigned char)tag[0];
	v->sealed_key_len = sizeof(key) + 1;
	v->serial = xasprintf("0a:%02x", (unsigned)tag[0]);
	v->subject = xasprintf("CN=%s.example.com", tag);
	v->issuer = xstrdup("CN=Test CA,O=Example \"Quoted\\Corp\"");
	v->domain_name = xasprintf("%s.example.com", tag);
	v->names = strv(v->domain_name, "www.example.com", "*.example.com",
	    NULL);
	v->not_before = (int64_t)time(NULL) - 3600;
	v->not_after = (int64_t)time(NULL) + 365 * 86400;
	v->key_algorithm = xstrdup("RSA_2048");
	v->signature_algorithm = xstrdup("SHA256WITHRSA");
	v->key_usages = strv("DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT", NULL);
	v->extended_key_usages = strv("TLS_WEB_SERVER_AUTHENTICATION", NULL);
	v->fingerprint_sha256 = xasprintf("%064x", (unsigned)tag[0]);
}

static int
import_named(PGconn *conn, const char *suffix, int limit)
{
	struct store_cert_version v;
	_cleanup_free_ char *arn = arn_of(suffix);
	char *msg = NULL;
	int r;

	make_version(&v, suffix);
	r = store_cert_import(conn, arn, &v, NULL, 0, limit, &msg);
	store_cert_version_clear(&v);
	free(msg);
	return r;
}

static void
assert_strv_equal(char **a, char **b)
{
	assert_int_equal(strv_len(a), strv_len(b));
	for (size_t i = 0; i < strv_len(a); i++)
		assert_string_equal(a[i], b[i]);
}

/* ---- helpers ------------------------------------------------------------- */

static void
test_array_literal_escapes(void **state)
{
	const char *items[] = { "plain", "a,b", "q\"uote", "back\\slash",
		"", "NULL", NULL, "{x}", " sp " };
	char *s = store_array_literal(items, ELEMENTSOF(items));
	PGconn *conn;
	PGresult *res;
	const char *params[1];

	assert_string_equal(s, "{\"plain\",\"a,b\",\"q\\\"uote\","
	    "\"back\\\\slash\",\"\",\"NULL\",NULL,\"{x}\",\" sp \"}");
	free(s);
	s = store_array_literal(NULL, 0);
	assert_string_equal(s, "{}");
	free(s);

	/* And the server reads it back element for element. */
	conn = ((struct fixture *)*state)->conn;
	if (conn == NULL)
		return;
	s = store_array_literal(items, ELEMENTSOF(items));
	params[0] = s;
	res = PQexecParams(conn, "SELECT array_to_json($1::text[])", 1, NULL,
	    params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(res, 0, 0), "[\"plain\",\"a,b\","
	    "\"q\\\"uote\",\"back\\\\slash\",\"\",\"NULL\",null,\"{x}\","
	    "\" sp \"]");
	PQclear(res);
	free(s);
}

/* ---- migrations ---------------------------------------------------------- */

static void
test_migrate_empty_database_applies_all(void **state)
{
	PGconn *conn = need_db(state);
	char *msg = NULL;
	int applied = -1;

	assert_true(store_schema_version() >= 1);
	assert_int_equal(store_migrate(conn, &applied, &msg), 0);
	assert_int_equal(applied, store_schema_version());
	assert_int_equal(sql_long(conn, "SELECT max(version) FROM "
	    "schema_migrations"), store_schema_version());
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM "
	    "information_schema.tables WHERE table_name IN ('certificates', "
	    "'certificate_versions', 'certificate_tags', 'bindings', "
	    "'domain_validations', 'approval_tokens', 'mail_outbox', "
	    "'issuance_intents', 'request_tokens', 'account_config', "
	    "'expiry_events', 'audit_events')"), 12);
	assert_int_equal(store_prepare(conn, &msg), 0);
	assert_null(msg);
}

static void
test_migrate_twice_is_a_noop(void **state)
{
	PGconn *conn = need_db(state);
	char *msg = NULL;
	int applied = -1;

	assert_int_equal(store_migrate(conn, &applied, &msg), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM "
	    "schema_migrations"), store_schema_version());
}

struct migrate_job {
	const char *dbname;
	int r, applied;
};

static void *
migrate_thread(void *arg)
{
	struct migrate_job *j = arg;
	const char *keys[] = { "dbname", "dbname", NULL };
	const char *values[] = { test_dsn(), j->dbname, NULL };
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	char *msg = NULL;

	j->r = store_migrate(conn, &j->applied, &msg);
	free(msg);
	PQfinish(conn);
	return NULL;
}

static void
test_migrate_concurrently_applies_once(void **state)
{
	struct fixture *f = *state;
	struct migrate_job jobs[4];
	pthread_t t[ELEMENTSOF(jobs)];
	int total = 0;

	need_db(state);
	for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
		jobs[i] = (struct migrate_job){ .dbname = f->dbname };
		assert_int_equal(pthread_create(&t[i], NULL, migrate_thread,
		    &jobs[i]), 0);
	}
	for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].r, 0);
		total += jobs[i].applied;
	}
	assert_int_equal(total, store_schema_version());
	assert_int_equal(sql_long(f->conn, "SELECT count(*) FROM "
	    "schema_migrations"), store_schema_version());
}

static void
test_migrate_refuses_newer_database(void **state)
{
	PGconn *conn = need_db(state);
	_cleanup_free_ char *expect = NULL;
	char *msg = NULL;
	int applied;

	sql_exec(conn, "INSERT INTO schema_migrations (version, name) "
	    "VALUES (999, 'future')");
	assert_int_equal(store_migrate(conn, &applied, &msg), -EPROTO);
	expect = xasprintf("database schema is at version 999 but this "
	    "certfleetd knows only up to %d; upgrade certfleetd",
	    store_schema_version());
	assert_string_equal(msg, expect);
	free(msg);
	/* The lock was released: a later run gets as far as the check. */
	msg = NULL;
	assert_int_equal(store_migrate(conn, &applied, &msg), -EPROTO);
	free(msg);
}

/* ---- certificates -------------------------------------------------------- */

static void
test_import_get_round_trip_every_field(void **state)
{
	PGconn *conn = need_db(state);
	struct store_cert_version v;
	struct store_tag tags[] = { { "Env", "prod" }, { "Owner", NULL } };
	_cleanup_free_ char *arn = arn_of("rt");
	struct store_cert *c = NULL;
	unsigned char *key = NULL;
	size_t key_len = 0;
	char *msg = NULL;
	int64_t now = (int64_t)time(NULL);

	make_version(&v, "rt");
	assert_int_equal(store_cert_import(conn, arn, &v, tags, 2, 10, &msg),
	    0);
	assert_int_equal(store_cert_get(conn, arn, &c, &msg), 0);
	assert_string_equal(c->arn, arn);
	assert_string_equal(c->type, "IMPORTED");
	assert_string_equal(c->status, "ISSUED");
	assert_null(c->failure_reason);
	assert_string_equal(c->renewal_eligibility, "INELIGIBLE");
	assert_true(c->created_at >= now - 5 && c->created_at <= now + 5);
	assert_true(c->imported_at >= now - 5 && c->imported_at <= now + 5);
	assert_int_equal(c->issued_at, 0);
	assert_int_equal(c->version, 1);
	assert_string_equal(c->cur.certificate_pem, v.certificate_pem);
	assert_string_equal(c->cur.chain_pem, v.chain_pem);
	assert_null(c->cur.sealed_key);
	assert_string_equal(c->cur.serial, v.serial);
	assert_string_equal(c->cur.subject, v.subject);
	assert_string_equal(c->cur.issuer, v.issuer);
	assert_string_equal(c->cur.domain_name, v.domain_name);
	assert_strv_equal(c->cur.names, v.names);
	assert_int_equal(c->cur.not_before, v.not_before);
	assert_int_equal(c->cur.not_after, v.not_after);
	assert_string_equal(c->cur.key_algorithm, v.key_algorithm);
	assert_string_equal(c->cur.signature_algorithm,
	    v.signature_algorithm);
	assert_strv_equal(c->cur.key_usages, v.key_usages);
	assert_strv_equal(c->cur.extended_key_usages, v.extended_key_usages);
	assert_string_equal(c->cur.fingerprint_sha256, v.fingerprint_sha256);
	assert_int_equal(strv_len(c->in_use_by), 0);
	store_cert_free(c);

	assert_int_equal(store_cert_sealed_key(conn, arn, 0, &key, &key_len,
	    &msg), 0);
	assert_int_equal(key_len, v.sealed_key_len);
	assert_memory_equal(key, v.sealed_key, key_len);
	secret_free(key, key_len);
	assert_int_equal(store_cert_sealed_key(conn, arn, 2, &key, &key_len,
	    &msg), -ENOENT);
	free(TAKE_PTR(msg));
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM "
	    "certificate_names"), 3);
	store_cert_version_clear(&v);
}

/* DescribeCertificate's one statement: an import has no names of its own
 * here, a request has one row per name, in request order. */
static void
test_describe_in_one_statement(void **state)
{
	PGconn *conn = need_db(state);
	struct store_cert_version v;
	_cleanup_free_ char *arn = arn_of("desc");
	_cleanup_free_ char *missing = arn_of("missing");
	struct store_cert_description d;
	char *msg = NULL;

	make_version(&v, "desc");
	assert_int_equal(store_cert_import(conn, arn, &v, NULL, 0, 10, &msg),
	    0);
	assert_int_equal(store_cert_describe(conn, arn, &d, &msg), 0);
	assert_string_equal(d.cert->arn, arn);
	assert_string_equal(d.cert->cur.serial, v.serial);
	assert_strv_equal(d.cert->cur.names, v.names);
	assert_null(d.cert->cur.certificate_pem);
	assert_null(d.request->validation_method);
	assert_int_equal(d.request->n_validations, 0);
	assert_null(d.renewal->status);
	assert_int_equal(d.renewal->n_names, 0);
	store_cert_description_clear(&d);

	sql_exec(conn, "INSERT INTO domain_validations (certificate_id, "
	    "domain_name, validation_domain, status, validation_method, "
	    "emails, position) SELECT id, n, n, 'PENDING_VALIDATION', "
	    "'EMAIL', ARRAY['admin@' || n], p FROM certificates, "
	    "unnest(ARRAY['b.example.com', 'a.example.com']) WITH ORDINALITY "
	    "AS u(n, p)");
	assert_int_equal(store_cert_describe(conn, arn, &d, &msg), 0);
	assert_int_equal(d.request->n_validations, 2);
	assert_string_equal(d.request->validations[0].domain_name,
	    "b.example.com");
	assert_string_equal(d.request->validations[1].emails[0],
	    "admin@a.example.com");
	assert_int_equal(d.renewal->n_names, 2);
	assert_string_equal(d.renewal->names[1].status, "PENDING_VALIDATION");
	store_cert_description_clear(&d);

	assert_int_equal(store_cert_describe(conn, missing, &d, &msg),
	    -ENOENT);
	assert_non_null(strstr(msg, missing));
	assert_null(d.cert);
	free(msg);
	store_cert_version_clear(&v);
}

/* Many events in one statement, NULLs and JSON members kept apart. */
static void
test_audit_insert_many(void **state)
{
	PGconn *conn = need_db(state);
	struct store_audit_event e[2] = {
		{ .event_id = "00000000-0000-4000-8000-000000000001",
		  .event_name = "DescribeCertificate", .read_only = true,
		  .caller_uid = 0, .caller_gid = 0, .caller_pid = 42,
		  .caller_user = "root", .source = "unix",
		  .request_params = "{\"CertificateArn\": \"x\"}",
		  .request_id = "r1", .host_name = "h" },
		{ .event_id = "00000000-0000-4000-8000-000000000002",
		  .event_name = "GetCertificate", .read_only = true,
		  .caller_uid = -1, .caller_gid = -1, .caller_pid = -1,
		  .source = "unix", .error_code = "ValidationException",
		  .error_message = "it's \"quoted\"\n", .request_id = "r2" },
	};
	char *msg = NULL;

	assert_int_equal(store_audit_insert_many(conn, e, 2, &msg), 0);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM audit_events"),
	    2);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM audit_events "
	    "WHERE event_name = 'DescribeCertificate' AND caller_pid = 42 "
	    "AND request_params->>'CertificateArn' = 'x' AND read_only"), 1);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM audit_events "
	    "WHERE caller_uid IS NULL AND request_params IS NULL AND "
	    "error_message = E'it''s \"quoted\"\\n'"), 1);
}

static void
test_import_without_chain_and_expired(void **state)
{
	PGconn *conn = need_db(state);
	struct store_cert_version v;
	_cleanup_free_ char *arn = arn_of("old");
	struct store_cert *c = NULL;
	char *msg = NULL;

	make_version(&v, "old");
	free(TAKE_PTR(v.chain_pem));
	v.not_after = (int64_t)time(NULL) - 60;
	assert_int_equal(store_cert_import(conn, arn, &v, NULL, 0, -1, &msg),
	    0);
	assert_int_equal(store_cert_get(conn, arn, &c, &msg), 0);
	assert_string_equal(c->status, "EXPIRED");
	assert_null(c->cur.chain_pem);
	store_cert_free(c);
	store_cert_version_clear(&v);
	/* The same ARN twice is a conflict, not a second certificate. */
	assert_int_equal(import_named(conn, "old", -1), -EEXIST);
}

static void
test_get_unknown_is_enoent(void **state)
{
	PGconn *conn = need_db(state);
	struct store_cert *c = NULL;
	char *msg = NULL;

	assert_int_equal(store_cert_get(conn, ARN_PREFIX "none", &c, &msg),
	    -ENOENT);
	assert_null(c);
	assert_non_null(msg);
	free(msg);
}

static void
test_reimport_adds_version_keeps_tags(void **state)
{
	PGconn *conn = need_db(state);
	struct store_cert_version v1, v2;
	struct store_tag tag = { "k", "v" };
	_cleanup_free_ char *arn = arn_of("re");
	struct store_cert *c = NULL;
	struct store_tag *tags = NULL;
	unsigned char *key = NULL;
	size_t n, key_len;
	char *msg = NULL;

	make_version(&v1, "re");
	make_version(&v2, "Second");
	strv_free(v2.key_usages);
	v2.key_usages = strv(NULL);
	free(v2.key_algorithm);
	v2.key_algorithm = xstrdup("EC_prime256v1");
	assert_int_equal(store_cert_import(conn, arn, &v1, &tag, 1, 10, &msg),
	    0);
	assert_int_equal(store_cert_reimport(conn, arn, &v2, &msg), 0);
	assert_int_equal(store_cert_get(conn, arn, &c, &msg), 0);
	assert_int_equal(c->version, 2);
	assert_string_equal(c->cur.certificate_pem, v2.certificate_pem);
	assert_string_equal(c->cur.domain_name, v2.domain_name);
	assert_string_equal(c->cur.key_algorithm, "EC_prime256v1");
	assert_int_equal(strv_len(c->cur.key_usages), 0);
	assert_strv_equal(c->cur.names, v2.names);
	store_cert_free(c);

	assert_int_equal(store_tags_list(conn, arn, &tags, &n, &msg), 0);
	assert_int_equal(n, 1);
	store_tags_free(tags, n);
	assert_int_equal(store_cert_sealed_key(conn, arn, 0, &key, &key_len,
	    &msg), 0);
	assert_memory_equal(key, v2.sealed_key, key_len);
	secret_free(key, key_len);
	assert_int_equal(store_cert_sealed_key(conn, arn, 1, &key, &key_len,
	    &msg), 0);
	assert_memory_equal(key, v1.sealed_key, key_len);
	secret_free(key, key_len);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM "
	    "certificate_names WHERE name = 'Second.example.com'"), 1);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM "
	    "certificate_names"), 3);

	assert_int_equal(store_cert_reimport(conn, ARN_PREFIX "none", &v2,
	    &msg), -ENOENT);
	free(TAKE_PTR(msg));
	store_cert_version_clear(&v1);
	store_cert_version_clear(&v2);
}

static void
test_delete_removes_everything(void **state)
{
	PGconn *conn = need_db(state);
	_cleanup_free_ char *arn = arn_of("del");
	struct store_tag tag = { "k", NULL };
	struct store_cert *c = NULL;
	char *msg = NULL;

	assert_int_equal(import_named(conn, "del", -1), 0);
	assert_int_equal(store_tags_add(conn, arn, &tag, 1, 50, &msg), 0);
	assert_int_equal(store_cert_delete(conn, arn, &msg), 0);
	assert_int_equal(store_cert_get(conn, arn, &c, &msg), -ENOENT);
	free(TAKE_PTR(msg));
	assert_int_equal(store_cert_delete(conn, arn, &msg), -ENOENT);
	free(TAKE_PTR(msg));
	assert_int_equal(sql_long(conn, "SELECT (SELECT count(*) FROM "
	    "certificate_versions) + (SELECT count(*) FROM certificate_tags) "
	    "+ (SELECT count(*) FROM certificate_names)"), 0);
}

static void
test_delete_refused_while_bound(void **state)
{
	PGconn *conn = need_db(state);
	_cleanup_free_ char *arn = arn_of("bound");
	struct store_list_query q = { .max_items = 10 };
	struct store_cert_page *page = NULL;
	struct store_cert *c = NULL;
	char *msg = NULL;

	assert_int_equal(import_named(conn, "bound", -1), 0);
	sql_exec(conn, "INSERT INTO bindings (arn, certificate_id, host_name, "
	    "file_targets) SELECT 'arn:binding/1', id, 'web1', "
	    "'[{\"path\": \"/etc/ssl/a.pem\"}]' FROM certificates");
	assert_int_equal(store_cert_delete(conn, arn, &msg), -EBUSY);
	free(TAKE_PTR(msg));
	assert_int_equal(store_cert_get(conn, arn, &c, &msg), 0);
	assert_int_equal(strv_len(c->in_use_by), 1);
	assert_string_equal(c->in_use_by[0], "arn:binding/1");
	store_cert_free(c);
	assert_int_equal(store_cert_list(conn, &q, &page, &msg), 0);
	assert_int_equal(page->n_items, 1);
	assert_true(page->items[0].in_use);
	store_cert_page_free(page);

	sql_exec(conn, "DELETE FROM bindings");
	assert_int_equal(store_cert_delete(conn, arn, &msg), 0);
}

static void
test_import_limit(void **state)
{
	PGconn *conn = need_db(state);

	assert_int_equal(import_named(conn, "l1", 2), 0);
	assert_int_equal(import_named(conn, "l2", 2), 0);
	assert_int_equal(import_named(conn, "l3", 2), -ENOSPC);
	assert_int_equal(import_named(conn, "l3", -1), 0);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM certificates"),
	    3);
}

struct import_job {
	const char *dbname;
	char suffix[16];
	int limit;
	int r;
};

static void *
import_thread(void *arg)
{
	struct import_job *j = arg;
	const char *keys[] = { "dbname", "dbname", NULL };
	const char *values[] = { test_dsn(), j->dbname, NULL };
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	char *msg = NULL;

	j->r = store_prepare(conn, &msg);
	if (j->r == 0)
		j->r = import_named(conn, j->suffix, j->limit);
	free(msg);
	PQfinish(conn);
	return NULL;
}

static void
test_import_limit_holds_under_concurrency(void **state)
{
	struct fixture *f = *state;
	PGconn *conn = need_db(state);
	struct import_job waiter = { .dbname = f->dbname, .suffix = "w",
		.limit = 1 };
	struct import_job jobs[8];
	pthread_t t, ts[ELEMENTSOF(jobs)];
	char *msg = NULL;
	int ok = 0;

	/* One import holds the lock uncommitted; the second waits for it and
	 * then sees the limit reached. */
	assert_int_equal(store_begin(conn, &msg), 0);
	assert_int_equal(import_named(conn, "first", 1), 0);
	assert_int_equal(pthread_create(&t, NULL, import_thread, &waiter), 0);
	/* Wait until it is queued behind our advisory lock. */
	for (int i = 0; i < 100 && sql_long(conn, "SELECT count(*) FROM "
	    "pg_locks WHERE locktype = 'advisory' AND NOT granted") == 0; i++)
		usleep(20 * 1000);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM pg_locks "
	    "WHERE locktype = 'advisory' AND NOT granted"), 1);
	assert_int_equal(store_commit(conn, &msg), 0);
	pthread_join(t, NULL);
	assert_int_equal(waiter.r, -ENOSPC);

	/* A free-for-all at a limit of 5 (one exists) admits four. */
	for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
		jobs[i] = (struct import_job){ .dbname = f->dbname,
			.limit = 5 };
		snprintf(jobs[i].suffix, sizeof(jobs[i].suffix), "c%zu", i);
		assert_int_equal(pthread_create(&ts[i], NULL, import_thread,
		    &jobs[i]), 0);
	}
	for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
		pthread_join(ts[i], NULL);
		if (jobs[i].r == 0)
			ok++;
		else
			assert_int_equal(jobs[i].r, -ENOSPC);
	}
	assert_int_equal(ok, 4);
	assert_int_equal(sql_long(conn, "SELECT count(*) FROM certificates"),
	    5);
}

/* ---- listing ------------------------------------------------------------- */

#define N_LIST 20

static int
index_of(const char *arn)
{
	const char *s = arn + strlen(ARN_PREFIX);

	return (int)strtol(s + 1, NULL, 10);
}

/*
 * Pages through while deleting one certificate not seen yet and one seen,
 * and adding two, between pages. Certificates present throughout are seen
 * exactly once; deleted unseen ones never; new ones only when ascending.
 */
static void
page_with_changes(PGconn *conn, bool descending)
{
	int seen[N_LIST + 64] = { 0 };
	bool deleted[N_LIST + 64] = { false };
	bool deleted_unseen[N_LIST + 64] = { false };
	struct store_list_query q = { .descending = descending,
		.max_items = 6 };
	int next_new = N_LIST, pages = 0;
	char *msg = NULL;

	for (int i = 0; i < N_LIST; i++) {
		char suffix[16];

		snprintf(suffix, sizeof(suffix), "p%02d", i);
		assert_int_equal(import_named(conn, suffix, -1), 0);
	}
	for (;;) {
		struct store_cert_page *page = NULL;
		bool more;

		assert_int_equal(store_cert_list(conn, &q, &page, &msg), 0);
		assert_true(page->n_items <= 6);
		for (size_t i = 0; i < page->n_items; i++) {
			int k = index_of(page->items[i].arn);

			seen[k]++;
			if (i > 0)
				assert_true(descending ?
				    page->items[i].seq < page->items[i - 1].seq :
				    page->items[i].seq > page->items[i - 1].seq);
		}
		if (page->n_items > 0)
			q.after_seq = page->items[page->n_items - 1].seq;
		more = page->more;
		store_cert_page_free(page);
		pages++;
		if (!more)
			break;
		/* Delete one unseen (far ahead), one seen; add two. */
		for (int k = descending ? 0 : N_LIST - 1;
		    k >= 0 && k < N_LIST; k += descending ? 1 : -1) {
			if (!seen[k] && !deleted[k]) {
				_cleanup_free_ char *arn = xasprintf(
				    ARN_PREFIX "p%02d", k);

				assert_int_equal(store_cert_delete(conn, arn,
				    &msg), 0);
				deleted[k] = deleted_unseen[k] = true;
				break;
			}
		}
		for (int k = 0; k < N_LIST; k++) {
			if (seen[k] && !deleted[k]) {
				_cleanup_free_ char *arn = xasprintf(
				    ARN_PREFIX "p%02d", k);

				assert_int_equal(store_cert_delete(conn, arn,
				    &msg), 0);
				deleted[k] = true;
				break;
			}
		}
		for (int j = 0; j < 2; j++) {
			char suffix[16];

			snprintf(suffix, sizeof(suffix), "p%02d", next_new++);
			assert_int_equal(import_named(conn, suffix, -1), 0);
		}
	}
	assert_true(pages >= 3);
	for (int k = 0; k < N_LIST; k++)
		assert_int_equal(seen[k], deleted_unseen[k] ? 0 : 1);
	for (int k = N_LIST; k < next_new; k++)
		assert_int_equal(seen[k], descending ? 0 : 1);
}

static void
test_list_pages_ascending_with_changes(void **state)
{
	page_with_changes(need_db(state), false);
}

static void
test_list_pages_descending_with_changes(void **state)
{
	page_with_changes(need_db(state), true);
}

/* Domain names of one page (limit 100), comma-separated, in order. */
static char *
list_names(PGconn *conn, char **statuses, char **key_types, char **ku,
    char **eku)
{
	struct store_list_query q = { .statuses = statuses,
		.key_types = key_types, .key_usages = ku,
		.extended_key_usages = eku, .max_items = 100 };
	struct store_cert_page *page = NULL;
	char *msg = NULL, *out = xstrdup("");

	assert_int_equal(store_cert_list(conn, &q, &page, &msg), 0);
	for (size_t i = 0; i < page->n_items; i++) {
		char *o = xasprintf("%s%s%.1s", out, *out ? "," : "",
		    page->items[i].domain_name);

		free(out);
		out = o;
	}
	store_cert_page_free(page);
	return out;
}

static void
import_kind(PGconn *conn, const char *suffix, const char *alg, char **ku,
    char **eku, bool expired)
{
	struct store_cert_version v;
	_cleanup_free_ char *arn = arn_of(suffix);
	char *msg = NULL;

	make_version(&v, suffix);
	free(v.key_algorithm);
	v.key_algorithm = xstrdup(alg);
	strv_free(v.key_usages);
	v.key_usages = ku;
	strv_free(v.extended_key_usages);
	v.extended_key_usages = eku;
	if (expired)
		v.not_after = (int64_t)time(NULL) - 10;
	assert_int_equal(store_cert_import(conn, arn, &v, NULL, 0, -1, &msg),
	    0);
	store_cert_version_clear(&v);
}

#define CHECK_LIST(expect, st, kt, ku, eku)                           \
	do {                                                          \
		char **a = (st), **b = (kt), **c_ = (ku), **d = (eku); \
		char *got = list_names(conn, a, b, c_, d);             \
		assert_string_equal(got, expect);                     \
		free(got);                                            \
		strv_free(a);                                         \
		strv_free(b);                                         \
		strv_free(c_);                                        \
		strv_free(d);                                         \
	} while (0)

static void
test_list_filters(void **state)
{
	PGconn *conn = need_db(state);

	import_kind(conn, "a", "RSA_2048", strv("DIGITAL_SIGNATURE",
	    "KEY_ENCIPHERMENT", NULL), strv("TLS_WEB_SERVER_AUTHENTICATION",
	    NULL), false);
	import_kind(conn, "b", "EC_prime256v1", strv("DIGITAL_SIGNATURE",
	    NULL), strv("TLS_WEB_CLIENT_AUTHENTICATION", NULL), false);
	import_kind(conn, "c", "RSA_2048", strv(NULL), strv(NULL), true);
	import_kind(conn, "d", "RSA_4096", strv("KEY_ENCIPHERMENT", NULL),
	    strv("TLS_WEB_SERVER_AUTHENTICATION", "CODE_SIGNING", NULL),
	    false);

	CHECK_LIST("a,b,c,d", NULL, NULL, NULL, NULL);
	CHECK_LIST("a,c", NULL, strv("RSA_2048", NULL), NULL, NULL);
	CHECK_LIST("a", strv("ISSUED", NULL), strv("RSA_1024", "RSA_2048",
	    NULL), NULL, NULL);
	CHECK_LIST("c", strv("EXPIRED", NULL), NULL, NULL, NULL);
	CHECK_LIST("a,b,d", strv("ISSUED", "PENDING_VALIDATION", NULL),
	    NULL, NULL, NULL);
	CHECK_LIST("a,b", NULL, NULL, strv("DIGITAL_SIGNATURE", NULL), NULL);
	CHECK_LIST("a,b,c,d", NULL, NULL, strv("ANY", NULL), NULL);
	CHECK_LIST("a,d", NULL, NULL, NULL,
	    strv("TLS_WEB_SERVER_AUTHENTICATION", NULL));
	CHECK_LIST("b,d", NULL, NULL, NULL, strv("CODE_SIGNING",
	    "TLS_WEB_CLIENT_AUTHENTICATION", NULL));
	CHECK_LIST("a,b,c,d", NULL, NULL, NULL, strv("ANY", NULL));
	CHECK_LIST("a,d", NULL, NULL, strv("KEY_ENCIPHERMENT", NULL),
	    strv("TLS_WEB_SERVER_AUTHENTICATION", NULL));
	CHECK_LIST("", NULL, strv("EC_secp384r1", NULL), NULL, NULL);
}

static void
test_list_more_flag_and_limit(void **state)
{
	PGconn *conn = need_db(state);
	struct store_list_query q = { .max_items = 3 };
	struct store_cert_page *page = NULL;
	char *msg = NULL;

	assert_int_equal(store_cert_list(conn, &q, &page, &msg), 0);
	assert_int_equal(page->n_items, 0);
	assert_false(page->more);
	store_cert_page_free(page);
	for (int i = 0; i < 3; i++) {
		char s[8];

		snprintf(s, sizeof(s), "m%d", i);
		assert_int_equal(import_named(conn, s, -1), 0);
	}
	assert_int_equal(store_cert_list(conn, &q, &page, &msg), 0);
	assert_int_equal(page->n_items, 3);
	assert_false(page->more);
	store_cert_page_free(page);
	q.max_items = 2;
	assert_int_equal(store_cert_list(conn, &q, &page, &msg), 0);
	assert_int_equal(page->n_items, 2);
	assert_true(page->more);
	assert_string_equal(page->items[0].type, "IMPORTED");
	assert_string_equal(page->items[0].status, "ISSUED");
	assert_string_equal(page->items[0].key_algorithm, "RSA_2048");
	assert_int_equal(strv_len(page->items[0].names), 3);
	assert_int_equal(strv_len(page->items[0].key_usages), 2);
	assert_true(page->items[0].imported_at > 0);
	assert_true(page->items[0].not_after > page->items[0].not_before);
	store_cert_page_free(page);
}

/* ---- tags ---------------------------------------------------------------- */

static char *
tags_string(PGconn *conn, const char *arn)
{
	struct store_tag *tags = NULL;
	char *msg = NULL, *out = xstrdup("");
	size_t n;

	assert_int_equal(store_tags_list(conn, arn, &tags, &n, &msg), 0);
	for (size_t i = 0; i < n; i++) {
		char *o = xasprintf("%s%s%s%s%s", out, *out ? " " : "",
		    tags[i].key, tags[i].value ? "=" : "",
		    tags[i].value ? tags[i].value : "");

		free(out);
		out = o;
	}
	store_tags_free(tags, n);
	return out;
}

#define CHECK_TAGS(expect)                            \
	do {                                          \
		char *got = tags_string(conn, arn);   \
		assert_string_equal(got, expect);     \
		free(got);                            \
	} while (0)

static void
test_tags_add_overwrite_remove_list(void **state)
{
	PGconn *conn = need_db(state);
	_cleanup_free_ char *arn = arn_of("tags");
	struct store_tag add1[] = { { "b", "1" }, { "A", "x" }, { "a", NULL },
		{ "empty", "" } };
	struct store_tag add2[] = { { "b", "2" }, { "c", "3" }, { "c", "4" } };
	struct store_tag rm1[] = { { "b", "1" }, { "A", NULL },
		{ "empty", "" }, { "a", "" }, { "nope", NULL } };
	struct store_tag rm2[] = { { "b", "2" }, { "a", NULL } };
	char *msg = NULL;

	assert_int_equal(import_named(conn, "tags", -1), 0);
	CHECK_TAGS("");
	assert_int_equal(store_tags_add(conn, arn, add1, 4, 50, &msg), 0);
	CHECK_TAGS("A=x a b=1 empty=");
	assert_int_equal(store_tags_add(conn, arn, add2, 3, 50, &msg), 0);
	CHECK_TAGS("A=x a b=2 c=4 empty=");
	/* b=1 does not match b=2; a (no value) does not match "". */
	assert_int_equal(store_tags_remove(conn, arn, rm1, 5, &msg), 0);
	CHECK_TAGS("a b=2 c=4");
	assert_int_equal(store_tags_remove(conn, arn, rm2, 2, &msg), 0);
	CHECK_TAGS("c=4");

	assert_int_equal(store_tags_add(conn, ARN_PREFIX "none", add1, 1, 50,
	    &msg), -ENOENT);
	free(TAKE_PTR(msg));
	assert_int_equal(store_tags_remove(conn, ARN_PREFIX "none", rm1, 1,
	    &msg), -ENOENT);
	free(TAKE_PTR(msg));
	{
		struct store_tag *t = NULL;
		size_t n = 9;

		assert_int_equal(store_tags_list(conn, ARN_PREFIX "none", &t,
		    &n, &msg), -ENOENT);
		free(TAKE_PTR(msg));
		assert_null(t);
		assert_int_equal(n, 0);
	}
}

static void
test_tags_too_many(void **state)
{
	PGconn *conn = need_db(state);
	_cleanup_free_ char *arn = arn_of("many");
	struct store_tag three[] = { { "a", "1" }, { "b", "2" }, { "c", "3" } };
	struct store_tag over[] = { { "a", "9" }, { "d", "4" } };
	struct store_tag same[] = { { "a", "9" }, { "b", "9" } };
	char *msg = NULL;

	assert_int_equal(import_named(conn, "many", -1), 0);
	assert_int_equal(store_tags_add(conn, arn, three, 3, 4, &msg), 0);
	assert_int_equal(store_tags_add(conn, arn, over, 2, 3, &msg), -E2BIG);
	assert_non_null(msg);
	free(TAKE_PTR(msg));
	CHECK_TAGS("a=1 b=2 c=3");
	/* Overwriting does not count twice. */
	assert_int_equal(store_tags_add(conn, arn, same, 2, 3, &msg), 0);
	CHECK_TAGS("a=9 b=9 c=3");
	assert_int_equal(store_tags_add(conn, arn, over, 2, 4, &msg), 0);
	CHECK_TAGS("a=9 b=9 c=3 d=4");
}

/* ---- account ------------------------------------------------------------- */

static void
test_account_default_put_and_token_conflict(void **state)
{
	PGconn *conn = need_db(state);
	char *msg = NULL;
	int days = 0;

	assert_int_equal(store_account_get(conn, &days, &msg), 0);
	assert_int_equal(days, 45);
	assert_int_equal(store_account_put(conn, 30, "tok1", &msg), 0);
	assert_int_equal(store_account_get(conn, &days, &msg), 0);
	assert_int_equal(days, 30);
	/* A retry is the same request. */
	assert_int_equal(store_account_put(conn, 30, "tok1", &msg), 0);
	assert_int_equal(store_account_put(conn, 60, "tok1", &msg), -EEXIST);
	assert_non_null(msg);
	free(TAKE_PTR(msg));
	assert_int_equal(store_account_get(conn, &days, &msg), 0);
	assert_int_equal(days, 30);
	assert_int_equal(store_account_put(conn, 60, "tok2", &msg), 0);
	assert_int_equal(store_account_get(conn, &days, &msg), 0);
	assert_int_equal(days, 60);
	/* An expired token is free again. */
	sql_exec(conn, "UPDATE request_tokens SET expires_at = now() - "
	    "interval '1 second' WHERE token = 'tok1'");
	assert_int_equal(store_account_put(conn, 10, "tok1", &msg), 0);
	assert_int_equal(store_account_get(conn, &days, &msg), 0);
	assert_int_equal(days, 10);
	/* The database refuses nonsense. */
	assert_int_equal(store_account_put(conn, 0, "tok3", &msg), -EINVAL);
	free(TAKE_PTR(msg));
}

/* ---- errors -------------------------------------------------------------- */

static void
test_lost_connection_is_econnreset(void **state)
{
	struct fixture *f = *state;
	PGconn *conn = need_db(state);
	_cleanup_free_ char *sql = NULL;
	struct store_cert *c = NULL;
	char *msg = NULL;
	PGconn *admin, *closed;

	assert_int_equal(store_error_code(conn), -EIO);
	admin = connect_db(f->dbname);
	sql = xasprintf("SELECT pg_terminate_backend(%d)", PQbackendPID(conn));
	sql_exec(admin, sql);
	PQfinish(admin);
	usleep(100 * 1000);
	assert_int_equal(store_cert_get(conn, ARN_PREFIX "x", &c, &msg),
	    -ECONNRESET);
	assert_non_null(msg);
	free(TAKE_PTR(msg));
	assert_int_equal(store_error_code(conn), -ECONNRESET);
	assert_int_equal(store_begin(conn, &msg), -ECONNRESET);
	free(TAKE_PTR(msg));
	store_rollback(conn);

	/* Nothing listens on port 1. */
	closed = PQconnectdb("host=127.0.0.1 port=1 connect_timeout=2");
	assert_int_equal(store_error_code(closed), -ECONNRESET);
	assert_int_equal(store_begin(closed, &msg), -ECONNRESET);
	free(TAKE_PTR(msg));
	PQfinish(closed);
}

static void
test_commit_after_failure_reports_rollback(void **state)
{
	PGconn *conn = need_db(state);
	char *msg = NULL;

	assert_int_equal(store_begin(conn, &msg), 0);
	assert_int_equal(store_account_put(conn, -1, NULL, &msg), -EINVAL);
	free(TAKE_PTR(msg));
	/* Store functions refuse to run in an aborted transaction... */
	assert_int_equal(store_account_put(conn, 5, NULL, &msg), -EIO);
	free(TAKE_PTR(msg));
	/* ...and COMMIT says what really happened. */
	assert_int_equal(store_commit(conn, &msg), -EIO);
	assert_non_null(msg);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_array_literal_escapes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_empty_database_applies_all, setup_empty,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrate_twice_is_a_noop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_concurrently_applies_once, setup_empty,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_refuses_newer_database, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_import_get_round_trip_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_import_without_chain_and_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_describe_in_one_statement,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_insert_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get_unknown_is_enoent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reimport_adds_version_keeps_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_removes_everything,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_refused_while_bound,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_import_limit_holds_under_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_list_pages_ascending_with_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_list_pages_descending_with_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list_more_flag_and_limit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tags_add_overwrite_remove_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags_too_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_account_default_put_and_token_conflict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_lost_connection_is_econnreset, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_commit_after_failure_reports_rollback, setup,
		    teardown),
	};

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
