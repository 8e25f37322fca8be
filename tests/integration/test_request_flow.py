"""RequestCertificate with email validation, end to end against real
servers on loopback: dnsmasq (A and MX records for the subdomain walk), an
RDAP server (tests/unit/rdap_server.py with tests/unit/rdap/ fixtures) and
an SMTP sink (tests/unit/smtp_sink.py, aiosmtpd). Covers who receives the
emails, the approval page (GET changes nothing, POST approves), failure
reasons, idempotency, the validation timeout, resends, token rules, a relay
outage and a kill -9 between request and delivery."""

import email
import email.policy
import glob
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import TestFailure, check, eq, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "..", "unit")
PY = "/usr/bin/python3"
ADDR = "127.0.53.7"
ADMIN = ("admin", "administrator", "hostmaster", "postmaster", "webmaster")


def free_port(kind=socket.SOCK_STREAM, addr="127.0.0.1"):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Proc:
    """A helper server started for the module; stopped by the harness."""

    def __init__(self, args, ready=None, timeout=20, log=None):
        self.log = log
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.p = subprocess.Popen(args, stdout=out, stderr=out,
                                  start_new_session=True)
        harness._live.append(self)
        if ready:
            wait_for(lambda: self.p.poll() is None and ready(), timeout,
                     what="%s to start" % os.path.basename(args[0]))

    def cleanup(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(10)


class Sink:
    """smtp_sink.py on a fixed port, so it can be stopped and restarted."""

    def __init__(self, workdir):
        self.dir = workdir
        self.maildir = os.path.join(workdir, "maildir")
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self):
        ready = os.path.join(self.dir, "sink.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.proc = Proc([PY, os.path.join(UNIT, "smtp_sink.py"),
                          str(self.port), self.maildir, ready],
                         ready=lambda: os.path.exists(ready),
                         log=os.path.join(self.dir, "sink.log"))

    def stop(self):
        self.proc.cleanup()

    def messages(self):
        out = []
        for f in sorted(glob.glob(os.path.join(self.maildir, "new", "*"))):
            with open(f, "rb") as fh:
                out.append(email.message_from_bytes(
                    fh.read(), policy=email.policy.default))
        return out


def dnsmasq(workdir):
    port = free_port(socket.SOCK_DGRAM, ADDR)
    log = os.path.join(workdir, "dnsmasq.log")
    zones = ["example.com", "wwwtest.com", "nomx.com", "bigcorp.com",
             "redacted.com", "rdaponly.com", "walk.com", "reject.com",
             "tempdns.com", "multi.com", "kill.com", "outage.com",
             "resend.com", "tok.com", "idem.com", "slow2.com", "vd.com"]
    args = ["/usr/sbin/dnsmasq", "--keep-in-foreground",
            "--conf-file=/dev/null", "--pid-file=", "--no-resolv",
            "--no-hosts", "--bind-interfaces", "--listen-address=" + ADDR,
            "--port=%d" % port, "--user=root", "--log-facility=" + log,
            "--log-queries"]
    args += ["--local=/%s/" % z for z in zones]
    mx = ["example.com", "wwwtest.com", "bigcorp.com", "redacted.com",
          "walk.com", "reject.com", "multi.com", "kill.com", "outage.com",
          "resend.com", "tok.com", "idem.com", "slow2.com", "vd.com",
          "sub.vd.com"]
    args += ["--mx-host=%s,mx.%s,10" % (d, d) for d in mx]
    # The walk: a.b.walk.com has an MX at b.walk.com.
    args += ["--mx-host=b.walk.com,mx.walk.com,10",
             "--host-record=a.b.walk.com,127.0.0.20",
             "--host-record=nomx.com,127.0.0.21",
             "--host-record=x.nomx.com,127.0.0.22"]
    Proc(args, ready=lambda: os.path.exists(log) and
         "started" in open(log).read(), log=os.path.join(workdir, "dns.err"))
    return "%s:%d" % (ADDR, port)


def rdap(workdir):
    portfile = os.path.join(workdir, "rdap.port")
    Proc([PY, os.path.join(UNIT, "rdap_server.py"),
          os.path.join(UNIT, "rdap"), ADDR, portfile],
         ready=lambda: os.path.exists(portfile),
         log=os.path.join(workdir, "rdap.err"))
    return "http://%s:%s/" % (ADDR, open(portfile).read().strip())


def flow_daemon(ctx, extra=None, name=None):
    m = ctx.m
    cfg = {
        "mail": {"relay": "smtp://127.0.0.1:%d" % m.sink.port,
                 "from": "certfleet@test-host-1.example",
                 "retry_min": "300ms", "retry_max": "1s",
                 "max_attempts": "100"},
        "dns": {"servers": m.dns, "timeout": "500ms", "tries": "2"},
        "rdap": {"base_url": m.rdap, "timeout": "3s"},
        "public": {"listen": "127.0.0.1:%d" % free_port(),
                   "base_url": "https://certs.fleet.example.org"},
        "validation": {"deny_list_file": m.deny,
                       "reserved_suffixes": "reserved.example.net",
                       "rate_limit": "600"},
    }
    for sec, kv in (extra or {}).items():
        cfg.setdefault(sec, {}).update(kv)
    d = ctx.new_daemon(name=name, extra=cfg)
    d.page = "http://%s/approvals" % cfg["public"]["listen"]
    return d


def setup_module(ctx):
    m = ctx.m
    m.dir = os.path.join(ctx.tmp, "flow-servers")
    os.makedirs(m.dir, exist_ok=True)
    m.sink = Sink(m.dir)
    m.dns = dnsmasq(m.dir)
    m.rdap = rdap(m.dir)
    m.deny = os.path.join(m.dir, "deny.txt")
    with open(m.deny, "w") as f:
        f.write("# test deny list\nphish.example.com\n")
    m.d = flow_daemon(ctx)
    m.c = m.d.client


# ------------------------------------------------------------- helpers

def request(c, name, sans=None, **kw):
    body = {"DomainName": name, "ValidationMethod": "EMAIL"}
    if sans:
        body["SubjectAlternativeNames"] = sans
    body.update(kw)
    return c.ok("RequestCertificate", body)["CertificateArn"]


def mails_for(sink, arn, n=None, timeout=20):
    """Messages about arn, waiting until at least n arrived."""
    def got():
        ms = [x for x in sink.messages() if arn in x.get_body(
            ("plain",)).get_content()]
        return ms if (n is None or len(ms) >= n) else None
    if n is None:
        time.sleep(1)
        return got()
    return wait_for(got, timeout, what="%s emails about %s" % (n, arn))


def recipients(msgs):
    return sorted(str(x["To"]) for x in msgs)


def link_of(msg):
    text = msg.get_body(("plain",)).get_content()
    m = re.search(r"https://certs\.fleet\.example\.org/approvals\?code="
                  r"([A-Za-z0-9_%-]+)", text)
    check(m, "no approval link in:\n" + text)
    return urllib.parse.unquote(m.group(1))


def http(url, data=None):
    req = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get_page(d, code):
    return http(d.page + "?" + urllib.parse.urlencode({"code": code}))


def approve(d, code):
    return http(d.page, urllib.parse.urlencode({"code": code}).encode())


def status(c, arn):
    return c.describe(arn)["Status"]


def dvo(c, arn, name):
    for v in c.describe(arn)["DomainValidationOptions"]:
        if v["DomainName"] == name:
            return v
    raise TestFailure("no DomainValidationOptions entry for %s" % name)


def admins(domain):
    return sorted("%s@%s" % (a, domain) for a in ADMIN)


# ------------------------------------------------------------- the flow

def test_request_pending_and_describe(ctx):
    c = ctx.m.c
    arn = request(c, "www.example.com", ["example.com"],
                  Tags=[{"Key": "team", "Value": "web"}])
    check(harness.ARN_RE.match(arn), "bad ARN %r" % arn)
    d = c.describe(arn)
    eq(d["Status"], "PENDING_VALIDATION", "Status")
    eq(d["Type"], "AMAZON_ISSUED", "Type")
    eq(d["DomainName"], "www.example.com", "DomainName")
    eq(d["SubjectAlternativeNames"], ["www.example.com", "example.com"],
       "SANs")
    eq(d["KeyAlgorithm"], "RSA_2048", "default KeyAlgorithm")
    check("CreatedAt" in d and "IssuedAt" not in d, "CreatedAt only")
    eq(d["Options"]["CertificateTransparencyLoggingPreference"], "ENABLED",
       "Options")
    eq([v["DomainName"] for v in d["DomainValidationOptions"]],
       ["www.example.com", "example.com"], "DomainValidationOptions")
    for v in d["DomainValidationOptions"]:
        eq(v["ValidationMethod"], "EMAIL", "ValidationMethod")
        eq(v["ValidationStatus"], "PENDING_VALIDATION", "ValidationStatus")
    eq(c.tags(arn), [("team", "web")], "tags")
    # www. is dropped for the admin addresses; RDAP adds the contacts.
    msgs = mails_for(ctx.m.sink, arn, 2 * 7)
    want = admins("example.com") + ["owner@example.com", "tech@example.net"]
    eq(sorted(set(recipients(msgs))), sorted(want), "recipients")
    eq(sorted(dvo(c, arn, "www.example.com")["ValidationEmails"]),
       sorted(want), "ValidationEmails")
    # Proper headers; one message per recipient.
    x = msgs[0]
    for h in ("Date", "Message-ID", "MIME-Version", "Auto-Submitted"):
        check(x[h], "header %s missing" % h)
    eq(len(set(str(x["Message-ID"]) for x in msgs)), len(msgs),
       "distinct Message-IDs")
    ctx.m.first = (arn, msgs)


def test_get_changes_nothing_post_approves(ctx):
    c, d = ctx.m.c, ctx.m.d
    arn, msgs = ctx.m.first
    www = [x for x in msgs if "www.example.com" in str(x["Subject"])]
    code = link_of(www[0])
    for _ in range(3):
        st, page = get_page(d, code)
        eq(st, 200, "GET status")
        check("www.example.com" in page and arn in page and
              "123456789012" in page and "us-east-1" in page and
              "I Approve" in page, "approval page content:\n" + page)
    eq(dvo(c, arn, "www.example.com")["ValidationStatus"],
       "PENDING_VALIDATION", "GET approved nothing")
    st, page = approve(d, code)
    eq(st, 200, "POST status")
    check("Success" in page, "success page:\n" + page)
    eq(dvo(c, arn, "www.example.com")["ValidationStatus"], "SUCCESS",
       "name approved")
    eq(status(c, arn), "PENDING_VALIDATION", "one name is not enough")
    # Single use.
    st, page = approve(d, code)
    eq(st, 410, "a used token")
    st, _ = get_page(d, code)
    eq(st, 410, "GET of a used token")
    # Audit: ApproveDomain with the client address.
    rows = d.cluster.psql("SELECT source FROM audit_events WHERE "
                          "event_name = 'ApproveDomain' AND "
                          "certificate_arn = '%s'" % arn, d.dbname)
    eq(rows, [["127.0.0.1"]], "ApproveDomain audit event")
    sent = d.cluster.psql("SELECT count(*) FROM audit_events WHERE "
                          "event_name = 'SendValidationEmail' AND "
                          "certificate_arn = '%s'" % arn, d.dbname)
    eq(sent, [[str(len(msgs))]], "SendValidationEmail events")


def test_last_approval_issues(ctx):
    c, d = ctx.m.c, ctx.m.d
    arn, msgs = ctx.m.first
    apex = [x for x in msgs if "Domain: example.com" in
            x.get_body(("plain",)).get_content()]
    check(apex, "no email for example.com")
    st, _ = approve(d, link_of(apex[0]))
    eq(st, 200, "POST status")
    rows = d.cluster.psql("SELECT state, length(serial) FROM "
                          "issuance_intents i JOIN certificates c ON "
                          "c.id = i.certificate_id WHERE c.arn = '%s'"
                          % arn, d.dbname)
    eq(len(rows), 1, "one issuance intent")
    # Issued by certfleet's CA (the issuer's part).
    wait_for(lambda: status(c, arn) == "ISSUED", 30, what="ISSUED")
    det = c.describe(arn)
    check("IssuedAt" in det and "NotAfter" in det, "issued fields")
    got = c.ok("GetCertificate", {"CertificateArn": arn})
    check("BEGIN CERTIFICATE" in got["Certificate"], "certificate PEM")
    st, _ = approve(d, link_of(apex[1]))
    eq(st, 410, "tokens of an issued request")


def test_recipients_rules(ctx):
    c, sink = ctx.m.c, ctx.m.sink
    # *. is dropped too; the MX walk finds b.walk.com for a.b.walk.com.
    arn = request(c, "*.wwwtest.com")
    eq(sorted(set(recipients(mails_for(sink, arn, 5)))),
       admins("wwwtest.com"), "wildcard")
    arn = request(c, "a.b.walk.com")
    eq(sorted(set(recipients(mails_for(sink, arn, 5)))),
       admins("b.walk.com"), "MX walk")
    # ValidationDomain: admin addresses there, no MX walk.
    arn = request(c, "deep.sub.vd.com", DomainValidationOptions=[
        {"DomainName": "deep.sub.vd.com", "ValidationDomain": "sub.vd.com"}])
    eq(sorted(set(recipients(mails_for(sink, arn, 5)))),
       admins("sub.vd.com"), "ValidationDomain")
    eq(dvo(c, arn, "deep.sub.vd.com")["ValidationDomain"], "sub.vd.com",
       "ValidationDomain shown")
    # RDAP contacts of every role; redacted ones add nothing.
    arn = request(c, "bigcorp.com")
    eq(sorted(set(recipients(mails_for(sink, arn, 8)))), sorted(
        admins("bigcorp.com") + ["owner@bigcorp.com", "legal@bigcorp.com",
                                 "noc@bigcorp.com"]), "RDAP, capped at 8")
    arn = request(c, "redacted.com")
    # every contact is redacted (RFC 9537) or a placeholder
    eq(sorted(set(recipients(mails_for(sink, arn, 5)))),
       admins("redacted.com"), "redacted RDAP")
    # No MX anywhere, but RDAP: only the RDAP contact.
    arn = request(c, "rdaponly.com")
    eq(sorted(set(recipients(mails_for(sink, arn, 1)))),
       ["owner@rdaponly-mail.example.net"], "RDAP only")


def test_failure_reasons(ctx):
    c = ctx.m.c
    cases = [("com.invalidtld", "INVALID_PUBLIC_DOMAIN"),
             ("co.uk", "INVALID_PUBLIC_DOMAIN"),
             ("login.phish.example.com", "DOMAIN_NOT_ALLOWED"),
             ("a.reserved.example.net", "ADDITIONAL_VERIFICATION_REQUIRED"),
             ("x.certs.fleet.example.org", "ADDITIONAL_VERIFICATION_REQUIRED")]
    for name, reason in cases:
        arn = request(c, name)
        d = c.describe(arn)
        eq((d["Status"], d.get("FailureReason")), ("FAILED", reason), name)
    arn = request(c, "x.nomx.com")
    wait_for(lambda: c.describe(arn).get("FailureReason") ==
             "NO_AVAILABLE_CONTACTS", 20, what="NO_AVAILABLE_CONTACTS")
    eq(status(c, arn), "FAILED", "no contacts")
    # Every email refused (550): nobody can approve: OTHER.
    arn = request(c, "reject.com",
                  DomainValidationOptions=[{"DomainName": "reject.com",
                                            "ValidationDomain": "reject.com"}])
    wait_for(lambda: c.describe(arn).get("FailureReason") == "OTHER", 30,
             what="OTHER")


def test_idempotency(ctx):
    c = ctx.m.c
    a = request(c, "idem.com", IdempotencyToken="tok1")
    b = request(c, "idem.com", IdempotencyToken="tok1")
    eq(a, b, "same token, same request")
    c.expect_error("RequestCertificate", {"DomainName": "www.idem.com",
                                          "IdempotencyToken": "tok1"},
                   "InvalidParameterException")
    d = request(c, "idem.com", IdempotencyToken="tok2")
    check(d != a, "another token, another certificate")


def test_bad_input(ctx):
    c, d = ctx.m.c, ctx.m.d
    before = harness.snapshot(d)
    V, P = "ValidationException", "InvalidParameterException"
    DVO = "InvalidDomainValidationOptionsException"
    cases = [
        ({"DomainName": "bücher.example.com"}, V),
        ({"DomainName": "a..example.com"}, V),
        ({"DomainName": "-a.example.com"}, V),
        ({"DomainName": "a.*.example.com"}, V),
        ({"DomainName": "*"}, V),
        ({"DomainName": "x" * 64 + ".example.com"}, V),
        ({"DomainName": ("a" * 60 + ".") * 1 + "b" * 10 + ".example.com"},
         P),
        ({"DomainName": "xn--zz.example.com"}, P),
        ({"DomainName": "a.example.com", "SubjectAlternativeNames":
          ["n%d.example.com" % i for i in range(10)]},
         "LimitExceededException"),
        ({"DomainName": "a.example.com", "ValidationMethod": "DNS"}, P),
        ({"DomainName": "a.example.com", "ValidationMethod": "HTTP"}, P),
        ({"DomainName": "a.example.com", "ValidationMethod": "FAX"}, V),
        ({"DomainName": "a.example.com", "KeyAlgorithm": "RSA_1024"}, V),
        ({"DomainName": "a.example.com", "KeyAlgorithm": "DSA"}, V),
        ({"DomainName": "a.example.com", "CertificateAuthorityArn":
          "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x"},
         P),
        ({"DomainName": "a.example.com", "DomainValidationOptions": [
            {"DomainName": "a.example.com",
             "ValidationDomain": "other.com"}]}, DVO),
        ({"DomainName": "a.example.com", "DomainValidationOptions": [
            {"DomainName": "b.example.com",
             "ValidationDomain": "example.com"}]}, DVO),
        ({"DomainName": "a.example.com", "DomainValidationOptions": [
            {"DomainName": "a.example.com"}]}, V),
        ({"DomainName": "a.example.com", "DomainValidationOptions": [
            "a.example.com"]}, "SerializationException"),
        ({"DomainName": "a.example.com", "IdempotencyToken": "no spaces"}, V),
        ({"DomainName": "a.example.com", "Tags": [{"Key": "aws:x"}]},
         "InvalidTagException"),
    ]
    for body, exc in cases:
        c.expect_error("RequestCertificate", body, exc)
    eq(harness.snapshot(d), before, "bad requests changed nothing")


def test_tokens_forged_truncated_other_domain(ctx):
    c, d, sink = ctx.m.c, ctx.m.d, ctx.m.sink
    arn = request(c, "tok.com", ["www.tok.com"])
    msgs = mails_for(sink, arn, 10)
    code = link_of(msgs[0])
    for bad in (code[:-1], code[:20], code[:-1] + ("A" if code[-1] != "A"
                                                   else "B"),
                "A" * 43, "", "../../etc/passwd"):
        st, page = get_page(d, bad)
        eq(st, 404, "GET of %r" % bad)
        st, page = approve(d, bad)
        eq(st, 404, "POST of %r" % bad)
    # A token approves its own name only.
    first = msgs[0]
    name = "www.tok.com" if "www.tok.com" in str(first["Subject"]) \
        else "tok.com"
    other = "tok.com" if name == "www.tok.com" else "www.tok.com"
    eq(approve(d, code)[0], 200, "approve")
    eq(dvo(c, arn, name)["ValidationStatus"], "SUCCESS", name)
    eq(dvo(c, arn, other)["ValidationStatus"], "PENDING_VALIDATION", other)
    # Deleting the certificate invalidates its tokens.
    rest = [x for x in msgs if other in str(x["Subject"])]
    c.ok("DeleteCertificate", {"CertificateArn": arn})
    eq(get_page(d, link_of(rest[0]))[0], 404, "token of a deleted request")


def test_no_token_in_dump_or_logs(ctx):
    d, sink = ctx.m.d, ctx.m.sink
    codes = set()
    for x in sink.messages():
        try:
            codes.add(link_of(x))
        except TestFailure:
            pass
    check(codes, "no tokens seen")
    dump = d.cluster.pg_dump(d.dbname)
    logs = d.stderr_text()
    for t in codes:
        check(t not in dump, "a token is in the pg_dump")
        check(t not in logs, "a token is in the daemon's log")


def test_resend_rules(ctx):
    c, sink = ctx.m.c, ctx.m.sink
    arn = request(c, "resend.com")
    mails_for(sink, arn, 5)
    c.ok("ResendValidationEmail", {"CertificateArn": arn,
                                   "Domain": "resend.com",
                                   "ValidationDomain": "resend.com"})
    mails_for(sink, arn, 10)
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": arn, "Domain": "resend.com",
        "ValidationDomain": "other.com"},
        "InvalidDomainValidationOptionsException")
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": arn, "Domain": "x.resend.com",
        "ValidationDomain": "resend.com"},
        "InvalidDomainValidationOptionsException")
    failed = request(c, "co.uk")
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": failed, "Domain": "co.uk",
        "ValidationDomain": "co.uk"}, "InvalidStateException")
    import certs
    imported = c.import_leaf(certs.leaf(("imp.example.com",)))
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": imported, "Domain": "imp.example.com",
        "ValidationDomain": "example.com"}, "InvalidStateException")
    c.expect_error("ResendValidationEmail", {
        "CertificateArn": arn.replace(arn[-4:], "0000"),
        "Domain": "resend.com", "ValidationDomain": "resend.com"},
        "ResourceNotFoundException")


def test_timeout_and_token_expiry(ctx):
    d = flow_daemon(ctx, {"validation": {"timeout": "4s",
                                         "token_lifetime": "2s"}},
                    name="timeout")
    c = d.client
    arn = request(c, "slow2.com")
    msgs = mails_for(ctx.m.sink, arn, 5)
    time.sleep(2.5)
    eq(get_page(d, link_of(msgs[0]))[0], 410, "expired token")
    eq(approve(d, link_of(msgs[0]))[0], 410, "expired token POST")
    wait_for(lambda: status(c, arn) == "VALIDATION_TIMED_OUT", 15,
             what="VALIDATION_TIMED_OUT")
    d.stop()


def test_relay_down_then_back(ctx):
    c, sink = ctx.m.c, ctx.m.sink
    sink.stop()
    try:
        arn = request(c, "outage.com")
        time.sleep(3)
    finally:
        sink.start()
    msgs = mails_for(sink, arn, 5, timeout=30)
    time.sleep(2)
    msgs = mails_for(sink, arn)
    eq(len(msgs), 5, "each message delivered once")
    eq(sorted(recipients(msgs)), admins("outage.com"), "recipients")


def test_kill9_between_request_and_delivery(ctx):
    m = ctx.m
    d = flow_daemon(ctx, {"mail": {"relay": "smtp://127.0.0.1:1"}},
                    name="kill")
    arn = request(d.client, "kill.com")
    wait_for(lambda: d.cluster.psql(
        "SELECT count(*) FROM mail_outbox", d.dbname)[0][0] == "5", 20,
        what="the outbox rows")
    d.kill9()
    d.extra["mail"]["relay"] = "smtp://127.0.0.1:%d" % m.sink.port
    d.write_config()
    d.start()
    msgs = mails_for(m.sink, arn, 5, timeout=60)
    time.sleep(2)
    eq(len(mails_for(m.sink, arn)), 5, "sent once each")
    check(len(set(str(x["Message-ID"]) for x in msgs)) == 5, "Message-IDs")
    d.stop()


def test_spool_when_no_relay(ctx):
    d = flow_daemon(ctx, {"mail": {"relay": ""}}, name="spool")
    arn = request(d.client, "multi.com")
    spool = os.path.join(d.state, "outbox")
    files = wait_for(lambda: [f for f in os.listdir(spool)
                              if f.endswith(".eml")] if os.path.isdir(spool)
                     and len(os.listdir(spool)) >= 5 else None, 20,
                     what="spooled messages")
    check(len(files) >= 5, "spool files")
    with open(os.path.join(spool, files[0]), "rb") as f:
        check(arn.encode() in f.read(), "the spooled message")
    d.stop()
