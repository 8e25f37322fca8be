"""The AWS JSON 1.1 protocol on the control socket: targets, content types,
malformed and oversized requests, slow clients, SigV4 headers, request ids,
keep-alive and concurrency.  After each abuse the daemon must keep serving."""

import json
import socket
import threading
import time

from harness import (AcmClient, TestFailure, check, eq, read_http_response,
                     request_bytes, unix_connect)

REQUEST_TIMEOUT = 2         # seconds, [control] request_timeout below


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon(extra={"control": {
        "request_timeout": "%ds" % REQUEST_TIMEOUT}})
    ctx.m.c = ctx.m.d.client


def _still_serving(ctx):
    st, _, doc = ctx.m.c.call("ListCertificates", {})
    eq(st, 200, "ListCertificates status after abuse")


def test_unknown_target(ctx):
    c = ctx.m.c
    c.expect_error("NoSuchAction", {}, "UnknownOperationException")
    c.expect_error("ListCertificates", {}, "UnknownOperationException",
                   prefix="OtherService")
    c.expect_error("listcertificates", {}, "UnknownOperationException")


def test_missing_target_header(ctx):
    r = ctx.m.c.request("POST", "/", b"{}",
                        {"Content-Type": "application/x-amz-json-1.1"})
    eq(r.status, 400, "status without X-Amz-Target")
    eq(r.json().get("__type"), "UnknownOperationException", "__type")
    check(r.headers.get("x-amzn-requestid"), "x-amzn-RequestId missing")


def test_content_types(ctx):
    c = ctx.m.c
    st, h, doc = c.call("ListCertificates", {})
    eq(st, 200, "status")
    eq(h.get("content-type"), "application/x-amz-json-1.1",
       "response Content-Type")
    # Plain application/json is accepted as well.
    st, _, doc = c.call("ListCertificates", {},
                        headers={"Content-Type": "application/json"})
    eq(st, 200, "status with Content-Type application/json")
    # Something that is not JSON at all is refused with a JSON error.
    st, _, doc = c.call("ListCertificates", {},
                        headers={"Content-Type": "text/plain"})
    eq(st, 400, "status with Content-Type text/plain")
    check(isinstance(doc, dict) and doc.get("__type") and doc.get("message"),
          "error body %r" % doc)


def test_get_and_other_methods_are_refused(ctx):
    c = ctx.m.c
    for method in ("GET", "PUT", "DELETE"):
        r = c.request(method, "/", b"" if method != "PUT" else b"{}",
                      {"X-Amz-Target": "CertificateManager.ListCertificates"})
        check(400 <= r.status < 500 or r.status == 501,
              "%s / answered %d" % (method, r.status))
    r = c.request("POST", "/some/path", b"{}",
                  {"X-Amz-Target": "CertificateManager.ListCertificates",
                   "Content-Type": "application/x-amz-json-1.1"})
    check(400 <= r.status < 500, "POST /some/path answered %d" % r.status)
    _still_serving(ctx)


def test_malformed_json(ctx):
    c = ctx.m.c
    for body in (b"{", b"{\"MaxItems\": }", b"not json", b"[]", b"\"str\"",
                 b"\xff\xfe{}", b"{\"a\":1}{\"b\":2}"):
        r = c.request("POST", "/", body, {
            "X-Amz-Target": "CertificateManager.ListCertificates",
            "Content-Type": "application/x-amz-json-1.1"})
        eq(r.status, 400, "status for body %r" % body)
        doc = r.json()
        eq(doc.get("__type"), "SerializationException",
           "__type for body %r" % body)
        check(doc.get("message"), "message for body %r" % body)
    _still_serving(ctx)


def test_wrong_member_types(ctx):
    # A member of the wrong JSON type does not deserialize; AWS services
    # answer SerializationException (a value of the right type that breaks
    # a constraint is ValidationException).
    c = ctx.m.c
    c.expect_error("ListCertificates", {"MaxItems": "10"},
                   "SerializationException")
    c.expect_error("DescribeCertificate", {"CertificateArn": ["x"]},
                   "SerializationException")


def test_ten_megabyte_body_gets_a_clean_error(ctx):
    size = 10 * 1024 * 1024
    head = ("POST / HTTP/1.1\r\nHost: localhost\r\n"
            "X-Amz-Target: CertificateManager.ImportCertificate\r\n"
            "Content-Type: application/x-amz-json-1.1\r\n"
            "Content-Length: %d\r\n\r\n" % size).encode()
    payload = b'{"Certificate": "' + b"A" * (size - 20) + b'"}'
    payload = payload[:size].ljust(size, b" ")
    s = unix_connect(ctx.m.d.socket, 20)
    errors = []

    def send():
        try:
            s.sendall(head)
            s.sendall(payload)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=send, daemon=True)
    t0 = time.monotonic()
    t.start()
    try:
        r = read_http_response(s, timeout=20)
    except (ConnectionResetError, BrokenPipeError):
        r = None
    finally:
        s.close()
    t.join(20)
    check(r is not None, "no HTTP response to a 10 MB body (connection "
          "dropped without an answer)")
    check(r.status in (400, 413), "10 MB body answered %d" % r.status)
    check(time.monotonic() - t0 < 15, "10 MB body took too long")
    _still_serving(ctx)


def test_huge_header_and_garbage(ctx):
    c = ctx.m.c
    big = request_bytes("ListCertificates", {},
                        headers={"X-Big": "x" * 100000})
    for data in (big, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 10,
                 b"NONSENSE\r\n\r\n", b"POST / HTTP/9.9\r\n\r\n",
                 b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"):
        try:
            r = c.raw(data, timeout=10, shutdown_write=True)
        except (ConnectionResetError, BrokenPipeError):
            r = None
        if r is not None:
            check(400 <= r.status < 500, "answered %d to %r" % (r.status,
                                                               data[:40]))
        _still_serving(ctx)


def test_silent_client_does_not_block_others_and_is_dropped(ctx):
    idle = unix_connect(ctx.m.d.socket)
    half = unix_connect(ctx.m.d.socket)
    half.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Le")
    try:
        t0 = time.monotonic()
        for _ in range(3):
            st, _, _ = AcmClient(ctx.m.d.socket, timeout=3).call(
                "ListCertificates", {})
            eq(st, 200, "status while another client is silent")
        check(time.monotonic() - t0 < 3, "other clients were slowed down")
        for name, s in (("silent", idle), ("half-sent", half)):
            s.settimeout(REQUEST_TIMEOUT + 8)
            try:
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                raise TestFailure("%s client was not dropped within %ds" % (
                    name, REQUEST_TIMEOUT + 8))
            except ConnectionResetError:
                pass
            check(time.monotonic() - t0 >= REQUEST_TIMEOUT - 1,
                  "%s client dropped before the request timeout" % name)
    finally:
        idle.close()
        half.close()
    _still_serving(ctx)


def test_sigv4_headers_are_accepted(ctx):
    hdrs = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/"
                         "us-east-1/acm/aws4_request, SignedHeaders=content-"
                         "type;host;x-amz-date;x-amz-target, Signature="
                         + "0" * 64,
        "X-Amz-Date": "20240101T000000Z",
        "X-Amz-Security-Token": "FwoGZXIvYXdzEXAMPLETOKEN" * 10,
        "User-Agent": "aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64",
        "amz-sdk-invocation-id": "2b8d6c2a-0000-4000-8000-000000000000",
        "amz-sdk-request": "attempt=1",
    }
    st, _, doc = ctx.m.c.call("ListCertificates", {}, headers=hdrs)
    eq(st, 200, "status with SigV4 headers")
    st, _, doc = ctx.m.c.call("GetAccountConfiguration", {}, headers=hdrs)
    eq(st, 200, "status with SigV4 headers")


def test_request_ids(ctx):
    c = ctx.m.c
    ids = []
    for action in ("ListCertificates", "GetAccountConfiguration",
                   "NoSuchAction", "DescribeCertificate"):
        _, h, _ = c.call(action, {})
        ids.append(h.get("x-amzn-requestid"))
    check(all(ids), "every response has x-amzn-RequestId: %r" % ids)
    eq(len(set(ids)), len(ids), "request ids are distinct")


def test_keep_alive_two_requests_on_one_connection(ctx):
    s = unix_connect(ctx.m.d.socket, 10)
    try:
        for action in ("ListCertificates", "GetAccountConfiguration"):
            s.sendall(request_bytes(action, {}))
            r = read_http_response(s, timeout=10)
            check(r is not None, "connection closed before answering "
                  "the %s request" % action)
            eq(r.status, 200, "%s status on a kept-alive connection" % action)
            json.loads(r.body)
    finally:
        s.close()


def test_concurrent_clients(ctx):
    results = []

    def worker():
        c = AcmClient(ctx.m.d.socket, timeout=15)
        for _ in range(5):
            try:
                st, _, _ = c.call("ListCertificates", {})
                results.append(st)
            except Exception as e:      # noqa: BLE001
                results.append(repr(e))

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    eq(results, [200] * 100, "100 concurrent requests")
