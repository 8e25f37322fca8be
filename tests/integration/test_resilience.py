"""The daemon and its database going away and coming back: restarts, a
PostgreSQL outage under a running daemon, a daemon started before its
database, kill -9, and a second daemon on a socket already in use.  These
tests stop and crash PostgreSQL, so they use a cluster of their own."""

import os
import time

import certs
import harness
from harness import AcmClient, TestFailure, check, eq


def setup_module(ctx):
    ctx.m.cluster = ctx.new_cluster()


def setup_function(ctx):
    if not ctx.m.cluster.is_running():
        ctx.m.cluster.start()


def teardown_module(ctx):
    for d in ctx.daemons:
        if d.cluster is ctx.m.cluster:
            d.stop()
    ctx.m.cluster.cleanup()


def _daemon(ctx, **kw):
    return ctx.new_daemon(cluster=ctx.m.cluster, **kw)


def _populate(c, n=3):
    arns = []
    for i in range(n):
        kt = ("RSA_2048", "EC_prime256v1", "RSA_4096")[i % 3]
        arns.append(c.import_leaf(certs.leaf(("r%d.example.com" % i,), kt),
                                  tags=[{"Key": "n", "Value": str(i)}]))
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 33},
                                     "IdempotencyToken": "res1"})
    return arns


def _state(c):
    """Everything a client can see, for before/after comparisons."""
    out = {}
    for arn in c.arns():
        out[arn] = (c.describe(arn), c.tags(arn),
                    c.ok("GetCertificate", {"CertificateArn": arn}))
    out["account"] = c.ok("GetAccountConfiguration", {})
    return out


def test_restart_keeps_everything(ctx):
    d = _daemon(ctx)
    _populate(d.client)
    before = _state(d.client)
    d.restart()
    eq(_state(d.client), before, "state after restart")


def test_postgres_outage_gives_503_then_recovers(ctx):
    d = _daemon(ctx)
    c = AcmClient(d.socket, timeout=10)
    arns = _populate(c)
    before = _state(c)
    ctx.m.cluster.stop("fast")
    try:
        for action, body in (
                ("ListCertificates", {}),
                ("DescribeCertificate", {"CertificateArn": arns[0]}),
                ("ImportCertificate", certs.leaf(("o.example.com",))
                 .import_body()),
                ("ListTagsForCertificate", {"CertificateArn": arns[1]}),
                ("GetAccountConfiguration", {})):
            t0 = time.monotonic()
            c.expect_error(action, body, "ServiceUnavailableException",
                           status=503)
            took = time.monotonic() - t0
            check(took < 5, "%s took %.1fs to fail during the outage"
                  % (action, took))
        check(d.alive(), "daemon died during the database outage")
    finally:
        ctx.m.cluster.start()
    harness.wait_for(lambda: c.call("ListCertificates", {})[0] == 200, 30,
                     what="ListCertificates to succeed after PostgreSQL "
                          "came back")
    eq(_state(c), before, "state after the outage")
    c.import_leaf(certs.leaf(("after-outage.example.com",)))


def test_postgres_crash_then_recovery(ctx):
    d = _daemon(ctx)
    c = d.client
    _populate(c, 2)
    before = _state(c)
    ctx.m.cluster.crash()
    try:
        c.expect_error("ListCertificates", {}, "ServiceUnavailableException",
                       status=503, timeout=8)
    finally:
        ctx.m.cluster.start()
    harness.wait_for(lambda: c.call("ListCertificates", {})[0] == 200, 30,
                     what="recovery after a PostgreSQL crash")
    eq(_state(c), before, "state after the crash")


def test_daemon_started_while_postgres_is_down(ctx):
    d = _daemon(ctx, start=False)
    ctx.m.cluster.stop("fast")
    try:
        d.start(wait=False)
        time.sleep(3)
        check(d.alive(), "certfleetd gave up while PostgreSQL was down:\n"
              + d.stderr_tail())
        # The socket may not be up yet; if it is, it must say 503.
        if os.path.exists(d.socket):
            try:
                st, _, doc = AcmClient(d.socket, timeout=5).call(
                    "ListCertificates", {})
                eq(st, 503, "status before the database is reachable")
                eq(doc.get("__type"), "ServiceUnavailableException", "__type")
            except (ConnectionRefusedError, FileNotFoundError):
                pass
    finally:
        ctx.m.cluster.start()
    d.wait_ready(30)
    d.client.import_leaf(certs.leaf(("late.example.com",)))


def test_kill9_then_restart_keeps_imported_certificates(ctx):
    d = _daemon(ctx)
    _populate(d.client, 6)
    before = _state(d.client)
    d.kill9()
    d.start()           # must cope with the stale socket file
    eq(_state(d.client), before, "state after kill -9 and restart")


def test_second_daemon_on_a_busy_socket_refuses_to_start(ctx):
    first = _daemon(ctx)
    arn = first.client.import_leaf(certs.leaf(("busy.example.com",)))
    second = harness.Daemon(ctx.m.cluster, first.dbname,
                            os.path.join(ctx.tmp, ctx.unique("second")))
    second.socket = first.socket
    second.write_config()
    ctx.daemons.append(second)
    second.start(wait=False)
    try:
        second.proc.wait(10)
    except Exception:       # noqa: BLE001
        raise TestFailure("a second daemon on the same socket kept running")
    check(second.proc.returncode not in (0, None),
          "second daemon exited with %s" % second.proc.returncode)
    second.proc = None
    eq(first.client.describe(arn)["DomainName"], "busy.example.com",
       "first daemon still serves")
