"""Integration-test harness for certfleetd.

Starts what a test needs and stops it again: a throwaway PostgreSQL 15
cluster reachable only through its UNIX socket (PgCluster), the built
certfleetd with a config of the test's own (Daemon), and a client that speaks
ACM's AWS JSON 1.1 protocol over the daemon's control socket (AcmClient).
Everything here uses the Python standard library only; certificates come
from certs.py.

Every process started here is registered in a module-level list so the runner
can stop it even when a test fails half way.
"""

import base64
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Every key type and status, to see the whole inventory in one list call.
ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096",
                 "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
ALL_STATUSES = ["PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED",
                "VALIDATION_TIMED_OUT", "REVOKED", "FAILED"]
ARN_RE = re.compile(r"^arn:aws:acm:us-east-1:123456789012:certificate/"
                    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                    r"[0-9a-f]{12}$")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "WARNING: AddressSanitizer",
                     "ERROR: UndefinedBehaviorSanitizer")

_live = []          # processes/clusters to stop at exit (Daemon, PgCluster)


class TestFailure(AssertionError):
    pass


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode("ascii")


def wait_for(pred, timeout, interval=0.1, what="condition"):
    """Poll pred() until it returns a true value; raise after timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:      # noqa: BLE001 - retried until deadline
            last_exc = e
        time.sleep(interval)
    raise TestFailure("timed out after %.0fs waiting for %s%s" % (
        timeout, what, (": last error %r" % last_exc) if last_exc else ""))


def make_tmpdir(prefix="certfleet-test-"):
    """A temp folder under /tmp, mode 0755 so the postgres user can reach
    the folders we create for it inside."""
    d = tempfile.mkdtemp(prefix=prefix,
                         dir=os.environ.get("CERTFLEET_TEST_TMP", "/tmp"))
    os.chmod(d, 0o755)
    return d


def stop_all():
    """Stop everything still running, newest first."""
    while _live:
        obj = _live.pop()
        try:
            obj.cleanup()
        except Exception:           # noqa: BLE001 - best effort at exit
            pass


# --------------------------------------------------------------- PostgreSQL

class PgCluster:
    """A PostgreSQL 15 cluster on a UNIX socket in a private folder."""

    def __init__(self, basedir, port=None):
        self.dir = os.path.join(basedir, "pg")
        self.data = os.path.join(self.dir, "data")
        self.sockdir = os.path.join(self.dir, "sock")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.port = port or 20000 + secrets_port()
        self.as_root = os.geteuid() == 0
        os.makedirs(self.sockdir, exist_ok=True)
        os.chmod(basedir, 0o755)
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            for p in (self.dir, self.sockdir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)
        self._running = False
        _live.append(self)

    def _run(self, args, timeout=60, check=True, input=None):
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, timeout=timeout,
                           input=input, cwd="/")
        if check and r.returncode != 0:
            raise TestFailure("%s failed (%d): %s %s" % (
                " ".join(args[:2]), r.returncode,
                r.stdout.decode(errors="replace")[-2000:],
                r.stderr.decode(errors="replace")[-2000:]))
        return r

    def init(self):
        self._run([PG_BINDIR + "/initdb", "-D", self.data, "-A", "trust",
                   "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"],
                  timeout=120)
        return self

    def start(self):
        opts = ("-k %s -p %d -c listen_addresses='' -c fsync=off "
                "-c full_page_writes=off -c max_connections=200"
                % (self.sockdir, self.port))
        self._run([PG_BINDIR + "/pg_ctl", "-D", self.data, "-w", "-t", "60",
                   "-l", self.logfile, "-o", opts, "start"], timeout=90)
        self._running = True
        return self

    def stop(self, mode="fast"):
        self._run([PG_BINDIR + "/pg_ctl", "-D", self.data, "-w", "-t", "60",
                   "-m", mode, "stop"], timeout=90)
        self._running = False

    def crash(self):
        self.stop("immediate")

    def restart(self):
        self.stop()
        self.start()

    def is_running(self):
        r = self._run([PG_BINDIR + "/pg_ctl", "-D", self.data, "status"],
                      check=False, timeout=30)
        return r.returncode == 0

    def dsn(self, dbname="postgres"):
        return "host=%s port=%d dbname=%s user=postgres" % (
            self.sockdir, self.port, dbname)

    def psql(self, sql, db="postgres"):
        """Run SQL; return rows as lists of strings."""
        r = self._run([PG_BINDIR + "/psql", "-h", self.sockdir, "-p",
                       str(self.port), "-U", "postgres", "-d", db, "-X",
                       "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                       "-c", sql], timeout=60)
        out = r.stdout.decode()
        return [line.split("\t") for line in out.splitlines() if line != ""]

    def create_db(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s"' % name)
        self.psql('CREATE DATABASE "%s"' % name)
        return name

    def table_counts(self, db):
        """{schema.table: row count} for every user table of db."""
        tables = self.psql(
            "SELECT table_schema || '.' || table_name FROM "
            "information_schema.tables WHERE table_type = 'BASE TABLE' AND "
            "table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY 1", db)
        counts = {}
        for (t,) in tables:
            schema, name = t.split(".", 1)
            rows = self.psql('SELECT count(*) FROM "%s"."%s"' % (schema, name),
                             db)
            counts[t] = int(rows[0][0])
        return counts

    def pg_dump(self, db):
        r = self._run([PG_BINDIR + "/pg_dump", "-h", self.sockdir, "-p",
                       str(self.port), "-U", "postgres", db], timeout=120)
        return r.stdout.decode(errors="replace")

    def cleanup(self):
        if self._running or self.is_running():
            try:
                self.stop("immediate")
            except Exception:       # noqa: BLE001
                pass
        self._running = False


def secrets_port():
    import secrets
    return secrets.randbelow(30000)


# --------------------------------------------------------------- the daemon

DEFAULT_CERTFLEETD = os.path.join(TOP, "_build/src/daemon/certfleetd")
DEFAULT_CERTFLEET = os.path.join(TOP, "_build/src/cli/certfleet")


def certfleetd_path():
    return os.environ.get("CERTFLEETD", DEFAULT_CERTFLEETD)


def certfleet_path():
    return os.environ.get("CERTFLEET", DEFAULT_CERTFLEET)


def render_ini(sections):
    out = []
    for sec, kv in sections.items():
        out.append("[%s]" % sec)
        for k, v in kv.items():
            out.append("%s = %s" % (k, v))
        out.append("")
    return "\n".join(out)


class Daemon:
    """certfleetd in the foreground with a config of the test's own."""

    def __init__(self, cluster, dbname, workdir, extra=None, binary=None):
        self.cluster = cluster
        self.dbname = dbname
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.state = os.path.join(workdir, "state")
        os.makedirs(self.state, mode=0o700, exist_ok=True)
        self.socket = os.path.join(workdir, "control.sock")
        self.config_path = os.path.join(workdir, "certfleetd.conf")
        self.stderr_path = os.path.join(workdir, "certfleetd.stderr")
        self.binary = binary or certfleetd_path()
        self.proc = None
        self.extra = extra or {}
        self.checked_offset = 0     # how far the runner has scanned stderr
        self.problems = []          # unclean exits, for the runner to report
        self.write_config()
        _live.append(self)

    def config_sections(self):
        s = {
            "daemon": {"state_directory": self.state,
                       "host_name": "test-host-1", "log_level": "debug"},
            "database": {"dsn": self.cluster.dsn(self.dbname)},
            "control": {"socket": self.socket},
            "keys": {"master_key_file": os.path.join(self.state,
                                                     "master.key")},
            "identity": {"partition": "aws", "region": "us-east-1",
                         "account": "123456789012"},
            # Off unless a test asks: daemons run side by side here and
            # the default port (127.0.0.1:9469) is one for the whole host.
            "metrics": {"listen": ""},
            # Likewise the approval page (127.0.0.1:9470 by default).
            "public": {"listen": ""},
        }
        for sec, kv in self.extra.items():
            s.setdefault(sec, {}).update(kv)
        return s

    def write_config(self):
        with open(self.config_path, "w") as f:
            f.write(render_ini(self.config_sections()))

    @property
    def client(self):
        return AcmClient(self.socket)

    def start(self, wait=True, timeout=20):
        if not os.access(self.binary, os.X_OK):
            raise TestFailure("daemon binary %s is missing (build first, or "
                              "set CERTFLEETD)" % self.binary)
        errf = open(self.stderr_path, "ab")
        errf.write(b"==== harness: starting %s ====\n" % self.binary.encode())
        errf.flush()
        self.proc = subprocess.Popen(
            [self.binary, "--config", self.config_path],
            stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
            start_new_session=True, cwd=self.dir)
        errf.close()
        # For tests/run's last-resort cleanup if this process is killed.
        with open(os.path.join(self.dir, "certfleetd.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        if wait:
            self.wait_ready(timeout)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=20):
        """Poll the control socket with ListCertificates until it answers
        200; fail early if the daemon exits."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise TestFailure("certfleetd exited with %s before it was "
                                  "ready:\n%s" % (self.proc.returncode,
                                                  self.stderr_tail()))
            try:
                st, _, _ = AcmClient(self.socket, timeout=2).call(
                    "ListCertificates", {}, check_request_id=False)
                if st == 200:
                    return
                last = "HTTP %d" % st
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.1)
        raise TestFailure("certfleetd not ready after %ds (last: %s):\n%s" % (
            timeout, last, self.stderr_tail()))

    def stop(self, timeout=10):
        """SIGTERM, wait, SIGKILL after timeout.  Returns the exit status;
        a clean shutdown exits 0, anything else is recorded as a problem."""
        if self.proc is None:
            return None
        p = self.proc
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
                self.problems.append("did not exit within %ds of SIGTERM"
                                     % timeout)
                self.proc = None
                return p.returncode
            if p.returncode != 0:
                self.problems.append("exited with status %d after SIGTERM"
                                     % p.returncode)
        self.proc = None
        return p.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def restart(self, timeout=20):
        self.stop()
        self.start(timeout=timeout)

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, n=4000):
        return self.stderr_text()[-n:]

    def new_sanitizer_reports(self):
        """Sanitizer reports that appeared since the last call."""
        text = self.stderr_text()
        fresh = text[self.checked_offset:]
        self.checked_offset = len(text)
        hits = []
        for m in SANITIZER_MARKERS:
            i = fresh.find(m)
            if i >= 0:
                hits.append(fresh[max(0, i - 200):i + 1500])
        return hits

    def take_problems(self):
        p, self.problems = self.problems, []
        return p

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.stop()
            except Exception:       # noqa: BLE001
                self.kill9()


# ------------------------------------------------------------ the API client

def unix_connect(path, timeout=10):
    """A connected AF_UNIX stream socket.  A full listen backlog makes a
    non-blocking AF_UNIX connect fail with EAGAIN at once (where a blocking
    one would wait), so retry that until the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
        except BaseException:
            s.close()
            raise


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over an AF_UNIX stream socket."""

    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = unix_connect(self.unix_path, self.timeout)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # lower-cased names
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def read_http_response(sock, timeout=10):
    """Read one HTTP response from a raw socket (Content-Length framing, or
    until EOF).  Returns Response, or None if the peer closed first."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            if not buf:
                return None
            raise TestFailure("connection closed inside response headers: %r"
                              % buf[:200])
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise TestFailure("connection closed inside response body")
            rest += chunk
        return Response(status, headers, rest[:n])
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return Response(status, headers, rest)
        rest += chunk


def request_bytes(action, body, prefix="CertificateManager", headers=None,
                  content_type="application/x-amz-json-1.1"):
    """A complete HTTP request as bytes, for raw sockets."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"Host": "localhost", "Content-Type": content_type,
         "Content-Length": str(len(data))}
    if action is not None:
        h["X-Amz-Target"] = "%s.%s" % (prefix, action)
    h.update(headers or {})
    head = "POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv
                                          for kv in h.items()) + "\r\n"
    return head.encode() + data


class AcmClient:
    """ACM's AWS JSON 1.1 protocol over the control socket."""

    def __init__(self, socket_path, timeout=10):
        self.path = socket_path
        self.timeout = timeout
        self.responses = []         # raw bodies, for "no secret" checks

    def request(self, method="POST", path="/", body=b"", headers=None,
                timeout=None):
        conn = UnixHTTPConnection(self.path, timeout or self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            self.responses.append(data)
            return Response(r.status, hdrs, data)
        finally:
            conn.close()

    def call(self, action, body=None, prefix="CertificateManager",
             headers=None, timeout=None, check_request_id=True):
        """POST an action; returns (status, headers, json or None)."""
        data = json.dumps({} if body is None else body).encode()
        h = {"X-Amz-Target": "%s.%s" % (prefix, action),
             "Content-Type": "application/x-amz-json-1.1"}
        h.update(headers or {})
        r = self.request("POST", "/", data, h, timeout)
        if check_request_id and not r.headers.get("x-amzn-requestid"):
            raise TestFailure("%s: response has no x-amzn-RequestId header"
                              % action)
        try:
            doc = r.json() if r.body else None
        except ValueError:
            raise TestFailure("%s: HTTP %d with a body that is not JSON: %r"
                              % (action, r.status, r.body[:300]))
        return r.status, r.headers, doc

    def ok(self, action, body=None, **kw):
        """call() that must succeed; returns the JSON document."""
        st, _, doc = self.call(action, body, **kw)
        if st != 200:
            raise TestFailure("%s: expected HTTP 200, got %d: %s"
                              % (action, st, doc))
        if not isinstance(doc, dict):
            raise TestFailure("%s: expected a JSON object, got %r"
                              % (action, doc))
        return doc

    def raw(self, data, timeout=None, shutdown_write=False):
        """Send arbitrary bytes on a fresh connection; return the Response
        (None if the daemon closed without answering)."""
        s = unix_connect(self.path, timeout or self.timeout)
        try:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
            return read_http_response(s, timeout or self.timeout)
        finally:
            s.close()

    def expect_error(self, action, body, exception, status=400, **kw):
        """The call must fail with HTTP `status` and __type `exception` (a
        name or a tuple of acceptable names) and carry a message."""
        st, _, doc = self.call(action, body, **kw)
        names = (exception,) if isinstance(exception, str) else exception
        if st != status or not isinstance(doc, dict) or \
                doc.get("__type") not in names:
            raise TestFailure("%s: expected HTTP %d %s, got %d %s" % (
                action, status, "/".join(names), st, json.dumps(doc)[:500]))
        key = "Message" if doc["__type"] == "AccessDeniedException" \
            else "message"
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise TestFailure("%s: %s without a %r field: %s" % (
                action, doc["__type"], key, doc))
        return doc

    # Conveniences used by many tests.

    def import_leaf(self, leaf, tags=None, chain=True, arn=None):
        body = leaf.import_body(chain=chain)
        if tags:
            body["Tags"] = tags
        if arn:
            body["CertificateArn"] = arn
        doc = self.ok("ImportCertificate", body)
        arn_out = doc.get("CertificateArn")
        if not isinstance(arn_out, str) or not ARN_RE.match(arn_out):
            raise TestFailure("ImportCertificate: bad CertificateArn %r"
                              % arn_out)
        return arn_out

    def describe(self, arn):
        return self.ok("DescribeCertificate",
                       {"CertificateArn": arn})["Certificate"]

    def list_all(self, key_types=ALL_KEY_TYPES, statuses=None, page=1000,
                 **extra):
        """Every summary, following NextToken."""
        out = []
        token = None
        for _ in range(10000):
            body = {"MaxItems": page}
            if key_types is not None:
                body["Includes"] = {"keyTypes": list(key_types)}
            if statuses is not None:
                body["CertificateStatuses"] = list(statuses)
            if token:
                body["NextToken"] = token
            body.update(extra)
            doc = self.ok("ListCertificates", body)
            out.extend(doc.get("CertificateSummaryList", []))
            token = doc.get("NextToken")
            if not token:
                return out
        raise TestFailure("ListCertificates paging does not end")

    def arns(self, **kw):
        return sorted(s["CertificateArn"] for s in self.list_all(**kw))

    def tags(self, arn):
        doc = self.ok("ListTagsForCertificate", {"CertificateArn": arn})
        return sorted(((t["Key"], t.get("Value")) for t in
                       doc.get("Tags", [])), key=lambda kv: (kv[0], kv[1] or ""))

    def delete_all(self):
        for arn in self.arns():
            self.ok("DeleteCertificate", {"CertificateArn": arn})


# ------------------------------------------------------------- assertions

def eq(actual, expected, what=""):
    if actual != expected:
        raise TestFailure("%s: expected %r, got %r" % (what or "value",
                                                       expected, actual))


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


# Tables that grow with every call, refused or not: the audit trail records
# each control call by design.
SNAPSHOT_IGNORED_TABLE_PREFIXES = ("public.audit",)


def snapshot(daemon):
    """What a failed request must leave unchanged: the inventory as listed
    (every key type and status) and every table's row count (except the
    audit trail's)."""
    c = daemon.client
    listed = sorted((s["CertificateArn"], s.get("DomainName"))
                    for s in c.list_all(statuses=ALL_STATUSES))
    counts = {t: n for t, n in
              daemon.cluster.table_counts(daemon.dbname).items()
              if not t.startswith(SNAPSHOT_IGNORED_TABLE_PREFIXES)}
    return {"listed": listed, "counts": counts}


def run_cmd(args, timeout=30, input=None, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(args, capture_output=True, timeout=timeout,
                          input=input, env=e)


def which(name):
    return shutil.which(name)
