"""The metrics listener: a real Prometheus scrapes certfleetd and answers a
PromQL query for the certificates expiring within 30 days, and ingests the
gzip'd exposition whole (seen through a recording proxy); promtool finds
nothing to lint in a live scrape; OpenMetrics when asked for; gzip when
asked for, one gzip member holding the same text as the plain reply; the
plain reply of a large inventory sent in chunks, and clients that leave
mid-reply; the example alerting rules load; /healthz, and /readyz
following a PostgreSQL outage, with the certificate figures still served;
control API calls counted. Every certificate has its renewal status and
due time, whatever its state; the mail queue's depth and oldest age come
from the database.

A second daemon that renews (test_renewal's settings: lifetimes of
seconds, dnsmasq, an SMTP sink, endpoints on loopback) shows the DNS checks
and TLS probes counted by result with their durations, each binding
endpoint's certificate match and last successful probe (0 for an endpoint
left serving the old version), each certificate's last passed DNS check,
expiry events and the emails of the queue counted, and its own audit
events in its log; promtool finds nothing to lint in its scrape either.

Uses a cluster of its own, because it stops PostgreSQL (the renewing
daemon uses the shared one)."""

import datetime
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

import types

import certs
import harness
import test_renewal as renewal
import test_request_flow as flow
from harness import TestFailure, check, eq, wait_for

RULES = os.path.join(harness.TOP, "etc", "prometheus", "certfleet-alerts.yml")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url, headers=None, timeout=10):
    """(status, headers, body bytes); HTTP errors are answers too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, \
                r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def gunzip_member(body):
    """The text of a gzip body that must be exactly one gzip member."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    text = d.decompress(body) + d.flush()
    check(d.eof, "gzip member complete")
    eq(d.unused_data, b"", "bytes after the gzip member")
    return text.decode()


def cert_lines(text):
    """The certificate samples of an exposition, sorted."""
    return sorted(line for line in text.splitlines()
                  if line.startswith("certfleet_certificate") and
                  not line.startswith("certfleet_certificate_cache"))


class RecordingProxy:
    """A TCP relay in front of certfleetd's listener that notes whether the
    requests asked for gzip and the replies came gzip'd, to see what a
    real Prometheus gets."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.asked_gzip = self.got_gzip = 0
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()
        harness._live.append(self)

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.target, timeout=10)
            except OSError:
                c.close()
                continue
            threading.Thread(target=self._pump, args=(c, u, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, False),
                             daemon=True).start()

    def _pump(self, src, dst, request):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                low = data.lower()
                if request and b"accept-encoding: gzip" in low:
                    self.asked_gzip += 1
                if not request and b"content-encoding: gzip" in low:
                    self.got_gzip += 1
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cleanup(self):
        self.closing = True
        self.sock.close()


class Prometheus:
    """A real Prometheus server scraping certfleetd every second: job
    certfleet directly, job certfleet_proxied through the proxy given."""

    def __init__(self, workdir, target, proxied=None):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "rule_files:\n  - %s\n"
                    "scrape_configs:\n  - job_name: certfleet\n"
                    "    static_configs:\n      - targets: ['%s']\n"
                    % (RULES, target))
            if proxied:
                f.write("  - job_name: certfleet_proxied\n"
                        "    static_configs:\n      - targets: ['%s']\n"
                        % proxied)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + cfg,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        harness._live.append(self)
        wait_for(lambda: http_get(self.url + "/-/ready")[0] == 200, 30,
                 what="prometheus ready")

    def query(self, expr):
        st, _, body = http_get(self.url + "/api/v1/query?" +
                               urllib.parse.urlencode({"query": expr}))
        doc = json.loads(body)
        if st != 200 or doc.get("status") != "success":
            raise TestFailure("query %r: HTTP %d %s" % (expr, st, body[:300]))
        return doc["data"]["result"]

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def setup_module(ctx):
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        raise TestFailure("prometheus and promtool are needed (Debian "
                          "package prometheus)")
    ctx.m.cluster = ctx.new_cluster()
    port = free_port()
    ctx.m.base = "http://127.0.0.1:%d" % port
    ctx.m.d = ctx.new_daemon(cluster=ctx.m.cluster, extra={
        "metrics": {"listen": "127.0.0.1:%d" % port,
                    "certificate_cache": "1s"}})
    c = ctx.m.c = ctx.m.d.client
    now = certs.now()
    ctx.m.arns = {}
    for days in (10, 20, 40):
        lf = certs.leaf(("exp%d.metrics.example.com" % days,), "RSA_2048",
                        not_after=now + datetime.timedelta(days=days))
        ctx.m.arns[days] = c.import_leaf(lf)


def setup_function(ctx):
    if not ctx.m.cluster.is_running():
        ctx.m.cluster.start()


def teardown_module(ctx):
    ctx.m.d.stop()
    ctx.m.cluster.cleanup()


def scrape(ctx, accept=None, gz=False):
    headers = {}
    if accept:
        headers["Accept"] = accept
    if gz:
        headers["Accept-Encoding"] = "gzip"
    st, hdrs, body = http_get(ctx.m.base + "/metrics", headers)
    eq(st, 200, "GET /metrics")
    eq(hdrs.get("content-encoding"), "gzip" if gz else None,
       "Content-Encoding")
    return hdrs, gunzip_member(body) if gz else body.decode()


def samples(text, name):
    """{labels text: value} of the samples called name."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            out[key[len(name):]] = float(value)
    return out


def wait_for_certificates(ctx):
    """The snapshot is refreshed every second: wait for all three."""
    def ready():
        _, text = scrape(ctx)
        got = samples(text, "certfleet_certificate_not_after_timestamp_seconds")
        return len(got) == 3 and text
    return wait_for(ready, 15, what="three certificates in /metrics")


def test_certificate_figures_in_the_text_format(ctx):
    text = wait_for_certificates(ctx)
    na = samples(text, "certfleet_certificate_not_after_timestamp_seconds")
    for days, arn in ctx.m.arns.items():
        key = [k for k in na if 'certificate_arn="%s"' % arn in k]
        eq(len(key), 1, "not_after samples for %s" % arn)
        check('domain_name="exp%d.metrics.example.com"' % days in key[0] and
              'type="IMPORTED"' in key[0] and 'status="ISSUED"' in key[0],
              "labels of %s" % key[0])
        left = na[key[0]] - time.time()
        check(abs(left - days * 86400) < 300, "NotAfter of the %d-day "
              "certificate is %f s away" % (days, left))
    inv = samples(text, "certfleet_certificates")
    eq(inv.get('{status="ISSUED",type="IMPORTED"}'), 3.0, "inventory")
    eq(inv.get('{status="FAILED",type="IMPORTED"}'), 0.0, "inventory zeros")
    eq(len(samples(text, "certfleet_certificate_in_use")), 3, "in_use")
    check("# TYPE certfleet_api_requests_total counter" in text,
          "counter named with _total in the text format")
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_virtual_memory_bytes", "process_open_fds",
                 "process_max_fds", "process_start_time_seconds",
                 "certfleet_clock_time_seconds", "certfleet_database_up"):
        eq(len(samples(text, name)), 1, name)
    clock = samples(text, "certfleet_clock_time_seconds")[""]
    check(abs(clock - time.time()) < 5, "clock %f" % clock)
    eq(samples(text, "certfleet_database_up")[""], 1.0, "database_up")
    check(samples(text, "certfleet_build_info"), "build_info")


def test_promtool_finds_nothing_to_lint(ctx):
    _, text = scrape(ctx)
    r = harness.run_cmd(["promtool", "check", "metrics"], input=text.encode())
    out = (r.stdout + r.stderr).decode(errors="replace")
    eq((r.returncode, out.strip()), (0, ""), "promtool check metrics")


def test_openmetrics_when_asked(ctx):
    hdrs, text = scrape(ctx, "application/openmetrics-text;version=1.0.0,"
                        "text/plain;version=0.0.4;q=0.5")
    check(hdrs["content-type"].startswith("application/openmetrics-text; "
                                          "version=1.0.0"),
          "content type %s" % hdrs["content-type"])
    check(text.endswith("# EOF\n"), "OpenMetrics ends with # EOF")
    eq(text.count("# EOF"), 1, "one # EOF")
    check("# TYPE certfleet_api_requests counter" in text,
          "counter family without _total")
    check("# UNIT certfleet_certificate_not_after_timestamp_seconds seconds"
          in text, "unit line")
    hdrs, text = scrape(ctx)
    check(hdrs["content-type"].startswith("text/plain; version=0.0.4"),
          "text format by default: %s" % hdrs["content-type"])
    check("# EOF" not in text, "no # EOF in the text format")


def test_gzip_when_asked_one_member_same_text(ctx):
    wait_for_certificates(ctx)
    for accept, eof in ((None, False),
                        ("application/openmetrics-text;version=1.0.0", True)):
        hdrs, plain = scrape(ctx, accept)
        check(hdrs.get("transfer-encoding") == "chunked",
              "plain reply chunked: %s" % hdrs)
        hdrs, text = scrape(ctx, accept, gz=True)
        eq(hdrs.get("vary"), "Accept-Encoding", "Vary")
        eq(cert_lines(text), cert_lines(plain), "certificate samples, "
           "gzip'd and plain")
        check(len(cert_lines(text)) >= 3 * 4, "certificate samples")
        # The same families in the same order, live values aside.
        eq([ln for ln in text.splitlines() if ln.startswith("# TYPE")],
           [ln for ln in plain.splitlines() if ln.startswith("# TYPE")],
           "families")
        eq(text.endswith("# EOF\n"), eof, "# EOF last")
        eq(text.count("# EOF"), 1 if eof else 0, "one # EOF")
        if not eof:
            text_format = text
    r = harness.run_cmd(["promtool", "check", "metrics"],
                        input=text_format.encode())
    out = (r.stdout + r.stderr).decode(errors="replace")
    eq((r.returncode, out.strip()), (0, ""), "promtool on the gzip'd text")
    # curl decodes it too, and refuses nothing.
    for args in (["--compressed"], []):
        r = harness.run_cmd(["curl", "-sSf"] + args +
                            [ctx.m.base + "/metrics"])
        eq(r.returncode, 0, "curl %s: %s" % (args, r.stderr))
        eq(cert_lines(r.stdout.decode()), cert_lines(plain),
           "curl %s" % args)
    # A HEAD says what a GET would send, without a body.
    req = urllib.request.Request(ctx.m.base + "/metrics", method="HEAD",
                                 headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as r:
        eq((r.status, r.headers.get("Content-Encoding"), r.read()),
           (200, "gzip", b""), "HEAD /metrics")


def test_alerting_rules_pass_promtool(ctx):
    r = harness.run_cmd(["promtool", "check", "rules", RULES])
    eq(r.returncode, 0, "promtool check rules: %s" % (r.stdout + r.stderr))


def test_prometheus_finds_certificates_expiring_within_30_days(ctx):
    wait_for_certificates(ctx)
    proxy = RecordingProxy(int(ctx.m.base.rpartition(":")[2]))
    prom = ctx.m.prom = Prometheus(ctx.m.d.dir, ctx.m.base[len("http://"):],
                                   "127.0.0.1:%d" % proxy.port)
    expr = "(certfleet_certificate_not_after_timestamp_seconds" \
        "{job=\"certfleet\"} - time()) < 30*86400"

    def expiring():
        res = prom.query(expr)
        return len(res) >= 2 and res
    res = wait_for(expiring, 30, interval=0.5, what="PromQL result")
    got = sorted(r["metric"]["certificate_arn"] for r in res)
    eq(got, sorted([ctx.m.arns[10], ctx.m.arns[20]]), "expiring ARNs")
    eq(prom.query('up{job="certfleet"}')[0]["value"][1], "1", "scrape up")
    # Prometheus asked for gzip, got it, and ingested all of it: every
    # certificate sample, and the OpenMetrics # EOF it requires at the end
    # (without it the scrape fails and up is 0).
    wait_for(lambda: proxy.got_gzip >= 2 and prom.query(
        'up{job="certfleet_proxied"}'), 30, interval=0.5,
        what="scrapes through the proxy")
    check(proxy.asked_gzip >= 2, "Prometheus asks for gzip")
    eq(prom.query('up{job="certfleet_proxied"}')[0]["value"][1], "1",
       "proxied scrape up")
    eq(len(prom.query('certfleet_certificate_in_use{job='
                      '"certfleet_proxied"}')), 3, "certificates ingested")
    _, om = scrape(ctx, "application/openmetrics-text;version=1.0.0")
    want = len([ln for ln in om.splitlines() if ln and ln[0] != "#"])
    got = int(prom.query('scrape_samples_scraped{job="certfleet_proxied"}')
              [0]["value"][1])
    check(abs(got - want) <= 20, "samples scraped %d, in a scrape %d"
          % (got, want))
    # The example rules load and evaluate.
    st, _, body = http_get(prom.url + "/api/v1/rules")
    groups = json.loads(body)["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    check(len(rules) >= 5, "rules loaded: %d" % len(rules))
    bad = [r["name"] for r in rules if r.get("health") == "err"]
    eq(bad, [], "rules evaluating with errors")


def test_healthz(ctx):
    st, _, body = http_get(ctx.m.base + "/healthz")
    eq((st, body), (200, b"ok\n"), "/healthz")
    st, _, _ = http_get(ctx.m.base + "/nothing-here")
    eq(st, 404, "unknown path")


def test_api_requests_are_counted(ctx):
    def counts():
        _, text = scrape(ctx)
        return (samples(text, "certfleet_api_requests_total"),
                samples(text, "certfleet_api_request_duration_seconds_count"))
    ok = '{action="ListCertificates",exception=""}'
    bad = '{action="DescribeCertificate",exception="InvalidArnException"}'
    before, hist_before = counts()
    for _ in range(3):
        ctx.m.c.ok("ListCertificates", {})
    ctx.m.c.expect_error("DescribeCertificate", {"CertificateArn": "not-an-arn-but-long-enough"},
                         "InvalidArnException")
    after, hist_after = counts()
    eq(after.get(ok, 0) - before.get(ok, 0), 3, "ListCertificates successes")
    eq(after.get(bad, 0) - before.get(bad, 0), 1, "InvalidArnException")
    lc = '{action="ListCertificates"}'
    eq(hist_after.get(lc, 0) - hist_before.get(lc, 0), 3, "histogram count")


def test_every_certificate_has_a_renewal_status_and_due_time(ctx):
    """Imported certificates were never renewed: renewal status NONE, and
    +Inf for a renewal that is not planned, so the series exist for every
    certificate and an overdue alert cannot fire for them."""
    text = wait_for_certificates(ctx)
    rs = samples(text, "certfleet_certificate_renewal_status")
    due = samples(text, "certfleet_certificate_renewal_due_timestamp_seconds")
    for arn in ctx.m.arns.values():
        mine = {k: v for k, v in rs.items()
                if 'certificate_arn="%s"' % arn in k}
        eq(sorted(k.split('renewal_status="')[1].rstrip('"}')
                  for k in mine),
           ["FAILED", "NONE", "PENDING_AUTO_RENEWAL", "PENDING_VALIDATION",
            "SUCCESS"], "renewal status values of %s" % arn)
        eq(mine['{certificate_arn="%s",renewal_status="NONE"}' % arn], 1.0,
           "NONE is the current one")
        eq(sum(mine.values()), 1.0, "exactly one current status")
        eq(due.get('{certificate_arn="%s"}' % arn), float("inf"),
           "no renewal planned")
    check(len(rs) == 5 * len(samples(
        text, "certfleet_certificate_in_use")), "5 status samples each")


OUTBOX_SQL = """
INSERT INTO mail_outbox (message_id, kind, sender, recipients, body,
    created_at, next_attempt_at)
SELECT 'stuck-' || g || '@metrics.example', 'OTHER',
    'certfleet@metrics.example', ARRAY['ops@metrics.example'],
    'Subject: stuck' || chr(13) || chr(10) || chr(13) || chr(10) || 'x',
    now() - interval '2 hours', now() + interval '1 day'
FROM generate_series(1, 3) AS g
"""


def test_mail_queue_depth_and_oldest_age_from_the_database(ctx):
    """Rows of the shared queue that wait (not due for a day here): the
    daemon reads their count and oldest age with the certificate figures;
    the age keeps counting between reads."""
    db = ctx.m.d.dbname

    def queue():
        _, text = scrape(ctx)
        n = samples(text, "certfleet_mail_queue_messages").get("")
        age = samples(text, "certfleet_mail_queue_oldest_age_seconds").get("")
        return n, age
    n, age = wait_for(lambda: queue()[0] is not None and queue(), 15,
                      what="the mail queue figures")
    eq((n, age), (0.0, 0.0), "empty queue")
    ctx.m.cluster.psql(OUTBOX_SQL, db)
    try:
        n, age = wait_for(lambda: (lambda q: q[0] == 3 and q)(queue()), 15,
                          what="three messages queued")
        check(7190 <= age <= 7300, "oldest age %f" % age)
    finally:
        ctx.m.cluster.psql("DELETE FROM mail_outbox WHERE message_id LIKE "
                           "'stuck-%'", db)
    wait_for(lambda: queue() == (0.0, 0.0), 15, what="the queue empty again")


# ------------------------------------------------- a daemon that renews

def lifecycle(ctx):
    """The renewing daemon, its servers and two bound certificates, made
    on first use: test_renewal's settings (checks and verification in
    seconds, expiry events every 3 s to an SMTP sink) with certificates of
    an hour, and the metrics refreshed every second."""
    m = ctx.m
    if getattr(m, "life", None) is not None:
        return m.life
    life = types.SimpleNamespace()
    d = os.path.join(ctx.tmp, "metrics-renewal")
    os.makedirs(d, exist_ok=True)
    # test_renewal's helpers read these from the module's scratch space.
    m.sink = flow.Sink(d)
    m.dns = renewal.dnsmasq(d)
    m.n = 0
    port = free_port()
    life.base = "http://127.0.0.1:%d" % port
    # Certificates of an hour: no automatic renewal gets in the way, and
    # they are inside the expiry window from the start.
    life.d = ctx.new_daemon(name="metrics-renewal", extra=renewal.renewal_config(
        ctx, {"metrics": {"listen": "127.0.0.1:%d" % port,
                          "certificate_cache": "1s"},
              "ca": {"certificate_validity": "1h"}}))
    life.c = life.d.client
    life.root, life.port = renewal.sni_endpoint(ctx, renewal.NET + ".21")
    life.certs = {}
    for name in ("in21." + renewal.ZONE, "in22." + renewal.ZONE):
        arn = renewal.issue(life.d, [name])
        renewal.wait_issued(life.d, arn)
        served = os.path.join(life.root, name)
        os.makedirs(served)
        b = renewal.bind(life.c, arn, served, renewal.NET + ".21", life.port,
                         name)
        life.certs[name] = types.SimpleNamespace(arn=arn, binding=b,
                                                 served=served)
    q = ",".join("'%s'" % x.arn for x in life.certs.values())
    wait_for(lambda: renewal.sql(life.d, "SELECT count(*) FROM bindings b "
                                 "JOIN certificates c ON c.id = "
                                 "b.certificate_id WHERE c.arn IN (%s) AND "
                                 "b.deployed_version = 1" % q)[0][0] == "2",
             30, what="version 1 deployed")
    m.life = life
    return life


def life_scrape(life):
    st, _, body = http_get(life.base + "/metrics")
    eq(st, 200, "GET /metrics of the renewing daemon")
    return body.decode()


def endpoint_key(life, name):
    x = life.certs[name]
    return ('{certificate_arn="%s",binding_arn="%s",address="%s",port="%d",'
            'server_name="%s"}' % (x.arn, x.binding, renewal.NET + ".21",
                                   life.port, name))


def test_renewal_checks_counted_and_endpoint_figures(ctx):
    """A renewal checks the name's DNS and probes the endpoint, then
    verifies the new version there: counted by result with durations; the
    endpoint's match is 1 and its last success and the certificate's last
    passed DNS check are recent, read from the database."""
    life = lifecycle(ctx)
    name = "in21." + renewal.ZONE
    arn = life.certs[name].arn
    before = life_scrape(life)
    life.c.ok("RenewCertificate", {"CertificateArn": arn})
    renewal.wait_renewed(life.c, arn, 2, life.d)
    t_done = time.time()
    key = endpoint_key(life, name)

    def figures():
        text = life_scrape(life)
        return key in samples(text, "certfleet_endpoint_certificate_match") \
            and text
    text = wait_for(figures, 15, what="the endpoint's figures")
    eq(samples(text, "certfleet_endpoint_certificate_match")[key], 1.0,
       "the endpoint serves the current version")
    ok = samples(text, "certfleet_endpoint_probe_last_success_timestamp_"
                 "seconds")[key]
    check(t_done - 30 < ok <= t_done + 1, "last success %f" % ok)
    dns_ok = samples(text, "certfleet_certificate_dns_check_last_success_"
                     "timestamp_seconds")['{certificate_arn="%s"}' % arn]
    check(t_done - 30 < dns_ok <= ok + 1, "last DNS check passed %f" % dns_ok)
    eq(samples(text, "certfleet_certificate_renewal_status")[
        '{certificate_arn="%s",renewal_status="SUCCESS"}' % arn], 1.0,
       "renewal status SUCCESS")
    due = samples(text, "certfleet_certificate_renewal_due_timestamp_seconds")[
        '{certificate_arn="%s"}' % arn]
    check(t_done < due < t_done + 3600, "next renewal due %f" % due)

    def delta(name, key):
        return samples(text, name).get(key, 0) - \
            samples(before, name).get(key, 0)
    # one name checked; the endpoint probed before issuing and after
    # deploying
    check(delta("certfleet_dns_checks_total", '{result="ok"}') >= 1,
          "DNS checks counted")
    check(delta("certfleet_dns_check_duration_seconds_count", "") >= 1,
          "DNS check durations")
    check(delta("certfleet_tls_probes_total", '{result="ok"}') >= 2,
          "probes counted")
    check(delta("certfleet_tls_probe_duration_seconds_count", "") >= 2,
          "probe durations")
    for r in ("outside", "nxdomain", "nodata", "timeout", "error"):
        check('{result="%s"}' % r in samples(text,
                                             "certfleet_dns_checks_total"),
              "DNS result %s present at zero" % r)
    # Fresh from the database after a restart, not from the daemon's
    # memory.
    life.d.restart()
    text = wait_for(figures, 20, what="the endpoint's figures after a "
                    "restart")
    eq(samples(text, "certfleet_endpoint_probe_last_success_timestamp_"
               "seconds")[key], ok, "last success kept across a restart")

test_renewal_checks_counted_and_endpoint_figures.time_limit = 180


def test_endpoint_serving_another_certificate_matches_zero(ctx):
    """The second binding's files go where the endpoint does not look: the
    renewal deploys version 2, the endpoint keeps serving version 1, the
    verification fails (mismatch) and records it: match 0 for that
    endpoint only, and its last success stays in the past."""
    life = lifecycle(ctx)
    stale, good = "in22." + renewal.ZONE, "in21." + renewal.ZONE
    x = life.certs[stale]
    elsewhere = os.path.join(life.root, "not-served")
    os.makedirs(elsewhere, exist_ok=True)
    renewal.sql(life.d, "UPDATE bindings SET file_targets = replace("
                "file_targets::text, '%s/', '%s/')::jsonb WHERE arn = '%s'"
                % (x.served, elsewhere, x.binding))
    before = life_scrape(life)
    t0 = time.time()
    life.c.ok("RenewCertificate", {"CertificateArn": x.arn})
    key = endpoint_key(life, stale)

    def flipped():
        text = life_scrape(life)
        return samples(text, "certfleet_endpoint_certificate_match").get(
            key) == 0 and text
    text = wait_for(flipped, 60, interval=0.5, what="match 0 for the stale "
                    "endpoint")
    eq(samples(text, "certfleet_endpoint_certificate_match").get(
        endpoint_key(life, good)), 1.0, "the other endpoint still matches")
    last = samples(text, "certfleet_endpoint_probe_last_success_timestamp_"
                   "seconds").get(key, 0)
    check(last < t0, "no success since the renewal: %f < %f" % (last, t0))
    grew = samples(text, "certfleet_tls_probes_total")['{result="mismatch"}'] \
        - samples(before, "certfleet_tls_probes_total")['{result="mismatch"}']
    check(grew >= 1, "mismatches counted: %f" % grew)
    eq(samples(text, "certfleet_certificate_renewal_status")[
        '{certificate_arn="%s",renewal_status="PENDING_AUTO_RENEWAL"}'
        % x.arn], 1.0, "the renewal is not SUCCESS")

test_endpoint_serving_another_certificate_matches_zero.time_limit = 180


NOTICE_SQL = """
INSERT INTO mail_outbox (message_id, kind, sender, recipients, body)
VALUES ('%(id)s', 'OTHER', 'certfleet@test-host-1.example', ARRAY['%(to)s'],
    'From: certfleet@test-host-1.example' || chr(13) || chr(10) ||
    'To: %(to)s' || chr(13) || chr(10) || 'Subject: metrics test' ||
    chr(13) || chr(10) || chr(13) || chr(10) || 'x' || chr(13) || chr(10))
"""


def test_expiry_events_and_emails_counted(ctx):
    """The renewing daemon's certificates live an hour, well inside the
    expiry window: expiry events every 3 s, each an email to the operator
    (queued, then sent). Two more messages, one the sink refuses for now
    and one it refuses for good: retried and failed."""
    life = lifecycle(ctx)
    for tag in ("tempfail", "reject"):
        renewal.sql(life.d, NOTICE_SQL % {
            "id": "%s-%s@metrics.example" % (tag, time.time()),
            "to": "ops-%s@metrics.example" % tag})

    def counted():
        text = life_scrape(life)
        e = samples(text, "certfleet_emails_total")
        ok = (samples(text, "certfleet_expiry_events_total").get("", 0) >= 1
              and e.get('{kind="expiry",result="queued"}', 0) >= 1
              and e.get('{kind="expiry",result="sent"}', 0) >= 1
              and e.get('{kind="other",result="retried"}', 0) >= 1
              and e.get('{kind="other",result="failed"}', 0) >= 1)
        return ok and text
    text = wait_for(counted, 60, interval=0.5, what="expiry events and "
                    "emails counted")
    e = samples(text, "certfleet_emails_total")
    check(e['{kind="expiry",result="queued"}'] >=
          e['{kind="expiry",result="sent"}'], "sent ones were queued first")
    check(renewal.mails_to(ctx.m.sink, renewal.OPS, "expire"),
          "the sink has expiry notices")
    ev = renewal.sql(life.d, "SELECT count(*) FROM audit_events WHERE "
                     "event_name = 'ExpiryEvent' AND caller_user = "
                     "'certfleetd'")
    check(int(ev[0][0]) >= 1, "expiry events in the audit trail")


def test_own_audit_events_are_in_the_log(ctx):
    """The daemon's own work (a deployment's key use, an expiry event)
    leaves one structured log line per audit event, as control calls do,
    and none holds a private key."""
    life = lifecycle(ctx)
    wait_for(lambda: "AUDIT_EVENT=ExpiryEvent" in life.d.stderr_text(), 30,
             what="an expiry event in the log")
    log = life.d.stderr_text()
    lines = [ln for ln in log.splitlines() if "AUDIT_EVENT=" in ln and
             "certfleetd" in ln]
    for event in ("DeployCertificate", "ExpiryEvent"):
        mine = [ln for ln in lines if "AUDIT_EVENT=%s " % event in ln + " "]
        check(mine, "a log line for %s" % event)
        check(all("CERTIFICATE_ARN=arn:aws:acm:" in ln for ln in mine),
              "with the certificate: %s" % mine[0])
    check("PRIVATE KEY" not in log, "no private key in the log")


def test_promtool_clean_on_the_renewing_daemon(ctx):
    life = lifecycle(ctx)
    text = life_scrape(life)
    for name in ("certfleet_endpoint_certificate_match",
                 "certfleet_tls_probe_duration_seconds_bucket",
                 "certfleet_mail_queue_messages",
                 "certfleet_certificate_dns_check_last_success_timestamp_"
                 "seconds"):
        check(samples(text, name), "%s in the scrape" % name)
    r = harness.run_cmd(["promtool", "check", "metrics"], input=text.encode())
    out = (r.stdout + r.stderr).decode(errors="replace")
    eq((r.returncode, out.strip()), (0, ""), "promtool check metrics")


def test_readyz_follows_the_database(ctx):
    base = ctx.m.base
    wait_for(lambda: http_get(base + "/readyz")[0] == 200, 15,
             what="/readyz 200")
    ctx.m.cluster.stop()
    st, _, body = wait_for(
        lambda: (lambda r: r[0] == 503 and r)(http_get(base + "/readyz")),
        20, what="/readyz 503 while PostgreSQL is stopped")
    check(body.count(b"\n") == 1 and b"database" in body,
          "one-line reason: %r" % body)
    eq(http_get(base + "/healthz")[0], 200, "/healthz during the outage")
    # The certificate figures stay while the database is away.
    _, text = scrape(ctx)
    eq(len(samples(text, "certfleet_certificate_not_after_timestamp_seconds")),
       3, "certificate figures during the outage")
    _, gz = scrape(ctx, gz=True)
    eq(cert_lines(gz), cert_lines(text), "gzip'd during the outage")
    eq(samples(text, "certfleet_database_up")[""], 0.0, "database_up")
    ctx.m.cluster.start()
    wait_for(lambda: http_get(base + "/readyz")[0] == 200, 30,
             what="/readyz 200 after PostgreSQL is back")
    _, text = scrape(ctx)
    check(samples(text, "certfleet_database_reconnects_total")[""] >= 1,
          "reconnect counted")


BULK = 20000
BULK_SQL = """
INSERT INTO certificates (arn, type, status, domain_name, names,
    key_algorithm, not_before, not_after, imported_at, renewal_eligibility,
    next_due_at, renewal_status)
SELECT 'arn:aws:acm:us-east-1:123456789012:certificate/' || gen_random_uuid(),
    'IMPORTED', 'ISSUED', 'bulk-' || g || '.metrics.example.com',
    ARRAY['bulk-' || g || '.metrics.example.com'], 'RSA_2048',
    now() - interval '1 day', now() + interval '90 days', now(),
    'INELIGIBLE', now() + interval '60 days', 'SUCCESS'
FROM generate_series(1, %d) AS g
"""


def leave_mid_reply(base, headers):
    """Asks for /metrics, reads a little of the reply, and hangs up."""
    host, _, port = base[len("http://"):].rpartition(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(("GET /metrics HTTP/1.1\r\nHost: x\r\n%s\r\n"
               % "".join("%s: %s\r\n" % kv for kv in headers.items()))
              .encode())
    check(len(s.recv(4096)) > 0, "a reply started")
    s.close()


def test_large_inventory_in_chunks_and_clients_leaving(ctx):
    """20,000 rows straight into the database (not through the API: only
    the metrics read them): megabytes of plain text, sent a chunk at a
    time, the same as the gzip'd reply; clients that hang up mid-reply
    leave the daemon serving (and, in the sanitizer build, leaking
    nothing)."""
    db = ctx.m.d.dbname
    ctx.m.cluster.psql(BULK_SQL % BULK, db)
    try:
        def grown():
            _, text = scrape(ctx)
            n = samples(text, "certfleet_certificate_in_use")
            return len(n) == BULK + 3 and text
        plain = wait_for(grown, 60, interval=0.5, what="%d certificates" %
                         (BULK + 3))
        check(len(plain) > 8 * 2**20, "plain reply of %d bytes" % len(plain))
        st, hdrs, body = http_get(ctx.m.base + "/metrics",
                                  {"Accept-Encoding": "gzip"}, timeout=60)
        eq(hdrs.get("content-encoding"), "gzip", "Content-Encoding")
        check(len(body) * 5 < len(plain), "gzip'd reply of %d bytes"
              % len(body))
        eq(cert_lines(gunzip_member(body)), cert_lines(plain),
           "certificate samples, gzip'd and plain")
        for _ in range(3):
            leave_mid_reply(ctx.m.base, {})
            leave_mid_reply(ctx.m.base, {"Accept-Encoding": "gzip"})
        eq(http_get(ctx.m.base + "/healthz")[0], 200, "/healthz after")
        _, text = scrape(ctx)
        eq(len(samples(text, "certfleet_certificate_in_use")), BULK + 3,
           "a whole scrape after")
    finally:
        ctx.m.cluster.psql("DELETE FROM certificates WHERE domain_name "
                           "LIKE 'bulk-%'", db)
