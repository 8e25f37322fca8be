"""Expiry for every certificate: imported certificates are never renewed
but get expiry events (an email to [notifications] email and a journal
warning) from DaysBeforeExpiry on, once per expiry_event_interval (here 3 s,
"a day" in production) and not once per scan (1 s here), until they are
re-imported or expire; past NotAfter they become EXPIRED, written down in
the database."""

import datetime
import os
import re

import certs
import harness
import test_request_flow as flow
from harness import check, eq, wait_for

OPS = "ops@expiry.example.org"


def setup_module(ctx):
    m = ctx.m
    m.dir = os.path.join(ctx.tmp, "expiry-servers")
    os.makedirs(m.dir, exist_ok=True)
    m.sink = flow.Sink(m.dir)
    m.d = ctx.new_daemon(extra={
        "mail": {"relay": "smtp://127.0.0.1:%d" % m.sink.port,
                 "from": "certfleet@test-host-1.example",
                 "retry_min": "300ms", "retry_max": "1s"},
        "renewal": {"scan_interval": "1s"},
        "notifications": {"email": OPS, "expiry_event_interval": "3s"}})
    m.c = m.d.client


def sql(d, q):
    return d.cluster.psql(q, d.dbname)


def expiry_mails(sink, name):
    return [m for m in sink.messages() if OPS in m["To"] and
            re.search(re.escape(name), m["Subject"])]


def leaf_expiring_in(seconds, name):
    na = certs.now() + datetime.timedelta(seconds=seconds)
    return certs.leaf((name,), "EC_prime256v1", not_after=na)


def test_imported_events_once_per_interval_then_expired(ctx):
    m = ctx.m
    c, d = m.c, m.d
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 1},
                                     "IdempotencyToken": "expiry1"})
    name = "soon.expiry.example.com"
    arn = c.import_leaf(leaf_expiring_in(14, name))
    wait_for(lambda: len(expiry_mails(m.sink, name)) >= 1, 10,
             what="the first expiry event")
    t0 = datetime.datetime.now()
    wait_for(lambda: c.describe(arn)["Status"] == "EXPIRED", 30,
             what="EXPIRED")
    wait_for(lambda: sql(d, "SELECT status FROM certificates WHERE arn = "
                         "'%s'" % arn)[0][0] == "EXPIRED", 5,
             what="EXPIRED written down")
    n = len(expiry_mails(m.sink, name))
    # 14 s of window with one event per 3 s: about 5, never one per scan.
    check(3 <= n <= 7, "expiry events: %d (one per interval, not per "
          "scan)" % n)
    warnings = [l for l in d.stderr_text().splitlines()
                if "warning" in l and arn in l and "expires on" in l]
    check(3 <= len(warnings) <= 7, "journal warnings: %d" % len(warnings))
    eq(sql(d, "SELECT count(*) FROM expiry_events e JOIN certificates c ON "
           "c.id = e.certificate_id WHERE c.arn = '%s'" % arn)[0][0], "1",
       "one row per certificate")
    eq(c.describe(arn).get("RenewalSummary"), None, "imported: no renewal")


def test_reimport_moves_the_window(ctx):
    m = ctx.m
    c = m.c
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 1},
                                     "IdempotencyToken": "expiry2"})
    name = "reimport.expiry.example.com"
    arn = c.import_leaf(leaf_expiring_in(3600, name))
    wait_for(lambda: len(expiry_mails(m.sink, name)) >= 1, 10,
             what="the first expiry event")
    # Re-imported with NotAfter beyond the window: no more events.
    c.import_leaf(certs.leaf((name,), "EC_prime256v1"), arn=arn)
    n = len(expiry_mails(m.sink, name))
    import time
    time.sleep(7)
    eq(len(expiry_mails(m.sink, name)), n, "no events after re-import")


def test_outside_window_no_event(ctx):
    m = ctx.m
    c = m.c
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 45},
                                     "IdempotencyToken": "expiry3"})
    name = "later.expiry.example.com"
    c.import_leaf(certs.leaf((name,), "EC_prime256v1"))
    import time
    time.sleep(3)
    eq(expiry_mails(m.sink, name), [], "90 days left, window 45: no event")
