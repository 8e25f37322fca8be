"""The audit trail: every control call leaves exactly one row in
audit_events, with the caller's identity as the kernel reports it
(SO_PEERCRED), and CertFleet.LookupEvents reads the trail back the way
CloudTrail's LookupEvents does.

When an event is stored, as built:
- a call that changes something: in the transaction of the change;
- a failed call: before it is answered;
- a successful read: right after it is answered, by the group writer;
  LookupEvents waits for the events of every call answered before it, and a
  graceful stop waits for all of them.

Secrets never reach an event, the database dump or the log; the log carries
one "audit:" line per call (the journal's copy)."""

import base64
import json
import os
import re
import secrets
import stat
import subprocess
import threading
import time

import certs
import harness
from harness import TestFailure, b64, check, eq, wait_for

ACM = "CertificateManager"
EXT = "CertFleet"
UA = "certfleet-audit-test/1.0 (integration)"
HOST = "test-host-1"
RID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                    r"[0-9a-f]{12}$")
JOURNAL_RE = re.compile(r"audit: (\w+) by uid (\d+) \(pid (\d+)\)")
NOBODY_UID = 65534
SECRET_MEMBERS = ("Certificate", "PrivateKey", "CertificateChain",
                  "Passphrase")


def setup_module(ctx):
    # A socket everybody may use, so that a second user can call.
    d = ctx.new_daemon(extra={"control": {"socket_mode": "0666"}})
    ctx.m.d = d
    ctx.m.c = d.client
    ctx.m.me = _comm(os.getpid())


def _comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


# ---------------------------------------------------------------- helpers

def _call(c, action, body=None, prefix=ACM, ua=UA):
    """One call; returns (status, request id, document)."""
    st, hdrs, doc = c.call(action, body, prefix=prefix,
                           headers={"User-Agent": ua})
    rid = hdrs.get("x-amzn-requestid", "")
    check(RID_RE.match(rid), "%s: request id %r" % (action, rid))
    return st, rid, doc


def _ok(c, action, body=None, prefix=ACM):
    st, rid, doc = _call(c, action, body, prefix)
    if st != 200:
        raise TestFailure("%s: expected HTTP 200, got %d: %s" % (action, st,
                                                                 doc))
    return rid, doc


def _fail(c, action, body, exception, prefix=ACM, status=400):
    st, rid, doc = _call(c, action, body, prefix)
    if st != status or not isinstance(doc, dict) or \
            doc.get("__type") != exception:
        raise TestFailure("%s %s: expected HTTP %d %s, got %d %s" % (
            action, json.dumps(body)[:200], status, exception, st, doc))
    return rid, doc


def _raw(c, action, data, prefix=ACM):
    """A call whose body is the given bytes; returns (status, rid, doc)."""
    r = c.request("POST", "/", data, {
        "X-Amz-Target": "%s.%s" % (prefix, action),
        "Content-Type": "application/x-amz-json-1.1", "User-Agent": UA})
    rid = r.headers.get("x-amzn-requestid", "")
    check(RID_RE.match(rid), "%s: request id %r" % (action, rid))
    return r.status, rid, r.json()


def _events(d, rids):
    """The stored events of these request ids, oldest first, as dicts
    (NULL is None, jsonb columns are decoded)."""
    rids = list(rids)
    if not rids:
        return []
    for r in rids:
        check(RID_RE.match(r), "request id %r" % r)
    rows = d.cluster.psql(
        "SELECT row_to_json(e)::text FROM audit_events e WHERE request_id "
        "IN (%s) ORDER BY event_time, event_id"
        % ",".join("'%s'" % r for r in rids), d.dbname)
    return [json.loads(r[0]) for r in rows]


def _event(d, rid):
    """The one event of a request id, now (no waiting)."""
    ev = _events(d, [rid])
    eq(len(ev), 1, "events stored for request %s" % rid)
    return ev[0]


def _wait_event(d, rid, timeout=10):
    """The one event of a successful read, which the group writer stores
    right after the answer."""
    wait_for(lambda: _events(d, [rid]), timeout,
             what="the audit event of request %s" % rid)
    return _event(d, rid)


def _sql(d, q):
    return d.cluster.psql(q, d.dbname)


def _lookup(c, body):
    return c.ok("LookupEvents", body, prefix=EXT)


def _lookup_all(c, body=None, page=50):
    """Every event LookupEvents returns for body, following NextToken;
    returns (events, request ids of the LookupEvents calls made)."""
    out, walk = [], []
    token = None
    for _ in range(100000):
        b = dict(body or {})
        b["MaxResults"] = page
        if token:
            b["NextToken"] = token
        rid, doc = _ok(c, "LookupEvents", b, prefix=EXT)
        walk.append(rid)
        evs = doc.get("Events")
        check(isinstance(evs, list), "LookupEvents: Events %r" % evs)
        check(len(evs) <= page, "LookupEvents: %d events on a page of %d"
              % (len(evs), page))
        out.extend(evs)
        token = doc.get("NextToken")
        if not token:
            return out, walk
        check(evs, "LookupEvents: an empty page with a NextToken")
    raise TestFailure("LookupEvents paging does not end")


def _trail(ev):
    """The CloudTrail record inside a LookupEvents event."""
    return json.loads(ev["CloudTrailEvent"])


def _rid_of(ev):
    return _trail(ev).get("requestID")


def _arn_body(arn):
    return {"CertificateArn": arn}


def _import(c, sans, tags=None, **extra):
    lf = certs.leaf(sans)
    body = lf.import_body(**extra)
    if tags:
        body["Tags"] = tags
    rid, doc = _ok(c, "ImportCertificate", body)
    check(harness.ARN_RE.match(doc.get("CertificateArn", "")),
          "ImportCertificate ARN %r" % doc)
    return lf, doc["CertificateArn"], rid


def _journal(d, rid):
    """The log's audit lines of one request."""
    return [ln for ln in d.stderr_text().splitlines()
            if " audit: " in ln and ("REQUEST_ID=%s" % rid) in ln]


def _check_identity(ev, uid, gid, pid, user, process, what):
    eq(ev["caller_uid"], uid, what + ": caller_uid")
    eq(ev["caller_gid"], gid, what + ": caller_gid")
    if pid is not None:
        eq(ev["caller_pid"], pid, what + ": caller_pid")
    else:
        check(isinstance(ev["caller_pid"], int) and ev["caller_pid"] > 0,
              what + ": caller_pid %r" % ev["caller_pid"])
    eq(ev["caller_user"], user, what + ": caller_user")
    eq(ev["caller_process"], process, what + ": caller_process")


def _check_root(ctx, ev, what):
    _check_identity(ev, 0, 0, os.getpid(), "root", ctx.m.me, what)


# ------------------------------------------------ one event per call, fields

def test_each_action_leaves_exactly_one_event(ctx):
    d, c = ctx.m.d, ctx.m.c
    calls = []          # (action, rid, read_only, arn or None)

    def add(action, body, read_only, arn=None, prefix=ACM):
        rid, doc = _ok(c, action, body, prefix)
        calls.append((action, rid, read_only, arn))
        return doc

    _, arn, rid = _import(c, ("one.audit.example.com",))
    calls.append(("ImportCertificate", rid, False, arn))
    add("AddTagsToCertificate", {"CertificateArn": arn, "Tags": [
        {"Key": "Team", "Value": "Web"}]}, False, arn)
    add("ListTagsForCertificate", _arn_body(arn), True, arn)
    add("RemoveTagsFromCertificate", {"CertificateArn": arn, "Tags": [
        {"Key": "Team"}]}, False, arn)
    add("DescribeCertificate", _arn_body(arn), True, arn)
    add("GetCertificate", _arn_body(arn), True, arn)
    add("ListCertificates", {"MaxItems": 5}, True)
    add("GetAccountConfiguration", {}, True)
    add("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 45},
                                    "IdempotencyToken": "audit1"}, False)
    add("ListBindings", {}, True, prefix=EXT)
    add("DeleteCertificate", _arn_body(arn), False, arn)

    rids = [r for _, r, _, _ in calls]
    eq(len(set(rids)), len(rids), "request ids are unique")
    evs = wait_for(lambda: (lambda e: e if len(e) >= len(calls) else None)(
        _events(d, rids)), 10, what="the events of %d calls" % len(calls))
    eq(len(evs), len(calls), "events for %d calls" % len(calls))
    by_rid = {e["request_id"]: e for e in evs}
    eq(sorted(by_rid), sorted(rids), "one event per request id")
    eq(len({e["event_id"] for e in evs}), len(evs), "event ids are unique")
    for action, rid, read_only, arn in calls:
        ev = by_rid[rid]
        what = "%s event" % action
        eq(ev["event_name"], action, what + ": event_name")
        eq(ev["read_only"], read_only, what + ": read_only")
        eq(ev["source"], "unix", what + ": source")
        eq(ev["user_agent"], UA, what + ": user_agent")
        eq(ev["host_name"], HOST, what + ": host_name")
        eq(ev["error_code"], None, what + ": error_code")
        eq(ev["error_message"], None, what + ": error_message")
        eq(ev["certificate_arn"], arn, what + ": certificate_arn")
        check(isinstance(ev["request_params"], dict),
              what + ": request_params %r" % ev["request_params"])
        _check_root(ctx, ev, what)
    # LookupEvents sees each of them too, with the same request id.
    got = {}
    for action, rid, read_only, arn in calls:
        page = _lookup(c, {"LookupAttributes": [{
            "AttributeKey": "EventName", "AttributeValue": action}],
            "MaxResults": 50})
        mine = [e for e in page["Events"] if _rid_of(e) == rid]
        eq(len(mine), 1, "LookupEvents %s events of request %s"
           % (action, rid))
        got[rid] = mine[0]
        eq(mine[0]["ReadOnly"], "true" if read_only else "false",
           "%s ReadOnly" % action)
    eq({got[r]["EventId"] for r in rids}, {by_rid[r]["event_id"]
                                          for r in rids}, "EventIds")


def test_change_event_commits_with_the_change(ctx):
    """A change's event is visible as soon as the change is answered, and it
    was written by the very transaction that made the change."""
    d, c = ctx.m.d, ctx.m.c
    _, arn, rid = _import(c, ("tx.audit.example.com",))
    ev = _event(d, rid)             # no waiting
    eq(ev["event_name"], "ImportCertificate", "event_name")
    cert_x = _sql(d, "SELECT xmin::text FROM certificates WHERE arn = '%s'"
                  % arn)
    ev_x = _sql(d, "SELECT xmin::text FROM audit_events WHERE request_id = "
                "'%s'" % rid)
    eq(ev_x, cert_x, "transaction of the ImportCertificate event (xmin) "
       "and of the certificate row")

    rid, _ = _ok(c, "AddTagsToCertificate", {"CertificateArn": arn, "Tags": [
        {"Key": "Audited", "Value": "yes"}]})
    _event(d, rid)
    tag_x = _sql(d, "SELECT t.xmin::text FROM certificate_tags t JOIN "
                 "certificates c ON c.id = t.certificate_id WHERE c.arn = "
                 "'%s' AND t.key = 'Audited'" % arn)
    ev_x = _sql(d, "SELECT xmin::text FROM audit_events WHERE request_id = "
                "'%s'" % rid)
    eq(ev_x, tag_x, "transaction of the AddTagsToCertificate event and of "
       "the tag row")

    rid, _ = _ok(c, "DeleteCertificate", _arn_body(arn))
    ev = _event(d, rid)
    eq((ev["event_name"], ev["certificate_arn"], ev["read_only"]),
       ("DeleteCertificate", arn, False), "DeleteCertificate event")
    eq(_sql(d, "SELECT count(*) FROM certificates WHERE arn = '%s'" % arn),
       [["0"]], "certificate deleted")


# ------------------------------------------------------------ failed calls

def test_failed_calls_are_recorded_before_the_answer(ctx):
    d, c = ctx.m.d, ctx.m.c
    lf, arn, _ = _import(c, ("fail.audit.example.com",))
    unknown = ("arn:aws:acm:us-east-1:123456789012:certificate/"
               "00000000-0000-4000-8000-000000000000")
    # Another key slot: leaves of one slot share their key.
    other = certs.leaf(("other.audit.example.com",), slot="audit-other")
    bad_import = lf.import_body()
    bad_import["Certificate"] = b64(other.cert_pem)     # key does not match
    failures = [
        ("DescribeCertificate", {}, "ValidationException", None),
        ("DescribeCertificate",
         {"CertificateArn": "this-is-not-an-arn-at-all"},
         "InvalidArnException", None),
        ("GetCertificate", _arn_body(unknown), "ResourceNotFoundException",
         unknown),
        ("DescribeCertificate", {"CertificateArn": 17},
         "SerializationException", None),
        ("ListCertificates", {"MaxItems": 0}, "ValidationException", None),
        ("DeleteCertificate", _arn_body(unknown),
         "ResourceNotFoundException", unknown),
        ("AddTagsToCertificate", {"CertificateArn": arn, "Tags": [
            {"Key": "x" * 200, "Value": "v"}]}, "ValidationException", arn),
        ("ImportCertificate", bad_import, "ValidationException", None),
        ("ListBindings", {"MaxItems": "many"}, "SerializationException",
         None),
    ]
    for action, body, exc, ev_arn in failures:
        prefix = EXT if action == "ListBindings" else ACM
        rid, doc = _fail(c, action, body, exc, prefix)
        ev = _event(d, rid)         # right after the answer: no polling
        what = "failed %s event" % action
        eq(ev["event_name"], action, what + ": event_name")
        eq(ev["error_code"], exc, what + ": error_code")
        eq(ev["error_message"], doc["message"], what + ": error_message")
        eq(ev["certificate_arn"], ev_arn, what + ": certificate_arn")
        eq(ev["response_elements"], None, what + ": response_elements")
        eq(ev["user_agent"], UA, what + ": user_agent")
        _check_root(ctx, ev, what)
        for m in SECRET_MEMBERS:
            check(m not in ev["request_params"],
                  "%s: request_params has %s" % (what, m))

    # A body that is not a JSON object: refused before any handler, and
    # still recorded before the answer.
    for data in (b"[1, 2, 3]", b"{not json", b'"a string"'):
        st, rid, doc = _raw(c, "DescribeCertificate", data)
        eq((st, doc.get("__type")), (400, "SerializationException"),
           "answer to body %r" % data)
        ev = _event(d, rid)
        eq((ev["event_name"], ev["error_code"], ev["error_message"],
            ev["request_params"]),
           ("DescribeCertificate", "SerializationException", doc["message"],
            {}), "event of body %r" % data)
        _check_root(ctx, ev, "SerializationException event")
    # Nothing was imported by the failed import.
    eq(_sql(d, "SELECT count(*) FROM certificates WHERE arn IN (SELECT "
            "certificate_arn FROM audit_events WHERE event_name = "
            "'ImportCertificate' AND error_code IS NOT NULL)"), [["0"]],
       "certificates of failed imports")


# ---------------------------------------------------------------- reads

def test_lookup_events_right_after_a_read_shows_it(ctx):
    d, c = ctx.m.d, ctx.m.c
    _, arn, _ = _import(c, ("read.audit.example.com",))
    reads = [("DescribeCertificate", _arn_body(arn), ACM),
             ("GetCertificate", _arn_body(arn), ACM),
             ("ListTagsForCertificate", _arn_body(arn), ACM),
             ("ListCertificates", {}, ACM),
             ("GetAccountConfiguration", {}, ACM),
             ("ListBindings", {}, EXT)]
    for i in range(30):
        action, body, prefix = reads[i % len(reads)]
        rid, _ = _ok(c, action, body, prefix)
        if i % 2 == 0:
            q = {"LookupAttributes": [{"AttributeKey": "EventName",
                                       "AttributeValue": action}],
                 "MaxResults": 50}
        else:
            q = {"MaxResults": 5}
        doc = _lookup(c, q)
        found = [e for e in doc["Events"] if _rid_of(e) == rid]
        eq(len(found), 1, "LookupEvents right after %s (round %d): events "
           "of request %s" % (action, i, rid))
        eq(found[0]["EventName"], action, "EventName")
        eq(found[0]["ReadOnly"], "true", "ReadOnly of a read")
    # A direct look at the table may have to wait a moment for a read.
    rid, _ = _ok(c, "DescribeCertificate", _arn_body(arn))
    ev = _wait_event(d, rid)
    eq((ev["event_name"], ev["read_only"], ev["certificate_arn"],
        ev["error_code"], ev["response_elements"]),
       ("DescribeCertificate", True, arn, None, None), "read event")
    eq(ev["request_params"], {"CertificateArn": arn}, "request_params")
    _check_root(ctx, ev, "read event")


def test_record_reads_off_records_changes_and_failures_only(ctx):
    d = ctx.new_daemon("noreads", extra={"audit": {"record_reads": "no"}})
    c = d.client
    try:
        _, arn, import_rid = _import(c, ("noreads.audit.example.com",))
        eq(_event(d, import_rid)["event_name"], "ImportCertificate",
           "change recorded")
        reads = [_ok(c, "DescribeCertificate", _arn_body(arn))[0],
                 _ok(c, "GetCertificate", _arn_body(arn))[0],
                 _ok(c, "ListCertificates", {})[0]]
        fail_rid, _ = _fail(c, "DescribeCertificate", _arn_body(
            arn[:-12] + "000000000000"), "ResourceNotFoundException")
        ev = _event(d, fail_rid)
        eq(ev["error_code"], "ResourceNotFoundException", "failed read")
        # LookupEvents waits for whatever is queued: after it nothing can
        # still be on its way.
        look_rid, doc = _ok(c, "LookupEvents", {}, prefix=EXT)
        seen = {_rid_of(e) for e in doc["Events"]}
        check(import_rid in seen and fail_rid in seen,
              "LookupEvents shows the change and the failure")
        for r in reads:
            check(r not in seen, "successful read %s in LookupEvents" % r)
        time.sleep(0.5)
        eq(_events(d, reads + [look_rid]), [],
           "events of successful reads with record_reads = no")
        # The journal still has its line per call.
        for r in reads + [look_rid, fail_rid, import_rid]:
            eq(len(_journal(d, r)), 1, "journal lines of request %s" % r)
    finally:
        d.stop()


# ------------------------------------------------------- graceful stop

def _burst(d, arn, total, threads, stop_after=None):
    """total DescribeCertificate calls from several threads; if stop_after
    is set, SIGTERM the daemon once that many are answered while the others
    are still going. Returns the request ids of the calls answered 200."""
    lock = threading.Lock()
    state = {"next": 0, "answered": [], "errors": [], "other": []}
    stopped = threading.Event()

    def worker():
        cl = harness.AcmClient(d.socket, timeout=30)
        while True:
            with lock:
                if state["next"] >= total:
                    return
                state["next"] += 1
            try:
                st, hdrs, doc = cl.call("DescribeCertificate",
                                        _arn_body(arn),
                                        headers={"User-Agent": UA},
                                        check_request_id=False)
            except Exception as e:      # noqa: BLE001 - after SIGTERM
                with lock:
                    state["errors"].append(repr(e))
                if stopped.is_set():
                    return
                continue
            with lock:
                if st == 200:
                    state["answered"].append(hdrs["x-amzn-requestid"])
                else:
                    state["other"].append((st, doc))
                n = len(state["answered"])
            if stop_after is not None and n >= stop_after and \
                    not stopped.is_set():
                stopped.set()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    if stop_after is not None:
        check(stopped.wait(60), "the burst did not get going")
        eq(d.stop(timeout=30), 0, "exit status after SIGTERM")
    for t in ts:
        t.join(60)
    if stop_after is None:
        check(not state["errors"], "burst errors: %s" % state["errors"][:3])
        check(not state["other"], "burst answers: %s" % state["other"][:3])
    return state["answered"], state


def _count_reads(d, arn):
    rows = _sql(d, "SELECT request_id FROM audit_events WHERE event_name = "
                "'DescribeCertificate' AND error_code IS NULL AND "
                "certificate_arn = '%s'" % arn)
    return [r[0] for r in rows]


def test_graceful_stop_stores_every_queued_read_event(ctx):
    d = ctx.new_daemon("stop")
    try:
        _, arn, _ = _import(d.client, ("stop.audit.example.com",))
        answered, _ = _burst(d, arn, 300, 8)
        eq(len(answered), 300, "answered calls")
        eq(d.stop(timeout=30), 0, "exit status after SIGTERM")
        stored = _count_reads(d, arn)
        eq(len(stored), len(answered), "DescribeCertificate events stored "
           "by a graceful stop right after a burst of answered reads")
        eq(sorted(stored), sorted(answered), "their request ids")
        check("could not be stored" not in d.stderr_text(),
              "a read event was not stored")
    finally:
        d.stop()


test_graceful_stop_stores_every_queued_read_event.time_limit = 180


def test_graceful_stop_during_a_burst_loses_no_answered_read(ctx):
    d = ctx.new_daemon("stopmid")
    try:
        _, arn, _ = _import(d.client, ("stopmid.audit.example.com",))
        answered, state = _burst(d, arn, 600, 8, stop_after=150)
        check(150 <= len(answered) < 600, "answered %d calls of 600: the "
              "stop came during the burst" % len(answered))
        stored = _count_reads(d, arn)
        eq(sorted(stored), sorted(answered), "events of the "
           "DescribeCertificate calls answered 200 before and during the "
           "stop (%d answered, %d refused or cut off)"
           % (len(answered), len(state["errors"])))
    finally:
        d.stop()


test_graceful_stop_during_a_burst_loses_no_answered_read.time_limit = 180


# ------------------------------------------------------- caller identity

def _socket_reachable_by_others(path):
    """Every folder above the socket searchable by others, the socket
    writable by them."""
    p = os.path.dirname(path)
    while True:
        if not os.stat(p).st_mode & stat.S_IXOTH:
            return False, p
        if p == "/":
            break
        p = os.path.dirname(p)
    return bool(os.stat(path).st_mode & stat.S_IWOTH), path


def _parse_responses(data):
    """HTTP responses one after the other (curl -D - with --next):
    [(status, headers, body)]."""
    out = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("iso-8859-1").split("\r\n")
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", len(data)))
        out.append((int(lines[0].split()[1]), hdrs, data[:n]))
        data = data[n:]
    return out


def _curl_as_nobody(d, action, body, prefix=ACM, wait_stored=False):
    """A call made by curl running as nobody. Returns (status, rid, doc,
    pid): the shell prints its pid, then becomes curl (exec keeps it).
    wait_stored: curl then calls LookupEvents on the same connection, which
    waits for the first call's event to be stored, so that curl is still
    alive when the event of a successful read is built."""
    script = ('echo "$$"; exec curl -sS -D - --unix-socket "$0" '
              '-H "X-Amz-Target: $1" '
              '-H "Content-Type: application/x-amz-json-1.1" '
              '--data-binary "$2" http://localhost/')
    if wait_stored:
        # Options do not carry over --next.
        script += (' --next -sS -D - '
                   '-H "X-Amz-Target: CertFleet.LookupEvents" '
                   '-H "Content-Type: application/x-amz-json-1.1" '
                   '--data-binary "{\\"MaxResults\\": 1}" '
                   '--unix-socket "$0" http://localhost/')
    r = subprocess.run(["runuser", "-u", "nobody", "--", "/bin/sh", "-c",
                        script, d.socket, "%s.%s" % (prefix, action),
                        json.dumps(body)], capture_output=True, timeout=30,
                       cwd="/")
    check(r.returncode == 0, "curl as nobody exited %d: %s %s" % (
        r.returncode, r.stdout[-500:], r.stderr.decode(errors="replace")))
    pid_line, rest = r.stdout.split(b"\n", 1)
    answers = _parse_responses(rest)
    eq(len(answers), 2 if wait_stored else 1, "curl's answers")
    if wait_stored:
        eq(answers[1][0], 200, "curl's LookupEvents: %r" % (answers[1],))
    status, hdrs, payload = answers[0]
    rid = hdrs.get("x-amzn-requestid", "")
    check(RID_RE.match(rid), "curl: request id %r" % rid)
    return status, rid, json.loads(payload), int(pid_line)


def test_caller_identity_root_and_another_user(ctx):
    d, c = ctx.m.d, ctx.m.c
    ok, where = _socket_reachable_by_others(d.socket)
    check(ok, "the control socket is not reachable by other users at %s "
          "(mode %o)" % (where, os.stat(where).st_mode))
    _, arn, rid = _import(c, ("who.audit.example.com",))
    _check_root(ctx, _event(d, rid), "root's ImportCertificate")
    rid, _ = _ok(c, "DescribeCertificate", _arn_body(arn))
    _check_root(ctx, _wait_event(d, rid), "root's DescribeCertificate")

    nobody = []
    # A change, checked at once.
    st, rid, doc, pid = _curl_as_nobody(d, "AddTagsToCertificate", {
        "CertificateArn": arn, "Tags": [{"Key": "By", "Value": "nobody"}]})
    eq(st, 200, "nobody's AddTagsToCertificate: %s" % doc)
    ev = _event(d, rid)
    _check_identity(ev, NOBODY_UID, NOBODY_UID, pid, "nobody", "curl",
                    "nobody's AddTagsToCertificate")
    check((ev["user_agent"] or "").startswith("curl/"),
          "curl's user agent: %r" % ev["user_agent"])
    nobody.append(rid)
    # A failure, checked at once.
    st, rid, doc, pid = _curl_as_nobody(d, "DescribeCertificate", {
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
        "00000000-0000-4000-8000-00000000beef"})
    eq((st, doc.get("__type")), (400, "ResourceNotFoundException"),
       "nobody's DescribeCertificate of an unknown ARN")
    ev = _event(d, rid)
    _check_identity(ev, NOBODY_UID, NOBODY_UID, pid, "nobody", "curl",
                    "nobody's failed DescribeCertificate")
    eq(ev["error_code"], "ResourceNotFoundException", "error_code")
    nobody.append(rid)
    # Successful reads: their events are built after the answer, so curl
    # stays (a LookupEvents on the same connection) until they are stored;
    # see test_read_event_keeps_the_process_name_of_a_caller_that_left for
    # a caller that does not.
    for action, body in (("ListCertificates", {}),
                         ("DescribeCertificate", _arn_body(arn)),
                         ("ListTagsForCertificate", _arn_body(arn))):
        st, rid, doc, pid = _curl_as_nobody(d, action, body,
                                            wait_stored=True)
        eq(st, 200, "nobody's %s: %s" % (action, doc))
        ev = _wait_event(d, rid)
        _check_identity(ev, NOBODY_UID, NOBODY_UID, pid, "nobody", "curl",
                        "nobody's %s" % action)
        nobody.append(rid)

    # LookupEvents by user name, or by uid.
    for who in ("nobody", str(NOBODY_UID)):
        evs, _ = _lookup_all(c, {"LookupAttributes": [{
            "AttributeKey": "Username", "AttributeValue": who}]})
        got = {_rid_of(e) for e in evs}
        check(set(nobody) <= got, "Username=%s misses nobody's calls" % who)
        for e in evs:
            eq(e.get("Username"), "nobody", "Username of an event found by "
               "Username=%s" % who)
            eq(_trail(e)["userIdentity"]["uid"], NOBODY_UID, "uid")
    evs, _ = _lookup_all(c, {"LookupAttributes": [{
        "AttributeKey": "Username", "AttributeValue": "root"}]})
    check(evs, "Username=root finds nothing")
    check(not set(nobody) & {_rid_of(e) for e in evs},
          "Username=root finds nobody's calls")
    for e in evs:
        eq(e.get("Username"), "root", "Username of root's events")
    # The journal names the caller's uid.
    for rid in nobody:
        lines = _journal(d, rid)
        eq(len(lines), 1, "journal lines of nobody's request %s" % rid)
        m = JOURNAL_RE.search(lines[0])
        check(m and m.group(2) == str(NOBODY_UID),
              "journal line: %r" % lines[0])


# ------------------------------------------------------------- secrets

def test_request_parameters_omit_secrets(ctx):
    d, c = ctx.m.d, ctx.m.c
    passphrase = "audit-pass-" + secrets.token_hex(12)
    lf = certs.leaf(("secret.audit.example.com",), slot="audit-secret")
    tags = [{"Key": "Env", "Value": "Prod"}]
    body = lf.import_body(Tags=tags, Passphrase=b64(passphrase))
    rid, doc = _ok(c, "ImportCertificate", body)
    arn = doc["CertificateArn"]
    ev = _event(d, rid)
    eq(ev["request_params"], {"Tags": tags}, "ImportCertificate "
       "request_params (no certificate, chain, key or passphrase)")
    eq(ev["response_elements"], {"CertificateArn": arn},
       "ImportCertificate response_elements")
    eq(ev["certificate_arn"], arn, "certificate_arn")
    # A reimport names the ARN in the request.
    rid, _ = _ok(c, "ImportCertificate", lf.import_body(
        CertificateArn=arn, Passphrase=passphrase))
    ev = _event(d, rid)
    eq(ev["request_params"], {"CertificateArn": arn}, "reimport params")
    eq(ev["response_elements"], {"CertificateArn": arn}, "reimport response")
    # Failed imports: an encrypted key with its passphrase, a key that
    # does not match.
    bad = lf.import_body(Passphrase=passphrase)
    bad["PrivateKey"] = b64(lf.encrypted_key_pem(passphrase.encode()))
    rid, _ = _fail(c, "ImportCertificate", bad, "ValidationException")
    eq(_event(d, rid)["request_params"], {}, "failed import params")
    bad = lf.import_body(Passphrase=passphrase, Tags=tags)
    bad["Certificate"] = b64(certs.leaf(("x.audit.example.com",),
                                        slot="audit-other").cert_pem)
    rid, _ = _fail(c, "ImportCertificate", bad, "ValidationException")
    ev = _event(d, rid)
    eq(ev["request_params"], {"Tags": tags}, "failed import params")
    eq(ev["response_elements"], None, "failed import response")
    # Reads that would carry secrets if they were echoed.
    rid, _ = _ok(c, "GetCertificate", _arn_body(arn))
    ev = _wait_event(d, rid)
    eq(ev["response_elements"], None, "GetCertificate response_elements")
    evs, _ = _lookup_all(c, {"LookupAttributes": [{
        "AttributeKey": "ResourceName", "AttributeValue": arn}]})
    check(len(evs) >= 3, "LookupEvents by ARN: %d events" % len(evs))

    key_lines = []
    for fmt in ("pkcs8", "traditional"):
        key_lines += certs.key_pem(lf.key, fmt).decode().splitlines()[1:-1]
    marks = [("private key base64 line %d" % i, ln)
             for i, ln in enumerate(key_lines) if len(ln) >= 40]
    enc = lf.encrypted_key_pem(passphrase.encode()).decode().splitlines()
    marks += [("encrypted key line", ln) for ln in enc[1:-1] if len(ln) >= 40]
    marks += [("passphrase", passphrase), ("passphrase base64",
                                           b64(passphrase)[:20]),
              ("key PEM base64", b64(lf.key_pem)[100:160])]
    lookups = json.dumps(evs)
    found = []
    for where, text in (("pg_dump", d.cluster.pg_dump(d.dbname)),
                        ("daemon stderr", d.stderr_text()),
                        ("LookupEvents", lookups)):
        for what, m in marks:
            if m in text:
                found.append("%s in %s" % (what, where))
    check(not found, "secrets found: " + "; ".join(found))
    check("PRIVATE KEY" not in d.stderr_text(), "a PEM key header in the log")


# ------------------------------------------------------------ LookupEvents

def test_lookup_events_filters(ctx):
    d, c = ctx.m.d, ctx.m.c
    _, a, ra = _import(c, ("filter-a.audit.example.com",))
    _, b, rb = _import(c, ("filter-b.audit.example.com",))
    mine = {ra: a, rb: b}
    for arn in (a, b, a):
        rid, _ = _ok(c, "AddTagsToCertificate", {"CertificateArn": arn,
                                                 "Tags": [{"Key": "F"}]})
        mine[rid] = arn
        rid, _ = _ok(c, "DescribeCertificate", _arn_body(arn))
        mine[rid] = arn
    rid, _ = _fail(c, "RemoveTagsFromCertificate", {"CertificateArn": a,
                                                    "Tags": []},
                   "ValidationException")
    mine[rid] = a

    def sql_ids(where):
        return sorted(r[0] for r in _sql(
            d, "SELECT event_id::text FROM audit_events WHERE " + where))

    def by(key, value):
        evs, _ = _lookup_all(c, {"LookupAttributes": [{
            "AttributeKey": key, "AttributeValue": value}]}, page=20)
        return evs

    # ResourceName: every event about the certificate, and only those.
    for arn in (a, b):
        evs = by("ResourceName", arn)
        want = sorted(r for r, x in mine.items() if x == arn)
        eq(sorted(_rid_of(e) for e in evs), want,
           "ResourceName=%s: request ids" % arn)
        for e in evs:
            eq(e["Resources"], [{"ResourceType": "AWS::ACM::Certificate",
                                 "ResourceName": arn}], "Resources")
    # EventName.
    evs = by("EventName", "AddTagsToCertificate")
    check(evs, "EventName=AddTagsToCertificate finds nothing")
    for e in evs:
        eq(e["EventName"], "AddTagsToCertificate", "EventName")
    eq(sorted(e["EventId"] for e in evs),
       sql_ids("event_name = 'AddTagsToCertificate'"),
       "EventName=AddTagsToCertificate: event ids")
    # ReadOnly: true and false split the trail.
    evs_t, evs_f = by("ReadOnly", "true"), by("ReadOnly", "false")
    check(all(e["ReadOnly"] == "true" for e in evs_t), "ReadOnly=true")
    check(all(e["ReadOnly"] == "false" for e in evs_f), "ReadOnly=false")
    eq(sorted(e["EventId"] for e in evs_f), sql_ids("NOT read_only"),
       "ReadOnly=false: event ids")
    check({r for r in mine if "Describe" in _event(d, r)["event_name"]} <=
          {_rid_of(e) for e in evs_t}, "ReadOnly=true misses the reads")
    upper = by("ReadOnly", "TRUE")
    check(all(e["ReadOnly"] == "true" for e in upper), "ReadOnly=TRUE")
    check({e["EventId"] for e in evs_t} <= {e["EventId"] for e in upper},
          "ReadOnly is case-insensitive")
    # EventId: exactly that event.
    ev = _event(d, ra)
    evs = by("EventId", ev["event_id"])
    eq([e["EventId"] for e in evs], [ev["event_id"]], "EventId lookup")
    e = evs[0]
    eq((e["EventName"], e["ReadOnly"], e["EventSource"], e["Username"]),
       ("ImportCertificate", "false", "acm.certfleet", "root"),
       "the event's members")
    check(isinstance(e["EventTime"], int) and
          abs(e["EventTime"] - time.time()) < 300, "EventTime %r"
          % e["EventTime"])
    t = _trail(e)
    eq((t["eventVersion"], t["eventID"], t["eventName"], t["eventSource"],
        t["readOnly"], t["sourceIPAddress"], t["userAgent"], t["requestID"],
        t["hostName"], t["errorCode"], t["responseElements"]),
       ("1.0", ev["event_id"], "ImportCertificate", "acm.certfleet", False,
        "unix", UA, ra, HOST, None, {"CertificateArn": a}),
       "CloudTrailEvent")
    eq(t["userIdentity"], {"type": "UnixUser", "uid": 0, "gid": 0,
                           "userName": "root", "pid": os.getpid(),
                           "processName": ctx.m.me}, "userIdentity")
    eq(by("EventId", "00000000-0000-4000-8000-000000000000"), [],
       "unknown EventId")
    eq(by("EventName", "NoSuchAction"), [], "unknown EventName")
    # The failure carries its error.
    t = _trail(by("EventName", "RemoveTagsFromCertificate")[0])
    eq(t["errorCode"], "ValidationException", "errorCode")
    check(t["errorMessage"], "errorMessage")


def _next_second(margin=0.3):
    """Sleeps past the next whole second (plus margin); returns it."""
    t = int(time.time()) + 1
    time.sleep(max(0.0, t + margin - time.time()))
    return t


def test_lookup_events_time_range(ctx):
    d, c = ctx.m.d, ctx.m.c
    _, arn, before = _import(c, ("time.audit.example.com",))
    _event(d, before)
    t0 = _next_second()
    window = [_ok(c, "AddTagsToCertificate", {"CertificateArn": arn,
                                              "Tags": [{"Key": "T"}]})[0],
              _ok(c, "DescribeCertificate", _arn_body(arn))[0],
              _fail(c, "GetCertificate", {}, "ValidationException")[0]]
    wait_for(lambda: len(_events(d, window)) == len(window), 10,
             what="the window's events")
    t1 = _next_second()
    evs, walk = _lookup_all(c, {"StartTime": t0, "EndTime": t1})
    eq(sorted(_rid_of(e) for e in evs), sorted(window),
       "events between StartTime and EndTime")
    for e in evs:
        check(t0 <= e["EventTime"] <= t1, "EventTime %r outside [%d, %d]"
              % (e["EventTime"], t0, t1))
    evs, _ = _lookup_all(c, {"StartTime": t0})
    got = {_rid_of(e) for e in evs}
    check(set(window) <= got and before not in got,
          "StartTime alone: window in, earlier call out")
    evs, _ = _lookup_all(c, {"EndTime": t0})
    got = {_rid_of(e) for e in evs}
    check(before in got and not set(window) & got,
          "EndTime alone: earlier call in, window out")
    # A time range newer than any event.
    eq(_lookup(c, {"StartTime": t1 + 3600})["Events"], [], "future range")


def test_lookup_events_pagination_visits_every_event_once(ctx):
    d, c = ctx.m.d, ctx.m.c
    _, arn, _ = _import(c, ("pages.audit.example.com",))
    for i in range(23):
        _ok(c, "DescribeCertificate" if i % 3 else "ListTagsForCertificate",
            _arn_body(arn))
    # One certificate's events: 24, on pages of 5.
    q = {"LookupAttributes": [{"AttributeKey": "ResourceName",
                               "AttributeValue": arn}]}
    want = [r[0] for r in _sql(
        d, "SELECT event_id::text FROM audit_events WHERE certificate_arn = "
        "'%s' ORDER BY event_time DESC, event_id DESC" % arn)]
    eq(len(want), 24, "events of the certificate")
    for page in (1, 5, 24, 50):
        evs, walk = _lookup_all(c, q, page=page)
        eq([e["EventId"] for e in evs], want, "ResourceName pages of %d, "
           "newest first" % page)
        eq(len(walk), -(-24 // page), "pages of %d" % page)
    # The whole trail, on pages of 7: each event once, newest first; only
    # the walk's own events (stored after each page's answer) are newer.
    evs, walk = _lookup_all(c, {}, page=7)
    wait_for(lambda: len(_events(d, walk)) == len(walk), 10,
             what="the walk's own events")
    rows = _sql(d, "SELECT event_id::text, request_id FROM audit_events "
                "ORDER BY event_time DESC, event_id DESC")
    walk_set = set(walk)
    want = [eid for eid, rid in rows if rid not in walk_set]
    got = [e["EventId"] for e in evs]
    eq(len(set(got)), len(got), "events repeated across pages")
    eq(got, want, "whole trail on pages of 7 (%d events)" % len(want))
    times = [e["EventTime"] for e in evs]
    eq(times, sorted(times, reverse=True), "EventTime newest first")
    check(len(walk) >= 3, "the trail spans %d pages" % len(walk))


def test_lookup_events_rejects_bad_input(ctx):
    d, c = ctx.m.d, ctx.m.c
    attr = {"AttributeKey": "EventName", "AttributeValue": "x"}
    cases = [
        ({"MaxResults": 0}, "ValidationException"),
        ({"MaxResults": 51}, "ValidationException"),
        ({"MaxResults": "ten"}, "SerializationException"),
        ({"LookupAttributes": [attr, attr]}, "ValidationException"),
        ({"LookupAttributes": [{"AttributeKey": "Color",
                                "AttributeValue": "x"}]},
         "ValidationException"),
        ({"LookupAttributes": [{"AttributeKey": "EventName"}]},
         "ValidationException"),
        ({"LookupAttributes": [{"AttributeKey": "EventName",
                                "AttributeValue": ""}]},
         "ValidationException"),
        ({"LookupAttributes": [{"AttributeKey": "EventName",
                                "AttributeValue": "x" * 2001}]},
         "ValidationException"),
        ({"LookupAttributes": ["EventName"]}, "SerializationException"),
        ({"LookupAttributes": "EventName"}, "SerializationException"),
        ({"StartTime": "yesterday"}, "SerializationException"),
        ({"EndTime": [1]}, "SerializationException"),
        ({"NextToken": ""}, "ValidationException"),
        ({"NextToken": "x" * 1001}, "ValidationException"),
        ({"NextToken": "not a token!"}, "InvalidNextTokenException"),
        ({"NextToken": base64.b64encode(b"hello").decode()},
         "InvalidNextTokenException"),
    ]
    for body, exc in cases:
        rid, doc = _fail(c, "LookupEvents", body, exc, prefix=EXT)
        ev = _event(d, rid)         # a failure: stored before the answer
        eq((ev["event_name"], ev["error_code"], ev["error_message"],
            ev["read_only"]),
           ("LookupEvents", exc, doc["message"], True),
           "event of LookupEvents %s" % json.dumps(body)[:80])
    # An empty LookupAttributes list is no filter.
    eq(len(_lookup(c, {"LookupAttributes": [], "MaxResults": 3})["Events"]),
       3, "LookupAttributes []")


def test_lookup_events_cli(ctx):
    d, c = ctx.m.d, ctx.m.c
    _, arn, _ = _import(c, ("cli.audit.example.com",))
    for _ in range(4):
        _ok(c, "DescribeCertificate", _arn_body(arn))
    binary = harness.certfleet_path()
    check(os.access(binary, os.X_OK), "CLI binary %s is missing" % binary)
    r = harness.run_cmd([binary, "--socket", d.socket, "lookup-events",
                         "--lookup-attributes",
                         "AttributeKey=ResourceName,AttributeValue=" + arn,
                         "--page-size", "2"])
    check(r.returncode == 0, "certfleet lookup-events exited %d: %s" % (
        r.returncode, r.stderr.decode(errors="replace")))
    out = json.loads(r.stdout.decode())
    evs = out.get("Events")
    check(isinstance(evs, list), "lookup-events output %r" % out)
    api, _ = _lookup_all(c, {"LookupAttributes": [{
        "AttributeKey": "ResourceName", "AttributeValue": arn}]})
    eq([e["EventId"] for e in evs], [e["EventId"] for e in api],
       "certfleet lookup-events (pages of 2) against the API")
    eq(len(evs), 5, "events of the certificate")
    eq([e["EventName"] for e in evs], ["DescribeCertificate"] * 4 +
       ["ImportCertificate"], "newest first")
    check("NextToken" not in out, "a NextToken after all pages")
    # The CLI's own calls are recorded, as certfleet's.
    evs, _ = _lookup_all(c, {"LookupAttributes": [{
        "AttributeKey": "EventName", "AttributeValue": "LookupEvents"}]})
    cli_evs = [_trail(e) for e in evs
               if _trail(e)["requestParameters"].get("LookupAttributes") ==
               [{"AttributeKey": "ResourceName", "AttributeValue": arn}] and
               _trail(e)["userIdentity"]["pid"] != os.getpid()]
    eq(len(cli_evs), 3, "events of the CLI's 3 LookupEvents pages")
    for t in cli_evs:
        eq(t["requestParameters"].get("MaxResults"), 2, "page size")
        eq(t["userIdentity"]["uid"], 0, "CLI caller uid")


# -------------------------------------------------------------- journal

def test_journal_has_one_line_per_call(ctx):
    d, c = ctx.m.d, ctx.m.c
    _, arn, r_imp = _import(c, ("journal.audit.example.com",))
    calls = [("ImportCertificate", r_imp),
             ("DescribeCertificate",
              _ok(c, "DescribeCertificate", _arn_body(arn))[0]),
             ("AddTagsToCertificate",
              _ok(c, "AddTagsToCertificate", {"CertificateArn": arn,
                                              "Tags": [{"Key": "J"}]})[0]),
             ("GetCertificate",
              _fail(c, "GetCertificate", {"CertificateArn": "x" * 30},
                    "InvalidArnException")[0]),
             ("LookupEvents", _ok(c, "LookupEvents", {}, prefix=EXT)[0]),
             ("DeleteCertificate",
              _ok(c, "DeleteCertificate", _arn_body(arn))[0])]
    for action, rid in calls:
        lines = _journal(d, rid)
        eq(len(lines), 1, "journal lines of %s %s" % (action, rid))
        m = JOURNAL_RE.search(lines[0])
        check(m, "journal line %r" % lines[0])
        eq((m.group(1), m.group(2), m.group(3)),
           (action, "0", str(os.getpid())), "journal line of %s" % action)
        check("AUDIT_EVENT=%s" % action in lines[0], "AUDIT_EVENT field")
    failed = _journal(d, calls[3][1])[0]
    check("InvalidArnException" in failed, "failure's journal line: %r"
          % failed)


# ------------------------------------------------------------------------
# Bugs these tests found once, kept as regression tests.

def _held_lock(d, seconds):
    """A psql session holding a SHARE lock on audit_events for `seconds`:
    every INSERT into it waits meanwhile. Returns the Popen once the lock
    is held."""
    cl = d.cluster
    cmd = [harness.PG_BINDIR + "/psql", "-h", cl.sockdir, "-p", str(cl.port),
           "-U", "postgres", "-d", d.dbname, "-X", "-q", "-v",
           "ON_ERROR_STOP=1", "-c", "BEGIN", "-c",
           "LOCK TABLE audit_events IN SHARE MODE", "-c",
           "SELECT pg_sleep(%s)" % seconds, "-c", "COMMIT"]
    if cl.as_root:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, cwd="/")
    wait_for(lambda: _sql(d, "SELECT count(*) FROM pg_locks l JOIN pg_class "
                          "c ON c.oid = l.relation WHERE c.relname = "
                          "'audit_events' AND l.mode = 'ShareLock' AND "
                          "l.granted") == [["1"]], 10,
             what="the lock on audit_events")
    return p


def test_read_event_keeps_the_process_name_of_a_caller_that_left(ctx):
    """A successful read is answered before its event is written; the
    caller's process name is read when it connects, so a caller that exits
    in between (curl, the CLI, any short-lived script) keeps its name. A
    held lock on audit_events makes the order certain: the first read's
    group waits on the INSERT, curl's read queues behind it, curl exits,
    then its event is written."""
    d, c = ctx.m.d, ctx.m.c
    _, arn, _ = _import(c, ("gone.audit.example.com",))
    locker = _held_lock(d, 2)
    try:
        first, _ = _ok(c, "DescribeCertificate", _arn_body(arn))
        st, rid, doc, pid = _curl_as_nobody(d, "DescribeCertificate",
                                            _arn_body(arn))
        eq(st, 200, "nobody's DescribeCertificate: %s" % doc)
        check(not os.path.exists("/proc/%d" % pid), "curl is still there")
    finally:
        locker.wait(30)
    _wait_event(d, first)
    ev = _wait_event(d, rid)
    eq((ev["caller_uid"], ev["caller_pid"], ev["caller_user"]),
       (NOBODY_UID, pid, "nobody"), "identity of the read's event")
    eq(ev["caller_process"], "curl", "caller_process of a read by a "
       "caller that has exited since")


def test_lookup_events_next_token_with_a_bad_event_id(ctx):
    """A NextToken that decodes as "ev1:<number>:<36 characters>" whose
    36 characters are not a UUID is InvalidNextTokenException, like any
    other token no response handed out, and never reaches PostgreSQL."""
    c = ctx.m.c
    for raw in (b"ev1:17:" + b"z" * 36, b"ev1:17:" + b"-" * 36):
        _, doc = _fail(c, "LookupEvents", {
            "NextToken": base64.b64encode(raw).decode()},
            "InvalidNextTokenException", prefix=EXT)
        check("database" not in doc["message"],
              "a database message reaches the client: %r" % doc["message"])


def test_lookup_events_time_out_of_range(ctx):
    """StartTime / EndTime outside 0 .. the end of year 9999, or a start
    after the end, are CloudTrail's InvalidTimeRangeException: no
    database text, no undefined float-to-integer conversion."""
    c = ctx.m.c
    for body in ({"StartTime": 1e15}, {"EndTime": 1e15},
                 {"StartTime": 1e30}, {"EndTime": -1e30},
                 {"StartTime": -1},
                 {"StartTime": 2000000000, "EndTime": 1000000000}):
        _, doc = _fail(c, "LookupEvents", body, "InvalidTimeRangeException",
                       prefix=EXT)
        check("database" not in doc["message"],
              "%s: a database message reaches the client: %r"
              % (json.dumps(body), doc["message"]))
    _ok(c, "LookupEvents", {"StartTime": 0, "EndTime": 253402300799},
        prefix=EXT)


def test_event_times_follow_the_calls(ctx):
    """An event's time is when its call arrived, not when a group wrote
    it: a read answered before a change comes before it in the trail."""
    d, c = ctx.m.d, ctx.m.c
    _, arn, _ = _import(c, ("order.audit.example.com",))
    pairs = []
    for i in range(20):
        read, _ = _ok(c, "DescribeCertificate", _arn_body(arn))
        write, _ = _ok(c, "AddTagsToCertificate", {
            "CertificateArn": arn, "Tags": [{"Key": "k%d" % i}]})
        pairs.append((read, write))
    evs = _lookup(c, {"LookupAttributes": [{
        "AttributeKey": "ResourceName", "AttributeValue": arn}],
        "MaxResults": 50})["Events"]
    order = [_rid_of(e) for e in evs]       # newest first
    for read, write in pairs:
        check(read in order and write in order, "both events listed")
        check(order.index(write) < order.index(read),
              "the change after a read is listed as newer than the read")
    rows = _sql(d, "SELECT count(DISTINCT event_time) FROM audit_events "
                "WHERE certificate_arn = '%s'" % arn)
    eq(int(rows[0][0]), 41, "every event has a time of its own")


def test_large_request_parameters_are_recorded_by_size(ctx):
    """A failed call with a huge member is recorded with the size of its
    parameters only, so that one event cannot swell a group write."""
    d, c = ctx.m.d, ctx.m.c
    big = "x" * 200000
    rid, doc = _fail(c, "AddTagsToCertificate", {
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
        "00000000-0000-4000-8000-000000000000",
        "Tags": [{"Key": "k", "Value": big}]}, "ValidationException")
    ev = _event(d, rid)
    params = ev["request_params"]
    check(isinstance(params, dict) and "omitted" in params and
          "bytes" in params["omitted"], "request_params %r" % (params,))


def test_user_agent_that_is_not_utf8(ctx):
    """A change whose User-Agent is Latin-1, not UTF-8, still succeeds and
    is recorded, with the bytes that are not ASCII masked."""
    d, c = ctx.m.d, ctx.m.c
    _, arn, _ = _import(c, ("latin1.audit.example.com",))
    body = json.dumps({"CertificateArn": arn,
                       "Tags": [{"Key": "ua"}]}).encode()
    r = c.request("POST", "/", body, {
        "X-Amz-Target": "%s.AddTagsToCertificate" % ACM,
        "Content-Type": "application/x-amz-json-1.1",
        "User-Agent": "caf\xe9-client/1.0"})    # sent as Latin-1 bytes
    eq(r.status, 200, "AddTagsToCertificate: %s" % r.body[:200])
    rid = r.headers.get("x-amzn-requestid", "")
    eq(_event(d, rid)["user_agent"], "caf?-client/1.0", "user agent")
