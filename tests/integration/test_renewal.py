"""Managed renewal end to end, with lifetimes of seconds: a certificate
bound to an nginx endpoint on loopback renews itself (new serial, new
key, same ARN and names, files replaced, the endpoint serving the new
certificate, RenewalSummary), RenewCertificate, unbound certificates never
renewed, a stale endpoint reported and retried, the fallback when a check
fails (per-name status, FAILED with the operator's email when nobody
approves), and a fleet of two daemons on one database renewing every
certificate exactly once, one of them killed with SIGKILL mid-run."""

import hashlib
import os
import re
import secrets
import signal
import socket
import ssl
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import harness
import test_request_flow as flow
from harness import TestFailure, check, eq, wait_for

EXT = "CertFleet"
ACCOUNT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/"
NGINX = "/usr/sbin/nginx"
NET = "127.0.70"
OPS = "ops@fleet.example.org"
ZONE = "renew.test"
FB_ZONE = "renew-fallback.com"
FLEET_MAX = 200


def dnsmasq(workdir):
    port = flow.free_port(socket.SOCK_DGRAM, NET + ".53")
    log = os.path.join(workdir, "dnsmasq.log")
    args = ["/usr/sbin/dnsmasq", "--keep-in-foreground",
            "--conf-file=/dev/null", "--pid-file=", "--no-resolv",
            "--no-hosts", "--bind-interfaces",
            "--listen-address=%s.53" % NET, "--port=%d" % port,
            "--user=root", "--log-facility=" + log,
            "--local=/%s/" % ZONE,
            "--host-record=out.%s,10.99.0.1" % ZONE,
            # The email fallback: outside, with an MX one level up, in a
            # zone under a public suffix (the MX walk needs one).
            "--local=/%s/" % FB_ZONE,
            "--host-record=out.fb.%s,10.99.0.2" % FB_ZONE,
            "--mx-host=fb.%s,mx.fb.%s,10" % (FB_ZONE, FB_ZONE)]
    for i in range(1, 40):
        args.append("--host-record=in%d.%s,%s.%d" % (i, ZONE, NET, i))
    # The fleet's names resolve inside too.
    for i in range(FLEET_MAX):
        args.append("--host-record=c%d.fleet.%s,%s.99" % (i, ZONE, NET))
    flow.Proc(args, ready=lambda: os.path.exists(log) and
              "started" in open(log).read(),
              log=os.path.join(workdir, "dns.err"))
    return "%s.53:%d" % (NET, port)


def renewal_config(ctx, extra=None):
    m = ctx.m
    cfg = {
        "mail": {"relay": "smtp://127.0.0.1:%d" % m.sink.port,
                 "from": "certfleet@test-host-1.example",
                 "retry_min": "300ms", "retry_max": "1s"},
        "dns": {"servers": m.dns, "timeout": "500ms", "tries": "2"},
        "ca": {"certificate_validity": "90s", "backdate": "0s"},
        "renewal": {"scan_interval": "1s", "renew_before": "45s",
                    "lease_duration": "5s", "backoff_min": "1s",
                    "backoff_max": "3s", "verify_timeout": "6s",
                    "probe_timeout": "2s",
                    "managed_networks": NET + ".0/24"},
        "notifications": {"email": OPS, "expiry_event_interval": "3s"},
        "validation": {"timeout": "6s"},
    }
    for sec, kv in (extra or {}).items():
        cfg.setdefault(sec, {}).update(kv)
    return cfg


def setup_module(ctx):
    m = ctx.m
    m.dir = os.path.join(ctx.tmp, "renewal-servers")
    os.makedirs(m.dir, exist_ok=True)
    m.sink = flow.Sink(m.dir)
    m.dns = dnsmasq(m.dir)
    m.d = ctx.new_daemon(extra=renewal_config(ctx))
    m.c = m.d.client
    m.n = 0


# ------------------------------------------------------------- helpers

def sql(d, q):
    return d.cluster.psql(q, d.dbname)


def issue(d, names, key_algorithm="EC_prime256v1"):
    """An issued certificate: the request as the flow leaves it once every
    name is approved, then the issuer."""
    arn = ACCOUNT_ARN + str(uuid.uuid4())
    serial = ":".join("%02x" % b for b in secrets.token_bytes(16))
    arr = "{" + ",".join('"%s"' % n for n in names) + "}"
    sql(d, "WITH c AS (INSERT INTO certificates (arn, type, status, "
        "domain_name, names, key_algorithm, validation_method) VALUES "
        "('%s', 'AMAZON_ISSUED', 'PENDING_VALIDATION', '%s', '%s', '%s', "
        "'EMAIL') RETURNING id), v AS (INSERT INTO domain_validations "
        "(certificate_id, domain_name, validation_domain, status, position, "
        "discovery_state) SELECT id, n, n, 'SUCCESS', o, 'DONE' FROM c, "
        "unnest('%s'::text[]) WITH ORDINALITY AS u(n, o)) "
        "INSERT INTO issuance_intents (certificate_id, purpose, version, "
        "serial) SELECT id, 'ISSUE', 1, '%s' FROM c"
        % (arn, names[0], arr, key_algorithm, arr, serial))
    return arn


def wait_issued(d, arn, timeout=30):
    wait_for(lambda: sql(d, "SELECT status FROM certificates WHERE arn = "
                         "'%s'" % arn)[0][0] == "ISSUED", timeout,
             interval=0.2, what="certificate issued")


def folder(ctx, stem):
    ctx.m.n += 1
    d = os.path.join(ctx.tmp, "renew-%s-%d" % (stem, ctx.m.n))
    os.makedirs(d)
    return d


def tls_fingerprint(addr, port, sni):
    cx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cx.check_hostname = False
    cx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((addr, port), timeout=3) as s:
        with cx.wrap_socket(s, server_hostname=sni) as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def fp(pem):
    if isinstance(pem, str):
        pem = pem.encode()
    der = x509.load_pem_x509_certificate(pem).public_bytes(
        serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def nginx(ctx, addr, sni):
    """nginx on addr serving <dir>/fullchain.pem + key.pem (a placeholder
    until certfleet deploys)."""
    import certs
    d = folder(ctx, "nginx")
    ph = certs.self_signed(("placeholder.example.com",))
    for name, data in (("fullchain.pem", ph.cert_pem),
                       ("key.pem", ph.key_pem)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    port = flow.free_port(addr=addr)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
events { worker_connections 64; }
http {
    access_log %(d)s/access.log;
    client_body_temp_path %(d)s/tmp;
    proxy_temp_path %(d)s/tmp;
    fastcgi_temp_path %(d)s/tmp;
    uwsgi_temp_path %(d)s/tmp;
    scgi_temp_path %(d)s/tmp;
    server {
        listen %(addr)s:%(port)d ssl;
        ssl_certificate %(d)s/fullchain.pem;
        ssl_certificate_key %(d)s/key.pem;
        location / { return 200 "ok\\n"; }
    }
}
""" % {"d": d, "addr": addr, "port": port})
    flow.Proc([NGINX, "-c", conf, "-e", os.path.join(d, "error.log")],
              ready=lambda: tls_fingerprint(addr, port, sni),
              log=os.path.join(d, "nginx.out"))
    reload = [NGINX, "-c", conf, "-e", os.path.join(d, "error.log"), "-s",
              "reload"]
    return d, port, reload


def sni_endpoint(ctx, addr):
    """sni_server.py on addr: serves ROOT/<sni>/ (see there)."""
    root = folder(ctx, "sni")
    portfile = os.path.join(root, ".port")
    flow.Proc(["/usr/bin/python3", os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "sni_server.py"), addr, root, portfile],
        ready=lambda: os.path.exists(portfile),
        log=os.path.join(root, ".log"))
    return root, int(open(portfile).read())


def bind(c, arn, d, addr=None, port=None, sni=None, reload=None,
         host="test-host-1"):
    def f(name, mode):
        return {"Path": os.path.join(d, name), "Owner": "root",
                "Group": "root", "Mode": mode}
    body = {"CertificateArn": arn, "HostName": host,
            "Files": {"FullChain": f("fullchain.pem", "0644"),
                      "PrivateKey": f("key.pem", "0600")}}
    if addr is not None:
        body["Endpoint"] = {"Address": addr, "Port": port,
                            "ServerName": sni}
    body["Reload"] = {"Command": reload or ["/bin/true"],
                      "TimeoutSeconds": 10}
    return c.ok("CreateBinding", body, prefix=EXT)["BindingArn"]


def current(d, arn):
    """(version, serial, certificate PEM) of the current version."""
    r = sql(d, "SELECT v.version, v.serial, replace(v.certificate_pem, "
            "chr(10), '~') FROM "
            "certificates c JOIN certificate_versions v ON v.certificate_id "
            "= c.id AND v.version = c.current_version WHERE c.arn = '%s'"
            % arn)
    return int(r[0][0]), r[0][1], r[0][2].replace("~", "\n")


def public_key(pem):
    return x509.load_pem_x509_certificate(pem.encode()).public_key(
    ).public_bytes(serialization.Encoding.DER,
                   serialization.PublicFormat.SubjectPublicKeyInfo)


def summary(c, arn):
    return c.describe(arn).get("RenewalSummary")


def wait_renewed(c, arn, version, d, timeout=40):
    def done():
        # The version first: SUCCESS read after it is that version's (a
        # claim writes PENDING_AUTO_RENEWAL before it issues anything).
        if current(d, arn)[0] < version:
            return False
        s = summary(c, arn)
        return s is not None and s["RenewalStatus"] == "SUCCESS"
    wait_for(done, timeout, interval=0.3, what="renewal to version %d"
             % version)


def mails_to(sink, rcpt, subject_re):
    return [m for m in sink.messages() if rcpt in m["To"] and
            re.search(subject_re, m["Subject"])]


# ------------------------------------------------------------- tests

def test_renew_now_then_automatically(ctx):
    if not os.access(NGINX, os.X_OK):
        raise TestFailure("nginx is not installed")
    m = ctx.m
    c, d = m.c, m.d
    name, addr = "in1." + ZONE, NET + ".1"
    arn = issue(d, [name, "in2." + ZONE])
    wait_issued(d, arn)
    ndir, port, reload = nginx(ctx, addr, name)
    bind(c, arn, ndir, addr, port, name, reload)
    v1, serial1, pem1 = current(d, arn)
    eq(v1, 1, "first version")
    wait_for(lambda: tls_fingerprint(addr, port, name) == fp(pem1), 15,
             what="nginx to serve version 1")
    due = sql(d, "SELECT next_due_at IS NOT NULL FROM certificates WHERE "
              "arn = '%s'" % arn)[0][0]
    wait_for(lambda: sql(d, "SELECT next_due_at IS NOT NULL FROM "
                         "certificates WHERE arn = '%s'" % arn)[0][0] == "t",
             5, what="a due time once bound (%s)" % due)

    c.ok("RenewCertificate", {"CertificateArn": arn})
    wait_renewed(c, arn, 2, d)
    v2, serial2, pem2 = current(d, arn)
    eq(v2, 2, "renewed version")
    check(serial2 != serial1, "a new serial")
    check(public_key(pem2) != public_key(pem1), "a new key pair")
    desc = c.describe(arn)
    eq(desc["CertificateArn"], arn, "same ARN")
    eq(sorted(desc["SubjectAlternativeNames"]),
       sorted([name, "in2." + ZONE]), "same names")
    eq(tls_fingerprint(addr, port, name), fp(pem2),
       "the endpoint serves the new certificate")
    with open(os.path.join(ndir, "fullchain.pem")) as f:
        check(fp(f.read()) == fp(pem2), "files replaced")
    s = desc["RenewalSummary"]
    eq(s["RenewalStatus"], "SUCCESS", "RenewalStatus")
    check(isinstance(s["UpdatedAt"], (int, float)) and s["UpdatedAt"] > 0,
          "UpdatedAt")
    eq(sorted((o["DomainName"], o["ValidationStatus"])
              for o in s["DomainValidationOptions"]),
       [(name, "SUCCESS"), ("in2." + ZONE, "SUCCESS")], "per-name status")
    ev = sql(d, "SELECT count(*) FROM audit_events WHERE event_name = "
             "'RenewCertificate' AND certificate_arn = '%s' AND "
             "caller_user = 'certfleetd'" % arn)
    eq(ev[0][0], "1", "one renewal recorded")

    # Version 2 lives 90 s: it comes due by itself 45-60 s before its end.
    wait_renewed(c, arn, 3, d, timeout=75)
    eq(tls_fingerprint(addr, port, name), fp(current(d, arn)[2]),
       "automatic renewal served")
    # Each renewal began once, for its reason (certfleet_renewals_started
    # counts the same events).
    log = d.stderr_text()
    eq(log.count("renewal of %s starts (requested)" % arn), 1,
       "one requested start")
    eq(log.count("renewal of %s starts (due)" % arn), 1, "one due start")

test_renew_now_then_automatically.time_limit = 360


def test_unbound_never_renewed(ctx):
    m = ctx.m
    arn = issue(m.d, ["in3." + ZONE])
    wait_issued(m.d, arn)
    m.c.expect_error("RenewCertificate", {"CertificateArn": arn},
                     "ValidationException")
    eq(sql(m.d, "SELECT next_due_at IS NULL FROM certificates WHERE arn = "
           "'%s'" % arn)[0][0], "t", "no due time")
    m.c.expect_error("RenewCertificate", {"CertificateArn": ACCOUNT_ARN +
                     str(uuid.uuid4())}, "ResourceNotFoundException")


def test_stale_endpoint_reported_and_retried(ctx):
    m = ctx.m
    c, d = m.c, m.d
    name, addr = "in4." + ZONE, NET + ".4"
    arn = issue(d, [name])
    wait_issued(d, arn)
    ndir, port, reload = nginx(ctx, addr, name)
    bind(c, arn, ndir, addr, port, name, reload)
    pem1 = current(d, arn)[2]
    wait_for(lambda: tls_fingerprint(addr, port, name) == fp(pem1), 15,
             what="nginx to serve version 1")
    # From now on the reload action does nothing: nginx keeps version 1.
    sql(d, "UPDATE bindings SET reload = '{\"command\": [\"/bin/true\"]}'"
        " WHERE certificate_id = (SELECT id FROM certificates WHERE arn = "
        "'%s')" % arn)
    sql(d, "UPDATE bindings SET reload = jsonb_set(reload, '{command}', "
        "'[\"/bin/true\"]') WHERE certificate_id = (SELECT id FROM "
        "certificates WHERE arn = '%s')" % arn)
    c.ok("RenewCertificate", {"CertificateArn": arn})
    wait_for(lambda: "stale endpoint" in d.stderr_text() and arn in
             d.stderr_text(), 20, what="the stale endpoint reported")
    # Retried: after the verification deadline the renewal backs off and
    # comes back (deploy again, probe again).
    wait_for(lambda: int(sql(d, "SELECT failure_count FROM certificates "
                             "WHERE arn = '%s'" % arn)[0][0]) >= 2, 40,
             what="retries")
    eq(tls_fingerprint(addr, port, name), fp(pem1), "still the old one")
    eq(summary(c, arn)["RenewalStatus"], "PENDING_AUTO_RENEWAL",
       "not SUCCESS while unverified")
    # The operator fixes the reload action: the next attempt completes.
    sql(d, "UPDATE bindings SET reload = jsonb_set(reload, '{command}', "
        "'%s') WHERE certificate_id = (SELECT id FROM certificates WHERE "
        "arn = '%s')" % (str(reload).replace("'", '"'), arn))
    wait_renewed(c, arn, 2, d, timeout=40)

test_stale_endpoint_reported_and_retried.time_limit = 360


def test_fallback_no_contacts_fails_and_notifies(ctx):
    """A name resolving outside managed_networks, a name not resolving, an
    endpoint down and an endpoint serving another certificate: exactly
    those names fall back to email validation. None of them has anybody to
    ask (no MX, no RDAP): the renewal ends FAILED with NO_AVAILABLE_CONTACTS
    while the certificate stays ISSUED, the log says so, and the operator
    gets an email."""
    m = ctx.m
    c, d = m.c, m.d
    good, out, nx = "in5." + ZONE, "out." + ZONE, "nx." + ZONE
    down, other = "in6." + ZONE, "in7." + ZONE
    arn = issue(d, [good, out, nx, down, other])
    wait_issued(d, arn)
    root, port = sni_endpoint(ctx, NET + ".5")
    for n in (good, down, other):
        os.makedirs(os.path.join(root, n))
    bind(c, arn, os.path.join(root, good), NET + ".5", port, good)
    # Nothing listens on .6.
    bind(c, arn, os.path.join(root, down), NET + ".6", port, down)
    # .5 answers for "other" with files certfleet never wrote.
    import certs
    ph = certs.self_signed((other,))
    odir = folder(ctx, "other")
    for name, data in (("fullchain.pem", ph.cert_pem),
                       ("key.pem", ph.key_pem)):
        with open(os.path.join(root, other, name), "wb") as f:
            f.write(data)
    bind(c, arn, odir, NET + ".5", port, other)
    c.ok("RenewCertificate", {"CertificateArn": arn})

    def fell_back():
        s = summary(c, arn)
        return s is not None and s["RenewalStatus"] in (
            "PENDING_VALIDATION", "FAILED") and s
    s = wait_for(fell_back, 20, what="the email fallback")
    per = {o["DomainName"]: o["ValidationStatus"]
           for o in s["DomainValidationOptions"]}
    eq(sorted(n for n, st in per.items() if st != "SUCCESS"),
       sorted([out, nx, down, other]), "exactly the failing names fall back")

    def failed():
        s = summary(c, arn)
        return s is not None and s["RenewalStatus"] == "FAILED" and s
    s = wait_for(failed, 30, what="FAILED: nobody to ask")
    eq(s.get("RenewalStatusReason"), "NO_AVAILABLE_CONTACTS",
       "RenewalStatusReason")
    per = {o["DomainName"]: o["ValidationStatus"]
           for o in s["DomainValidationOptions"]}
    eq(per, {good: "SUCCESS", out: "FAILED", nx: "FAILED", down: "FAILED",
             other: "FAILED"}, "per-name status")
    desc = c.describe(arn)
    eq(desc["Status"], "ISSUED", "the certificate stays ISSUED")
    eq(current(d, arn)[0], 1, "not renewed")
    wait_for(lambda: mails_to(m.sink, OPS, "Renewal of the certificate for "
                              + re.escape(good)), 20,
             what="the operator's email")
    log = d.stderr_text()
    check(re.search(r"renewal of %s FAILED \(NO_AVAILABLE_CONTACTS\)"
                    % re.escape(arn), log), "journal warning:\n" + log)
    # The contact look-up's own line says what happens to a renewal,
    # never that the certificate failed.
    for n in (out, nx, down, other):
        check(re.search(r"renewal of %s: no contacts for %s \(.*\): no "
                        r"validation email sent; the renewal ends FAILED "
                        r"\(NO_AVAILABLE_CONTACTS\) at the next scan, the "
                        r"certificate stays ISSUED" % (re.escape(arn),
                                                       re.escape(n)), log),
              "the look-up's log line for %s:\n%s" % (n, log))
    check("certificate %s FAILED" % arn not in log,
          "no 'certificate FAILED' line for a renewal:\n" + log)


def metric(d, name, labels):
    """The value of one sample of certfleetd's exposition (0 if absent)."""
    import urllib.request
    url = "http://%s/metrics" % d.extra["metrics"]["listen"]
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    m = re.search(r"^%s(?:_total)?\{%s\} (\S+)$" % (re.escape(name),
                  re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else 0.0


def fallback_daemon(ctx, name, validation):
    d = ctx.new_daemon(name=name, extra=renewal_config(ctx, {
        "public": {"listen": "127.0.0.1:%d" % flow.free_port(),
                   "base_url": "https://certs.fleet.example.org"},
        "metrics": {"listen": "127.0.0.1:%d" % flow.free_port()},
        "validation": dict({"rate_limit": "600"}, **validation)}))
    d.page = "http://%s/approvals" % d.extra["public"]["listen"]
    return d


def validation_mails(sink, arn, n):
    # Expiry events for the short-lived certificate go to OPS too.
    ms = [x for x in sink.messages() if OPS not in str(x["To"]) and
          arn in x.get_body(("plain",)).get_content()]
    return ms if len(ms) >= n else None


def test_fallback_resend_then_not_approved(ctx):
    """ResendValidationEmail for a renewal waiting on email validation
    mails the failing name again, and only that name; nobody approves:
    FAILED (not in time), after which a resend is refused. The renewals
    started are counted by reason."""
    m = ctx.m
    # The validation period covers two rounds of contact look-ups and
    # mail (a resend does not extend it): generous for a slow build.
    d = fallback_daemon(ctx, "resend", {"timeout": "75s"})
    c = d.client
    good, out = "in9." + ZONE, "out.fb." + FB_ZONE
    arn = issue(d, [good, out])
    wait_issued(d, arn)
    root, port = sni_endpoint(ctx, NET + ".9")
    os.makedirs(os.path.join(root, good))
    bind(c, arn, os.path.join(root, good), NET + ".9", port, good)
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": arn, "Domain": out, "ValidationDomain": out},
        "InvalidStateException")
    eq(metric(d, "certfleet_renewals_started", 'reason="requested"'), 0,
       "nothing started yet")
    c.ok("RenewCertificate", {"CertificateArn": arn})
    wait_for(lambda: validation_mails(m.sink, arn, 5), 40,
             what="validation emails")
    eq(summary(c, arn)["RenewalStatus"], "PENDING_VALIDATION",
       "RenewalStatus")
    eq(metric(d, "certfleet_renewals_started", 'reason="requested"'), 1,
       "a requested renewal counted")

    first = {flow.link_of(x) for x in validation_mails(m.sink, arn, 5)}
    c.ok("ResendValidationEmail", {"CertificateArn": arn, "Domain": out,
                                   "ValidationDomain": out})
    msgs = wait_for(lambda: validation_mails(m.sink, arn, 10), 30,
                    what="validation emails sent again")
    time.sleep(1)
    msgs = validation_mails(m.sink, arn, 10)
    eq(len(msgs), 10, "five addresses, twice")
    eq(sorted(set(flow.recipients(msgs))), flow.admins("fb." + FB_ZONE),
       "the same addresses")
    for x in msgs:
        body = x.get_body(("plain",)).get_content()
        check("Domain: " + out in body and "Domain: " + good not in body,
              "an email for exactly the failing name:\n" + body)
    # A resent token approves (here: looked at only, to keep waiting).
    # The sink lists messages in no particular order: take a new link.
    fresh = [flow.link_of(x) for x in msgs if flow.link_of(x) not in first]
    eq(len(fresh), 5, "links of the resent emails")
    st, page = flow.get_page(d, fresh[0])
    eq(st, 200, "a resent link's page")
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": arn, "Domain": good, "ValidationDomain": good},
        "InvalidDomainValidationOptionsException")
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": arn, "Domain": "x." + out,
        "ValidationDomain": out}, "InvalidDomainValidationOptionsException")

    def failed():
        s = summary(c, arn)
        return s is not None and s["RenewalStatus"] == "FAILED" and s
    s = wait_for(failed, 150, what="FAILED once not approved in time")
    eq(s.get("RenewalStatusReason"), "OTHER", "RenewalStatusReason")
    eq(c.describe(arn)["Status"], "ISSUED", "still ISSUED")
    check("not approved in time" in d.stderr_text(), "the reason logged")
    doc = c.expect_error("ResendValidationEmail", {
        "CertificateArn": arn, "Domain": out, "ValidationDomain": out},
        "InvalidStateException")
    check(arn in doc["message"], "the message names the certificate")
    # After the backoff the renewal starts again: a retry.
    wait_for(lambda: metric(d, "certfleet_renewals_started",
                            'reason="retry"') >= 1, 30,
             what="a retry counted")
    d.stop()

test_fallback_resend_then_not_approved.time_limit = 420


def test_fallback_email_approval_completes_renewal(ctx):
    """One name resolves outside managed_networks: validation emails for
    exactly that name go to the MX walk's addresses; the link's GET changes
    nothing, its POST approves, and the renewal completes."""
    m = ctx.m
    d = fallback_daemon(ctx, "fallback", {"timeout": "120s"})
    c = d.client
    good, out = "in8." + ZONE, "out.fb." + FB_ZONE
    arn = issue(d, [good, out])
    wait_issued(d, arn)
    root, port = sni_endpoint(ctx, NET + ".8")
    os.makedirs(os.path.join(root, good))
    bind(c, arn, os.path.join(root, good), NET + ".8", port, good)
    v1, serial1, pem1 = current(d, arn)
    def served():
        try:
            return tls_fingerprint(NET + ".8", port, good) == fp(pem1)
        except (OSError, ssl.SSLError):
            return False
    wait_for(served, 15, what="version 1 served")
    c.ok("RenewCertificate", {"CertificateArn": arn})

    def validation_mails():
        # Expiry events for the short-lived certificate go to OPS too.
        ms = [x for x in m.sink.messages() if OPS not in str(x["To"]) and
              arn in x.get_body(("plain",)).get_content()]
        return ms if len(ms) >= 5 else None
    msgs = wait_for(validation_mails, 40, what="validation emails")
    time.sleep(1)
    msgs = validation_mails()
    eq(sorted(flow.recipients(msgs)), flow.admins("fb." + FB_ZONE),
       "the MX walk's addresses, once each")
    for x in msgs:
        body = x.get_body(("plain",)).get_content()
        check("Domain: " + out in body and "Domain: " + good not in body,
              "an email for exactly the failing name:\n" + body)
    s = summary(c, arn)
    eq(s["RenewalStatus"], "PENDING_VALIDATION", "RenewalStatus")
    per = {o["DomainName"]: o["ValidationStatus"]
           for o in s["DomainValidationOptions"]}
    eq(per, {good: "SUCCESS", out: "PENDING_VALIDATION"}, "per-name status")

    code = flow.link_of(msgs[0])
    for _ in range(2):
        st, page = flow.get_page(d, code)
        eq(st, 200, "GET status")
        check(out in page and arn in page and "I Approve" in page,
              "approval page content:\n" + page)
    time.sleep(2)
    eq(summary(c, arn)["RenewalStatus"], "PENDING_VALIDATION",
       "GET approved nothing")
    eq(current(d, arn)[0], 1, "GET issued nothing")
    st, page = flow.approve(d, code)
    eq(st, 200, "POST status")
    check("Success" in page, "success page:\n" + page)
    eq(flow.approve(d, code)[0], 410, "a used token")
    eq(flow.approve(d, flow.link_of(msgs[1]))[0], 410,
       "another address's token once the name is approved")

    wait_renewed(c, arn, 2, d, timeout=60)
    v2, serial2, pem2 = current(d, arn)
    eq(v2, 2, "renewed version")
    check(serial2 != serial1, "a new serial")
    check(public_key(pem2) != public_key(pem1), "a new key pair")
    s = summary(c, arn)
    eq(s["RenewalStatus"], "SUCCESS", "RenewalStatus")
    eq(sorted((o["DomainName"], o["ValidationStatus"])
              for o in s["DomainValidationOptions"]),
       sorted([(good, "SUCCESS"), (out, "SUCCESS")]), "per-name status")
    with open(os.path.join(root, good, "fullchain.pem")) as f:
        eq(fp(f.read()), fp(pem2), "files deployed")
    eq(tls_fingerprint(NET + ".8", port, good), fp(pem2),
       "the endpoint serves the new certificate")
    d.stop()

test_fallback_email_approval_completes_renewal.time_limit = 360


# ------------------------------------------------------------- fleet

def fleet(ctx, n, kill=False):
    m = ctx.m
    name = ctx.unique("fleet")
    db = m.d.cluster.create_db("cf_" + name)
    key = os.path.join(ctx.tmp, name + "-master.key")
    ds = []
    for i in range(2):
        e = renewal_config(ctx, {
            "keys": {"master_key_file": key},
            "daemon": {"host_name": "fleet-host-%d" % i},
            "ca": {"certificate_validity": "1h"},
            "renewal": {"renew_before": "10m", "max_in_flight": "8"}})
        ds.append(ctx.new_daemon(name="%s-%d" % (name, i), extra=e,
                                 start=False, cluster=m.d.cluster,
                                 dbname=db))
    ds[0].start()
    ds[1].start()
    arns = []
    for i in range(n):
        arns.append(issue(ds[0], ["c%d.fleet.%s" % (i, ZONE)]))
    for a in arns:
        wait_issued(ds[0], a, 60)
    eps = [sni_endpoint(ctx, "%s.%d" % (NET, 201 + h)) for h in range(2)]
    dirs = {}
    for i, a in enumerate(arns):
        name = "c%d.fleet.%s" % (i, ZONE)
        for h in range(2):
            root, port = eps[h]
            fd = os.path.join(root, name)
            os.makedirs(fd)
            dirs[(a, h)] = fd
            bind(ds[0].client, a, fd, "%s.%d" % (NET, 201 + h), port, name,
                 host="fleet-host-%d" % h)
    # Deployed (version 1) by each host before anything comes due.
    q = ",".join("'%s'" % a for a in arns)
    wait_for(lambda: sql(ds[0], "SELECT count(*) FROM bindings b JOIN "
                         "certificates c ON c.id = b.certificate_id WHERE "
                         "c.arn IN (%s) AND b.deployed_version = 1" % q)
             [0][0] == str(2 * n), 60, what="version 1 deployed")
    # Every one comes due now, all at once.
    sql(ds[0], "UPDATE certificates SET next_due_at = now() WHERE arn IN "
        "(%s)" % ",".join("'%s'" % a for a in arns))
    if kill:
        wait_for(lambda: int(sql(ds[1], "SELECT count(*) FROM certificates"
                                 " WHERE lease_owner LIKE 'fleet-host-1/%'")
                             [0][0]) > 0, 20, interval=0.05,
                 what="daemon 1 holding leases")
        ds[1].kill9()
        # Daemon 0 takes the dead one's renewals over once their leases
        # run out, and issues each exactly once. Each renewal then waits
        # in DEPLOYING for the dead host's bindings until its deadline, 8
        # at a time: about 50 s here, more on a loaded machine.
        wait_for(lambda: sql(ds[0], "SELECT count(*) FROM certificates "
                             "WHERE arn IN (%s) AND current_version = 2"
                             % q)[0][0] == str(n), 180, interval=0.5,
                 what="every certificate issued after the takeover")
        # Its bindings wait for their own host.
        ds[1].start()

    def all_done():
        r = sql(ds[0], "SELECT count(*) FROM certificates WHERE arn IN (%s)"
                " AND renewal_status = 'SUCCESS' AND current_version = 2"
                % q)
        return int(r[0][0]) == n
    wait_for(all_done, 240, interval=0.5, what="every certificate renewed")
    rows = sql(ds[0], "SELECT c.arn, (SELECT count(*) FROM "
               "certificate_versions v WHERE v.certificate_id = c.id), "
               "(SELECT count(*) FROM issuance_intents i WHERE "
               "i.certificate_id = c.id AND i.purpose = 'RENEWAL') FROM "
               "certificates c WHERE c.arn IN (%s)" % q)
    for arn, versions, intents in rows:
        eq((versions, intents), ("2", "1"), "renewed exactly once: " + arn)
    ev = sql(ds[0], "SELECT count(*) FROM audit_events WHERE event_name = "
             "'RenewCertificate' AND certificate_arn IN (%s)" % q)
    eq(ev[0][0], str(n), "one RenewCertificate event each")
    # Each binding deployed by its own host, with version 2.
    rows = sql(ds[0], "SELECT b.host_name, b.deployed_version, "
               "(SELECT count(*) FROM audit_events e WHERE e.event_name = "
               "'DeployCertificate' AND e.host_name <> b.host_name AND "
               "e.request_params::text LIKE '%%' || b.arn || '%%') FROM "
               "bindings b JOIN certificates c ON c.id = b.certificate_id "
               "WHERE c.arn IN (%s)" % q)
    eq(len(rows), 2 * n, "bindings")
    for host, ver, foreign in rows:
        eq(ver, "2", "deployed version on " + host)
        eq(foreign, "0", "deployed by another host")
    for (a, h), fd in dirs.items():
        with open(os.path.join(fd, "fullchain.pem")) as f:
            eq(fp(f.read()), fp(current(ds[0], a)[2]), "file of " + a)
    return ds


def test_fleet_two_daemons_each_renewed_once(ctx):
    for d in fleet(ctx, 200):
        d.stop()

test_fleet_two_daemons_each_renewed_once.time_limit = 360


def test_fleet_one_killed_mid_run(ctx):
    for d in fleet(ctx, 50, kill=True):
        d.stop()

test_fleet_one_killed_mid_run.time_limit = 360


