"""certfleet's CA and the issuer: the CA created once by daemons starting
together on one database, ca-root.pem, GetCertificateAuthorityCertificate
(API and CLI), an operator's CA, and issuance end to end from intents
written with SQL (what an approved request leaves), including kill -9 in
the middle of issuing and two daemons sharing the work."""

import json
import os
import secrets
import stat
import subprocess
import time
import uuid

import certs
import harness
from harness import TestFailure, check, eq

ACCOUNT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/"


def setup_module(ctx):
    ctx.m.cluster = ctx.new_cluster()


def teardown_module(ctx):
    for d in ctx.daemons:
        if d.cluster is ctx.m.cluster:
            d.stop()
    ctx.m.cluster.cleanup()


def _daemons(ctx, n, extra=None, start=True):
    """n daemons on one database sharing one master key."""
    name = ctx.unique("iss")
    db = ctx.m.cluster.create_db("cf_" + name)
    key = os.path.join(ctx.tmp, name + "-master.key")
    out = []
    for i in range(n):
        e = {"keys": {"master_key_file": key},
             "daemon": {"host_name": "issuer-host-%d" % i}}
        for sec, kv in (extra or {}).items():
            e.setdefault(sec, {}).update(kv)
        d = ctx.new_daemon(name="%s-%d" % (name, i), extra=e, start=False,
                           cluster=ctx.m.cluster, dbname=db)
        out.append(d)
    if start:
        for d in out:
            d.start(wait=False)
        for d in out:
            d.wait_ready(60)
    return out


def _sql(d, q):
    return d.cluster.psql(q, d.dbname)


def _serial():
    return ":".join("%02x" % b for b in secrets.token_bytes(16))


def _add_intent(d, names, key_algorithm="EC_prime256v1"):
    """A PENDING_VALIDATION request with its PREPARED intent, as the
    request flow leaves it once every name is approved."""
    arn = ACCOUNT_ARN + str(uuid.uuid4())
    serial = _serial()
    arr = "{" + ",".join('"%s"' % n for n in names) + "}"
    _sql(d, "WITH c AS (INSERT INTO certificates (arn, type, status, "
         "domain_name, names, key_algorithm, validation_method) VALUES "
         "('%s', 'AMAZON_ISSUED', 'PENDING_VALIDATION', '%s', '%s', '%s', "
         "'EMAIL') RETURNING id) INSERT INTO issuance_intents "
         "(certificate_id, purpose, version, serial) SELECT id, 'ISSUE', 1, "
         "'%s' FROM c" % (arn, names[0], arr, key_algorithm, serial))
    return arn, serial


def _acm_serial(serial):
    """As ACM shows it: leading zero octets dropped."""
    octets = serial.split(":")
    while len(octets) > 1 and octets[0] == "00":
        octets.pop(0)
    return ":".join(octets)


def _status(d, arn):
    return _sql(d, "SELECT status FROM certificates WHERE arn = '%s'"
                % arn)[0][0]


def _wait_issued(d, arns, timeout=60):
    def done():
        rows = _sql(d, "SELECT count(*) FROM certificates WHERE status = "
                    "'ISSUED' AND arn IN (%s)"
                    % ",".join("'%s'" % a for a in arns))
        return int(rows[0][0]) == len(arns)
    harness.wait_for(done, timeout, interval=0.2, what="certificates issued")


def _write(path, text):
    if isinstance(text, bytes):
        text = text.decode()
    with open(path, "w") as f:
        f.write(text)
    return path


def _openssl_verify(tmp, root_pem, chain_pem, cert_pem):
    root = _write(os.path.join(tmp, "root.pem"), root_pem)
    chain = _write(os.path.join(tmp, "chain.pem"), chain_pem)
    cert = _write(os.path.join(tmp, "cert.pem"), cert_pem)
    r = subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted",
                        chain, cert], capture_output=True)
    check(r.returncode == 0, "openssl verify: %s %s" % (
        r.stdout.decode(), r.stderr.decode()))


def _x509_text(tmp, pem):
    path = _write(os.path.join(tmp, "x.pem"), pem)
    return subprocess.run(["openssl", "x509", "-noout", "-text", "-in", path],
                          capture_output=True, check=True).stdout.decode()


def _no_double_issue(d, arns):
    """Each certificate has one version, its intent COMMITTED once, and one
    IssueCertificate event."""
    q = ",".join("'%s'" % a for a in arns)
    rows = _sql(d, "SELECT c.arn, (SELECT count(*) FROM certificate_versions "
                "v WHERE v.certificate_id = c.id), (SELECT string_agg(state, "
                "',') FROM issuance_intents i WHERE i.certificate_id = c.id) "
                "FROM certificates c WHERE c.arn IN (%s)" % q)
    eq(len(rows), len(arns), "certificates")
    for arn, versions, states in rows:
        eq((versions, states), ("1", "COMMITTED"), arn)
    ev = _sql(d, "SELECT certificate_arn, count(*) FROM audit_events WHERE "
              "event_name = 'IssueCertificate' AND certificate_arn IN (%s) "
              "GROUP BY 1" % q)
    eq(sorted(r[1] for r in ev), ["1"] * len(arns), "IssueCertificate events")
    serials = _sql(d, "SELECT count(DISTINCT v.serial), count(*) FROM "
                   "certificate_versions v JOIN certificates c ON c.id = "
                   "v.certificate_id WHERE c.arn IN (%s)" % q)
    eq(serials[0], [str(len(arns))] * 2, "distinct serials")


# ---------------------------------------------------------------- the CA

def test_two_daemons_starting_together_create_one_ca(ctx):
    a, b = _daemons(ctx, 2)
    rows = _sql(a, "SELECT name, active, chain_pem IS NULL FROM "
                "certificate_authorities ORDER BY name")
    eq(rows, [["certfleet", "t", "f"], ["certfleet root", "f", "t"]],
       "CA rows")
    ca = a.client.ok("GetCertificateAuthorityCertificate", {},
                     prefix="CertFleet")
    eq(b.client.ok("GetCertificateAuthorityCertificate", {},
                   prefix="CertFleet"), ca, "both daemons answer the same CA")
    for d in (a, b):
        path = os.path.join(d.state, "ca-root.pem")
        eq(stat.S_IMODE(os.stat(path).st_mode), 0o644, "ca-root.pem mode")
        with open(path) as f:
            eq(f.read(), ca["CertificateChain"], "ca-root.pem is the root")
    check(ca["Certificate"].count("BEGIN CERTIFICATE") == 1 and
          ca["CertificateChain"].count("BEGIN CERTIFICATE") == 1,
          "one intermediate and one root")
    tmp = os.path.join(a.dir, "verify")
    os.makedirs(tmp, exist_ok=True)
    _openssl_verify(tmp, ca["CertificateChain"], ca["CertificateChain"],
                    ca["Certificate"])
    text = _x509_text(tmp, ca["Certificate"])
    check("CN = certfleet Intermediate CA" in text, text[:400])
    # A restart loads the same CA; no key ever reaches the database plain.
    a.restart()
    eq(a.client.ok("GetCertificateAuthorityCertificate", {},
                   prefix="CertFleet"), ca, "after restart")
    dump = a.cluster.pg_dump(a.dbname)
    check("PRIVATE KEY" not in dump, "a plaintext key in the database")


def test_cli_prints_the_ca_certificate(ctx):
    (d,) = _daemons(ctx, 1)
    r = harness.run_cmd([harness.certfleet_path(), "--socket", d.socket,
                         "get-certificate-authority-certificate"])
    eq(r.returncode, 0, r.stderr.decode())
    out = json.loads(r.stdout.decode())
    with open(os.path.join(d.state, "ca-root.pem")) as f:
        eq(out["CertificateChain"], f.read(), "CLI root")


def test_operator_supplied_ca_is_used(ctx):
    op = certs.CA("EC", name="Operator %s" % secrets.token_hex(3))
    base = os.path.join(ctx.tmp, ctx.unique("opca"))
    os.makedirs(base)
    files = {
        "root_certificate": _write(os.path.join(base, "root.pem"),
                                   certs.cert_pem(op.root)),
        "intermediate_certificate": _write(
            os.path.join(base, "int.pem"), certs.cert_pem(op.intermediate)),
        "intermediate_key": _write(os.path.join(base, "int.key"),
                                   certs.key_pem(op.int_key)),
    }
    (d,) = _daemons(ctx, 1, extra={"ca": files})
    ca = d.client.ok("GetCertificateAuthorityCertificate", {},
                     prefix="CertFleet")
    eq(ca["Certificate"], certs.cert_pem(op.intermediate).decode(),
       "intermediate")
    eq(ca["CertificateChain"], certs.cert_pem(op.root).decode(), "root")
    arn, _ = _add_intent(d, ["op.example.com"])
    d.restart()     # adopting the same CA twice is fine; kicks the scan
    _wait_issued(d, [arn])
    got = d.client.ok("GetCertificate", {"CertificateArn": arn})
    _openssl_verify(d.dir, certs.cert_pem(op.root), got["CertificateChain"],
                    got["Certificate"])
    desc = d.client.describe(arn)
    eq(desc["Issuer"], "CN=%s" % op.intermediate_cn, "Issuer")
    # Half an operator CA is a configuration error, not a silent fallback.
    bad = ctx.new_daemon(extra={"ca": {"root_certificate":
                                       files["root_certificate"]}},
                         start=False, cluster=ctx.m.cluster)
    r = harness.run_cmd([bad.binary, "--config", bad.config_path,
                         "--check-config"])
    check(r.returncode != 0 and b"go together" in r.stderr, r.stderr)


# ------------------------------------------------------------- issuance

def test_issuance_end_to_end(ctx):
    (d,) = _daemons(ctx, 1, extra={"ca": {"certificate_validity": "30d",
                                          "backdate": "10m"}})
    names = ["www.example.com", "example.com", "*.example.com"]
    want = {}
    for alg in ("RSA_2048", "EC_prime256v1", "EC_secp384r1"):
        t0 = int(time.time())
        arn, serial = _add_intent(d, names, alg)
        want[arn] = (alg, serial, t0)
    _wait_issued(d, list(want), timeout=30)
    ca = d.client.ok("GetCertificateAuthorityCertificate", {},
                     prefix="CertFleet")
    for arn, (alg, serial, t0) in want.items():
        got = d.client.ok("GetCertificate", {"CertificateArn": arn})
        eq(got["CertificateChain"], ca["Certificate"] + ca["CertificateChain"],
           "chain: intermediate then root")
        _openssl_verify(d.dir, ca["CertificateChain"],
                        got["CertificateChain"], got["Certificate"])
        desc = d.client.describe(arn)
        eq(desc["Type"], "AMAZON_ISSUED", "Type")
        eq(desc["Status"], "ISSUED", "Status")
        eq(desc["KeyAlgorithm"], alg, "KeyAlgorithm")
        eq(desc["Serial"], _acm_serial(serial), "Serial is the intent's")
        eq(desc["DomainName"], "www.example.com", "DomainName")
        eq(desc["SubjectAlternativeNames"], names, "SANs")
        eq(desc["Subject"], "CN=www.example.com", "Subject")
        check(abs(desc["IssuedAt"] - t0) < 30, "IssuedAt %r" % desc)
        check(abs(desc["NotBefore"] - (desc["IssuedAt"] - 600)) < 30,
              "NotBefore back-dated 10m: %r" % desc)
        eq(desc["NotAfter"] - desc["NotBefore"], 30 * 86400 + 600,
           "validity 30d")
        eq(desc["SignatureAlgorithm"], "SHA256WITHECDSA", "CA signature")
        eq(sorted(u["Name"] for u in desc["ExtendedKeyUsages"]),
           ["TLS_WEB_CLIENT_AUTHENTICATION", "TLS_WEB_SERVER_AUTHENTICATION"],
           "EKU")
        ku = sorted(u["Name"] for u in desc["KeyUsages"])
        eq(ku, ["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"]
           if alg.startswith("RSA") else ["DIGITAL_SIGNATURE"], "KU")
        text = _x509_text(d.dir, got["Certificate"])
        for s in ("CA:FALSE", "Subject Key Identifier",
                  "Authority Key Identifier", "ecdsa-with-SHA256"):
            check(s in text, "%s in the leaf" % s)
        check("PrivateKey" not in got, "GetCertificate has no key")
    _no_double_issue(d, list(want))
    ev = d.client.ok("LookupEvents", {"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": "IssueCertificate"}]},
        prefix="CertFleet")
    check(len(ev["Events"]) >= 3, "IssueCertificate in LookupEvents")


def test_request_that_ended_or_cannot_be_issued(ctx):
    (d,) = _daemons(ctx, 1)
    # A request that failed meanwhile: its intent is abandoned, not issued.
    gone, _ = _add_intent(d, ["gone.example.com"])
    _sql(d, "UPDATE certificates SET status = 'VALIDATION_TIMED_OUT' "
         "WHERE arn = '%s'" % gone)
    # A first name too long for a subject CN: the CA refuses it for good.
    long_name = "a" * 60 + ".example.com"
    bad, _ = _add_intent(d, [long_name])
    ok, _ = _add_intent(d, ["fine.example.com"])
    _wait_issued(d, [ok])

    def settled():
        return _sql(d, "SELECT i.state, c.status, c.failure_reason FROM "
                    "issuance_intents i JOIN certificates c ON c.id = "
                    "i.certificate_id WHERE c.arn IN ('%s', '%s') ORDER BY "
                    "c.id" % (gone, bad))
    harness.wait_for(lambda: all(r[0] == "ABANDONED" for r in settled()), 20,
                     what="intents abandoned")
    eq(settled(), [["ABANDONED", "VALIDATION_TIMED_OUT", ""],
                   ["ABANDONED", "FAILED", "OTHER"]], "outcomes")
    eq(d.client.describe(bad)["FailureReason"], "OTHER", "FailureReason")


def test_kill9_during_issuance_issues_each_once(ctx):
    (d,) = _daemons(ctx, 1, extra={"ca": {"worker_threads": "1",
                                          "lease_duration": "2s"}})
    # Slow keys, one thread: some are claimed and unsigned when it dies.
    arns = [_add_intent(d, ["k%d.example.com" % i], "RSA_4096")[0]
            for i in range(6)]

    def leased_uncommitted():
        rows = _sql(d, "SELECT count(*) FILTER (WHERE state = 'PREPARED' "
                    "AND lease_owner IS NOT NULL), count(*) FILTER (WHERE "
                    "state = 'COMMITTED') FROM issuance_intents")
        return int(rows[0][0]) > 0 and int(rows[0][1]) >= 1
    harness.wait_for(leased_uncommitted, 60, interval=0.05,
                     what="an intent committed and others claimed")
    d.kill9()
    left = int(_sql(d, "SELECT count(*) FROM issuance_intents WHERE state = "
                    "'PREPARED'")[0][0])
    check(left > 0, "nothing left to redo after kill -9")
    d.start()
    _wait_issued(d, arns, timeout=120)
    _no_double_issue(d, arns)


def test_two_daemons_issue_each_intent_once(ctx):
    a, b = _daemons(ctx, 2, extra={"ca": {"worker_threads": "2"}})
    arns = [_add_intent(a, ["t%d.example.com" % i, "x%d.example.com" % i])[0]
            for i in range(150)]
    a.client.ok("GetCertificateAuthorityCertificate", {}, prefix="CertFleet")
    _wait_issued(a, arns, timeout=60)
    _no_double_issue(a, arns)
    owners = _sql(a, "SELECT count(DISTINCT host_name) FROM audit_events "
                  "WHERE event_name = 'IssueCertificate'")
    check(int(owners[0][0]) >= 1, "issued by some daemon")
    print("  intents issued per daemon: %s" % _sql(
        a, "SELECT host_name, count(*) FROM audit_events WHERE event_name = "
        "'IssueCertificate' GROUP BY 1 ORDER BY 1"))
