"""UpdateCertificateOptions and ExportCertificate.

UpdateCertificateOptions changes the transparency logging preference of a
certificate certfleet issues while it is pending or issued; imported
certificates and ones that will never be issued again are
InvalidStateException, and Export cannot be ENABLED (certfleet never exports
private keys). ExportCertificate is refused for every certificate that
exists. Every refusal leaves the database as it was, save its audit event,
and no event, log line or message carries the passphrase."""

import json
import os
import secrets
import uuid

import certs
import harness
from harness import b64, check, eq, wait_for

ACCOUNT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/"
UNKNOWN = ACCOUNT_ARN + "00000000-0000-4000-8000-000000000000"
MALFORMED = "arn:aws:s3:::bucket-name-x"
UCO = "UpdateCertificateOptions"
EXPORT = "ExportCertificate"
CT = "CertificateTransparencyLoggingPreference"


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon()
    ctx.m.c = ctx.m.d.client


def setup_function(ctx):
    ctx.m.c.delete_all()


# ---------------------------------------------------------------- helpers

def _sql(d, q):
    return d.cluster.psql(q, d.dbname)


def _row(d, status="PENDING_VALIDATION", export="DISABLED", expired=False,
         name=None):
    """A requested certificate in the given state, written directly: the
    states a request reaches only after minutes or days."""
    arn = ACCOUNT_ARN + str(uuid.uuid4())
    name = name or "opt-%s.example.com" % secrets.token_hex(4)
    times = ("now() - interval '2 days'", "now() - interval '1 day'") \
        if expired else ("NULL", "NULL")
    _sql(d, "INSERT INTO certificates (arn, type, status, domain_name, "
         "names, key_algorithm, validation_method, export_option, "
         "not_before, not_after) VALUES ('%s', 'AMAZON_ISSUED', '%s', '%s', "
         "'{%s}', 'RSA_2048', 'EMAIL', '%s', %s, %s)"
         % (arn, status, name, name, export, times[0], times[1]))
    return arn


def _issued(d):
    """A certificate certfleet issued: a pending request with its intent,
    which the issuer signs."""
    arn = ACCOUNT_ARN + str(uuid.uuid4())
    serial = ":".join("%02x" % b for b in secrets.token_bytes(16))
    _sql(d, "WITH c AS (INSERT INTO certificates (arn, type, status, "
         "domain_name, names, key_algorithm, validation_method) VALUES "
         "('%s', 'AMAZON_ISSUED', 'PENDING_VALIDATION', 'issued.opt.example."
         "com', '{issued.opt.example.com}', 'EC_prime256v1', 'EMAIL') "
         "RETURNING id) INSERT INTO issuance_intents (certificate_id, "
         "purpose, version, serial) SELECT id, 'ISSUE', 1, '%s' FROM c"
         % (arn, serial))
    wait_for(lambda: _sql(d, "SELECT status FROM certificates WHERE arn = "
                          "'%s'" % arn)[0][0] == "ISSUED", 60,
             interval=0.2, what="the certificate issued")
    return arn


def _options(c, arn):
    return c.describe(arn).get("Options")


def _state(d):
    """What harness.snapshot compares (the inventory as listed, every
    table's row count but the audit trail's), in one query, plus what an
    options change would touch."""
    tables = [t for (t,) in _sql(d, "SELECT quote_ident(table_schema) || "
                                 "'.' || quote_ident(table_name) FROM "
                                 "information_schema.tables WHERE "
                                 "table_type = 'BASE TABLE' AND table_schema "
                                 "NOT IN ('pg_catalog', 'information_schema')"
                                 " AND table_name NOT LIKE 'audit%'")]
    counts = _sql(d, " UNION ALL ".join(
        "SELECT '%s', count(*) FROM %s" % (t, t) for t in tables))
    listed = sorted((s["CertificateArn"], s.get("DomainName")) for s in
                    d.client.list_all(statuses=harness.ALL_STATUSES))
    rows = _sql(d, "SELECT arn, type, status, ct_logging, export_option, "
                "updated_at FROM certificates ORDER BY arn")
    return {"listed": listed, "counts": sorted(counts), "rows": rows}


def _update(c, arn, **options):
    return c.ok(UCO, {"CertificateArn": arn, "Options": options})


def _refused(ctx, action, body, exc):
    """A refusal that changes nothing; returns the error document."""
    d, c = ctx.m.d, ctx.m.c
    before = _state(d)
    doc = c.expect_error(action, body, exc)
    eq(_state(d), before, "database after %s %s" % (action, exc))
    return doc


def _call_rid(c, action, body):
    st, hdrs, doc = c.call(action, body)
    return st, hdrs.get("x-amzn-requestid", ""), doc


def _event(d, rid):
    rows = _sql(d, "SELECT row_to_json(e)::text FROM audit_events e "
                "WHERE request_id = '%s'" % rid)
    eq(len(rows), 1, "audit events of request %s" % rid)
    return rows[0][0]


# ------------------------------------------------ UpdateCertificateOptions

def test_update_pending_request(ctx):
    d, c = ctx.m.d, ctx.m.c
    arn = _row(d)
    eq(_options(c, arn), {CT: "ENABLED", "Export": "DISABLED"}, "Options")
    eq(_update(c, arn, **{CT: "DISABLED"}), {}, "output")
    eq(_options(c, arn), {CT: "DISABLED", "Export": "DISABLED"},
       "Options after opting out")
    # Export DISABLED is what it is already: accepted, nothing changes.
    _update(c, arn, Export="DISABLED")
    eq(_options(c, arn), {CT: "DISABLED", "Export": "DISABLED"},
       "Options after Export=DISABLED")
    _update(c, arn, **{CT: "ENABLED", "Export": "DISABLED"})
    eq(_options(c, arn), {CT: "ENABLED", "Export": "DISABLED"},
       "Options after opting in again")
    # An empty Options changes nothing and is no error.
    _update(c, arn)
    eq(_options(c, arn), {CT: "ENABLED", "Export": "DISABLED"}, "Options")


def test_update_issued_certificate(ctx):
    d, c = ctx.m.d, ctx.m.c
    arn = _issued(d)
    _update(c, arn, **{CT: "DISABLED"})
    desc = c.describe(arn)
    eq(desc["Status"], "ISSUED", "Status")
    eq(desc["Options"], {CT: "DISABLED", "Export": "DISABLED"}, "Options")
    eq(_sql(d, "SELECT ct_logging FROM certificates WHERE arn = '%s'"
            % arn), [["DISABLED"]], "ct_logging column")


test_update_issued_certificate.time_limit = 90


def test_update_is_audited_in_its_transaction(ctx):
    d, c = ctx.m.d, ctx.m.c
    arn = _row(d)
    st, rid, _ = _call_rid(c, UCO, {"CertificateArn": arn,
                                    "Options": {CT: "DISABLED"}})
    eq(st, 200, "status")
    ev = json.loads(_event(d, rid))
    eq(ev["event_name"], UCO, "event_name")
    eq(ev["read_only"], False, "read_only")
    eq(ev["error_code"], None, "error_code")
    eq(ev["certificate_arn"], arn, "certificate_arn")
    eq(ev["request_params"], {"CertificateArn": arn,
                              "Options": {CT: "DISABLED"}}, "request_params")


def test_update_unknown_arn(ctx):
    _row(ctx.m.d)
    doc = _refused(ctx, UCO, {"CertificateArn": UNKNOWN,
                              "Options": {CT: "DISABLED"}},
                   "ResourceNotFoundException")
    check(UNKNOWN in doc["message"], "message names the ARN: %r" % doc)


def test_update_input_errors(ctx):
    arn = _row(ctx.m.d)
    for body, exc in (
            ({"CertificateArn": MALFORMED, "Options": {CT: "DISABLED"}},
             "InvalidArnException"),
            ({"CertificateArn": "arn:aws:acm:x", "Options": {CT: "DISABLED"}},
             "ValidationException"),                 # shorter than 20
            ({"Options": {CT: "DISABLED"}}, "ValidationException"),
            ({"CertificateArn": arn}, "ValidationException"),
            ({"CertificateArn": arn, "Options": {CT: "OFF"}},
             "ValidationException"),
            ({"CertificateArn": arn, "Options": {"Export": "NO"}},
             "ValidationException"),
            ({"CertificateArn": arn, "Options": "DISABLED"},
             "SerializationException"),
            ({"CertificateArn": arn, "Options": {CT: 0}},
             "SerializationException"),
    ):
        _refused(ctx, UCO, body, exc)
    # AWS reports every violation at once.
    doc = _refused(ctx, UCO, {"CertificateArn": arn, "Options": {
        CT: "off", "Export": "on"}}, "ValidationException")
    check(doc["message"].startswith("2 validation errors detected"),
          "message: %r" % doc["message"])
    check("options.certificateTransparencyLoggingPreference" in
          doc["message"], "message names the member: %r" % doc["message"])


def test_export_enabled_is_refused(ctx):
    d, c = ctx.m.d, ctx.m.c
    arn = _row(d)
    for target in (arn, UNKNOWN):
        for options in ({"Export": "ENABLED"},
                        {CT: "DISABLED", "Export": "ENABLED"}):
            doc = _refused(ctx, UCO, {"CertificateArn": target,
                                      "Options": options},
                           "ValidationException")
            msg = doc["message"]
            check("never exports private keys" in msg and
                  "CreateBinding" in msg, "message: %r" % msg)
    eq(_options(c, arn), {CT: "ENABLED", "Export": "DISABLED"},
       "nothing of a refused request is applied")


def test_request_with_export_enabled_is_refused(ctx):
    """RequestCertificate cannot ask for an exportable key either."""
    doc = _refused(ctx, "RequestCertificate", {
        "DomainName": "export.example.com", "ValidationMethod": "EMAIL",
        "Options": {"Export": "ENABLED"}}, "ValidationException")
    check("never exports a private key" in doc["message"] and
          "CreateBinding" in doc["message"], "message: %r" % doc["message"])


def test_imported_certificate_is_invalid_state(ctx):
    c = ctx.m.c
    arn = c.import_leaf(certs.leaf(("imported.opt.example.com",)))
    doc = _refused(ctx, UCO, {"CertificateArn": arn,
                              "Options": {CT: "DISABLED"}},
                   "InvalidStateException")
    check("imported" in doc["message"], "message: %r" % doc["message"])
    eq(_options(c, arn), {CT: "ENABLED"}, "Options of the import")


def test_states_that_will_not_issue_are_invalid_state(ctx):
    d, c = ctx.m.d, ctx.m.c
    rows = [(_row(d, status=s), s) for s in (
        "FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "INACTIVE")]
    rows.append((_row(d, status="ISSUED", expired=True), "EXPIRED"))
    for arn, status in rows:
        eq(c.describe(arn)["Status"], status, "Status")
        doc = _refused(ctx, UCO, {"CertificateArn": arn,
                                  "Options": {CT: "DISABLED"}},
                       "InvalidStateException")
        check(status in doc["message"], "message: %r" % doc["message"])


def test_export_cannot_change_after_creation(ctx):
    d, c = ctx.m.d, ctx.m.c
    # Export fixed at creation (a request that asked for ENABLED).
    arn = _row(d, export="ENABLED")
    doc = _refused(ctx, UCO, {"CertificateArn": arn,
                              "Options": {CT: "DISABLED",
                                          "Export": "DISABLED"}},
                   "ValidationException")
    check("cannot be changed" in doc["message"], "message: %r" % doc)
    _update(c, arn, **{CT: "DISABLED"})
    eq(_options(c, arn), {CT: "DISABLED", "Export": "ENABLED"}, "Options")


# ------------------------------------------------------- ExportCertificate

def test_export_is_refused_for_every_certificate(ctx):
    d, c = ctx.m.d, ctx.m.c
    imported = c.import_leaf(certs.leaf(("export.opt.example.com",)))
    pending = _row(d)
    for arn in (imported, pending):
        doc = _refused(ctx, EXPORT, {"CertificateArn": arn,
                                     "Passphrase": b64("correct horse")},
                       "ValidationException")
        msg = doc["message"]
        check("never exports private keys" in msg and "CreateBinding" in msg
              and arn in msg, "message: %r" % msg)


def test_export_unknown_and_bad_input(ctx):
    arn = _row(ctx.m.d)
    good = b64("passphrase")
    for body, exc in (
            ({"CertificateArn": UNKNOWN, "Passphrase": good},
             "ResourceNotFoundException"),
            ({"CertificateArn": MALFORMED, "Passphrase": good},
             "InvalidArnException"),
            ({"CertificateArn": arn}, "ValidationException"),
            ({"Passphrase": good}, "ValidationException"),
            ({"CertificateArn": arn, "Passphrase": b64("abc")},
             "ValidationException"),                 # 3 bytes: min 4
            ({"CertificateArn": arn, "Passphrase": b64("p" * 129)},
             "ValidationException"),                 # max 128
            ({"CertificateArn": arn, "Passphrase": "not base64!"},
             "SerializationException"),
            ({"CertificateArn": arn, "Passphrase": 1234},
             "SerializationException"),
    ):
        _refused(ctx, EXPORT, body, exc)
    # The bounds themselves are fine (and then refused as any export).
    for n in (4, 128):
        _refused(ctx, EXPORT, {"CertificateArn": arn,
                               "Passphrase": b64("p" * n)},
                 "ValidationException")


def test_passphrase_is_never_recorded(ctx):
    d, c = ctx.m.d, ctx.m.c
    arn = _row(d)
    for arn_used, length in ((arn, 24), (UNKNOWN, 24), (arn, 2),
                             (arn, 200)):
        secret = ("pp-" + secrets.token_hex(100))[:length]
        body = {"CertificateArn": arn_used, "Passphrase": b64(secret)}
        st, rid, doc = _call_rid(c, EXPORT, body)
        eq(st, 400, "status")
        text = _event(d, rid)
        ev = json.loads(text)
        eq(ev["event_name"], EXPORT, "event_name")
        eq(ev["error_code"], doc["__type"], "error_code")
        eq(ev["request_params"], {"CertificateArn": arn_used},
           "request_params")
        if len(secret) >= 4:
            check(secret not in text and b64(secret) not in text,
                  "the passphrase is in the audit event: %s" % text)
            check(secret not in json.dumps(doc) and
                  b64(secret) not in json.dumps(doc), "in the answer")
            log = d.stderr_text()
            check(secret not in log and b64(secret) not in log,
                  "the passphrase is in the daemon's log")


# ------------------------------------------------------------------- CLI

def _cli(ctx, *args):
    binary = harness.certfleet_path()
    check(os.access(binary, os.X_OK), "CLI binary %s is missing" % binary)
    r = harness.run_cmd([binary, "--socket", ctx.m.d.socket] + list(args))
    check(r.returncode >= 0, "certfleet died of signal %d" % -r.returncode)
    return r


def test_cli(ctx):
    d, c = ctx.m.d, ctx.m.c
    arn = _row(d)
    r = _cli(ctx, "update-certificate-options", "--certificate-arn", arn,
             "--options", "CertificateTransparencyLoggingPreference=DISABLED")
    eq(r.returncode, 0, "update-certificate-options exit status (stderr %r)"
       % r.stderr)
    eq(_options(c, arn), {CT: "DISABLED", "Export": "DISABLED"}, "Options")

    imported = c.import_leaf(certs.leaf(("cli.opt.example.com",)))
    before = _state(d)
    r = _cli(ctx, "update-certificate-options", "--certificate-arn",
             imported, "--options",
             "CertificateTransparencyLoggingPreference=DISABLED")
    check(r.returncode != 0, "update-certificate-options of an import "
          "exited 0")
    check(b"An error occurred (InvalidStateException) when calling the "
          b"UpdateCertificateOptions operation: " in r.stderr,
          "stderr: %r" % r.stderr)
    r = _cli(ctx, "update-certificate-options", "--certificate-arn", arn,
             "--options", "Export=ENABLED")
    check(r.returncode != 0, "Export=ENABLED exited 0")
    check(b"An error occurred (ValidationException) when calling the "
          b"UpdateCertificateOptions operation: " in r.stderr and
          b"never exports private keys" in r.stderr, "stderr: %r" % r.stderr)

    pf = os.path.join(ctx.tmp, "options-pass.txt")
    with open(pf, "w") as f:
        f.write("a passphrase from a file")
    for pass_arg in ("fileb://" + pf, b64("a literal passphrase")):
        r = _cli(ctx, "export-certificate", "--certificate-arn", imported,
                 "--passphrase", pass_arg)
        check(r.returncode != 0, "export-certificate exited 0")
        check(b"An error occurred (ValidationException) when calling the "
              b"ExportCertificate operation: " in r.stderr and
              b"never exports private keys" in r.stderr,
              "stderr: %r" % r.stderr)
        eq(r.stdout, b"", "stdout")
    r = _cli(ctx, "export-certificate", "--certificate-arn", UNKNOWN,
             "--passphrase", b64("a literal passphrase"))
    check(r.returncode != 0 and b"(ResourceNotFoundException)" in r.stderr,
          "export of an unknown ARN: %r" % r.stderr)
    eq(_state(d), before, "database after the CLI's refused calls")
