/*
 * db.h: helpers shared by the files of src/store, not part of its interface:
 * parameter building (text, integers, bytea, arrays), running prepared
 * statements, mapping libpq failures to our error codes, reading results,
 * and transactions that a store function opens itself when its caller has
 * none.
 */
#ifndef CERTFLEET_STORE_DB_H
#define CERTFLEET_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "common/cleanup.h"

/*
 * Advisory lock keys, (class, object) pairs for pg_advisory_lock(int, int).
 * The class is "cflt" in ASCII so that our locks are recognisable in
 * pg_locks and unlikely to meet another application's.
 */
#define STORE_LOCK_CLASS 0x63666c74
#define STORE_LOCK_MIGRATE 1
#define STORE_LOCK_IMPORT 2
#define STORE_LOCK_REQUEST 3	/* RequestCertificate: tokens, issued limit */
#define STORE_LOCK_CA 4		/* creating certfleet's CA (store/ca.c) */

static inline void
store_pqclearp(PGresult **r)
{
	PQclear(*r);
}
#define _cleanup_pgresult_ _cleanup_(store_pqclearp)

/* A named statement that store_prepare() prepares on every connection. */
struct store_stmt {
	const char *name;
	const char *sql;
};

/* Each file's statements, terminated by { NULL, NULL }. */
extern const struct store_stmt store_cert_stmts[];
extern const struct store_stmt store_tag_stmts[];
extern const struct store_stmt store_account_stmts[];
extern const struct store_stmt store_audit_stmts[];
extern const struct store_stmt store_ca_stmts[];
extern const struct store_stmt store_intent_stmts[];
extern const struct store_stmt store_describe_stmts[];

/* ---- parameters ---------------------------------------------------------- */

#define STORE_MAX_PARAMS 24

struct store_params {
	int n;
	const char *values[STORE_MAX_PARAMS];
	int lengths[STORE_MAX_PARAMS];
	int formats[STORE_MAX_PARAMS];	/* 0 text, 1 binary (bytea) */
	char *owned[STORE_MAX_PARAMS];	/* freed by store_params_clear */
};

void store_params_clear(struct store_params *p);
#define _cleanup_params_ _cleanup_(store_params_clear)

/* Each appends one parameter; NULL pointers become SQL NULL. */
void sp_text(struct store_params *p, const char *s);
void sp_int(struct store_params *p, int64_t v);
void sp_bytea(struct store_params *p, const unsigned char *b, size_t len);
/* A NULL-terminated list as text[]; a NULL list is SQL NULL. */
void sp_strv(struct store_params *p, char *const *strv);
/* n strings (NULL elements allowed) as text[]. */
void sp_array(struct store_params *p, const char *const *items, size_t n);

/*
 * A PostgreSQL array literal of n strings: every element double-quoted with
 * backslash and double quote escaped, NULL pointers as unquoted NULL.
 * Quoting every element keeps "NULL", "", "a,b" and "{x}" literal.
 */
char *store_array_literal(const char *const *items, size_t n);

/* ---- running statements -------------------------------------------------- */

/*
 * Runs a prepared statement with text results (binary if binary_result).
 * Succeeds on PGRES_COMMAND_OK or PGRES_TUPLES_OK; otherwise maps the
 * failure with store_result_error().
 */
int store_exec(PGconn *conn, const char *stmt, const struct store_params *p,
    PGresult **out, char **reterr_msg) _wur_;
int store_exec_binary(PGconn *conn, const char *stmt,
    const struct store_params *p, PGresult **out, char **reterr_msg) _wur_;
/*
 * Runs SQL text with parameters, planned for these values each time: for
 * queries with optional filters, where a generic plan cannot tell which
 * filters are off.
 */
int store_exec_sql(PGconn *conn, const char *sql, const struct store_params *p,
    PGresult **out, char **reterr_msg) _wur_;
/* Runs SQL text without parameters (transaction control, migrations). */
int store_exec_simple(PGconn *conn, const char *sql, char **reterr_msg) _wur_;
/*
 * Runs a prepared statement whose one parameter is a certificate ARN and
 * which returns the certificate's row: -ENOENT with ACM's message when there
 * is none.
 */
int store_exec_arn(PGconn *conn, const char *stmt, const char *arn,
    PGresult **out, char **reterr_msg) _wur_;
/* -ENOENT with ACM's message when a look-up by ARN found no row, else 0. */
int store_require_certificate(const PGresult *res, const char *arn,
    char **reterr_msg) _wur_;

/*
 * -ECONNRESET for a lost connection (CONNECTION_BAD, SQLSTATE class 08,
 * 57P01..57P03), -EEXIST for a unique violation, -EINVAL for other integrity
 * and data errors, else -EIO; the message goes to *reterr_msg. res may be
 * NULL (libpq returned no result).
 */
int store_result_error(PGconn *conn, const PGresult *res, char **reterr_msg);
/* The SQLSTATE of a failed result, or "" */
const char *store_sqlstate(const PGresult *res);
void store_set_msg(char **reterr_msg, const char *fmt, ...) _printf_(2, 3);

/*
 * The columns of a certificate's row with its current version, in the
 * order store_cert_from_row() reads them (0..23); pem names the two PEM
 * columns, or "NULL, NULL" where they are not wanted. Needs the aliases
 * c (certificates) and v (certificate_versions).
 */
#define STORE_CERT_COLUMNS(pem)						\
	"c.arn, c.type, effective_status(c.status, c.not_after),"	\
	" c.failure_reason, c.renewal_eligibility, epoch_s(c.created_at)," \
	" epoch_s(c.imported_at), epoch_s(c.issued_at),"		\
	" coalesce(c.current_version, 0), " pem ","			\
	" v.serial, v.subject, v.issuer, c.domain_name,"		\
	" array_to_json(c.names), epoch_s(c.not_before),"		\
	" epoch_s(c.not_after), c.key_algorithm, v.signature_algorithm," \
	" array_to_json(c.key_usages), array_to_json(c.extended_key_usages)," \
	" v.fingerprint_sha256,"					\
	" (SELECT json_agg(b.arn ORDER BY b.arn) FROM bindings b"	\
	"  WHERE b.certificate_id = c.id)"
#define STORE_CERT_NCOLUMNS 24

struct store_cert;
/* The certificate of row 0 of a result made with STORE_CERT_COLUMNS. */
struct store_cert *store_cert_from_row(const PGresult *res);

/* ---- results ------------------------------------------------------------- */

/* NULL for SQL NULL. */
char *res_str(const PGresult *r, int row, int col);
/* 0 for SQL NULL. */
int64_t res_i64(const PGresult *r, int row, int col);
bool res_bool(const PGresult *r, int row, int col);
/* A JSON array of strings (array_to_json) as a NULL-terminated list;
 * SQL NULL gives an empty list. Never returns NULL. */
char **res_strv(const PGresult *r, int row, int col);

void strv_free(char **v);
char **strv_copy(char *const *v);
size_t strv_len(char *const *v);
bool strv_contains(char *const *v, const char *s);

/*
 * Tag keys and values as two arrays (the pointers borrowed from tags), a
 * repeated key keeping its last value; returns how many were kept.
 */
struct store_tag;
size_t store_tags_split(const struct store_tag *tags, size_t n,
    const char ***keys, const char ***values);

/* ---- transactions -------------------------------------------------------- */

/*
 * For functions that run several statements: opens a transaction when the
 * caller has none (*own = true), refuses an aborted one. store_tx_leave()
 * commits or rolls back what store_tx_enter() opened and returns r, or the
 * commit's error.
 */
int store_tx_enter(PGconn *conn, bool *own, char **reterr_msg) _wur_;
int store_tx_leave(PGconn *conn, bool own, int r, char **reterr_msg) _wur_;

#endif
