"""Bindings (CertFleet.CreateBinding, DescribeBinding, ListBindings,
DeleteBinding) and the deployer: every input check, the files a binding
deploys (owner, group, mode, content, key matching the certificate), the
reload command and its timeout, nginx on loopback serving what was deployed,
bindings of another host left alone, a restart that puts back missing files,
InUseBy / InUse / RenewalEligibility, and DeleteCertificate refused while a
binding exists. The certfleet-issued certificate comes from the request
flow (SMTP sink, dnsmasq, RDAP, approval POST) of test_request_flow."""

import copy
import grp
import hashlib
import os
import pwd
import re
import socket
import ssl
import stat
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

import certs
import harness
import test_request_flow as flow
from harness import TestFailure, check, eq, wait_for

EXT = "CertFleet"
HOST = "test-host-1"
BINDING_ARN_RE = re.compile(
    r"^arn:aws:acm:us-east-1:123456789012:binding/[0-9a-f]{8}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NGINX = "/usr/sbin/nginx"
ADDR = "127.0.61.9"


def setup_module(ctx):
    m = ctx.m
    m.dir = os.path.join(ctx.tmp, "bindings-servers")
    os.makedirs(m.dir, exist_ok=True)
    m.sink = flow.Sink(m.dir)
    m.dns = flow.dnsmasq(m.dir)
    m.rdap = flow.rdap(m.dir)
    m.deny = os.path.join(m.dir, "deny.txt")
    with open(m.deny, "w") as f:
        f.write("# test deny list\n")
    m.d = flow.flow_daemon(ctx)
    m.c = m.d.client
    m.n = 0


def setup_function(ctx):
    clean(ctx.m.c)


# ------------------------------------------------------------- helpers

def call(c, action, body):
    return c.ok(action, body, prefix=EXT)


def error(c, action, body, exception):
    return c.expect_error(action, body, exception, prefix=EXT)


def clean(c):
    for b in list_bindings(c):
        call(c, "DeleteBinding", {"BindingArn": b["BindingArn"]})
    c.delete_all()


def list_bindings(c, **filters):
    out, token = [], None
    while True:
        body = dict(filters)
        if token:
            body["NextToken"] = token
        doc = call(c, "ListBindings", body)
        out += doc["Bindings"]
        token = doc.get("NextToken")
        if not token:
            return out


def folder(ctx, stem="files"):
    ctx.m.n += 1
    d = os.path.join(ctx.tmp, "bind-%s-%d" % (stem, ctx.m.n))
    os.makedirs(d)
    return d


def files_in(d, owner="nobody", group="nogroup"):
    def f(name, mode):
        return {"Path": os.path.join(d, name), "Owner": owner,
                "Group": group, "Mode": mode}
    return {"Certificate": f("cert.pem", "0644"),
            "Chain": f("chain.pem", "0640"),
            "FullChain": f("fullchain.pem", "0644"),
            "PrivateKey": f("key.pem", "0600")}


def binding_body(arn, d, host=HOST, reload=None, port=8443,
                 server_name="www.example.com", **files_kw):
    body = {"CertificateArn": arn, "HostName": host,
            "Endpoint": {"Address": ADDR, "Port": port,
                         "ServerName": server_name},
            "Files": files_in(d, **files_kw)}
    if reload is not None:
        body["Reload"] = reload
    return body


def create(c, body):
    doc = call(c, "CreateBinding", body)
    eq(sorted(doc), ["BindingArn"], "CreateBinding answer")
    check(BINDING_ARN_RE.match(doc["BindingArn"]),
          "bad BindingArn %r" % doc["BindingArn"])
    return doc["BindingArn"]


def describe(c, barn):
    return call(c, "DescribeBinding", {"BindingArn": barn})["Binding"]


def wait_status(c, barn, status, timeout=15):
    return wait_for(lambda: describe(c, barn)
                    if describe(c, barn)["DeploymentStatus"] == status
                    else None, timeout,
                    what="binding %s to be %s" % (barn, status))


def fingerprint(pem):
    if isinstance(pem, str):
        pem = pem.encode()
    cert = x509.load_pem_x509_certificate(pem)
    return cert.fingerprint(hashes.SHA256()).hex()


def imported(c, name="bind.example.com"):
    lf = certs.leaf((name,), "EC_prime256v1")
    return lf, c.import_leaf(lf)


def issued(ctx, name):
    """A certfleet-issued certificate through the email flow."""
    c, d = ctx.m.c, ctx.m.d
    arn = flow.request(c, name)
    msgs = flow.mails_for(ctx.m.sink, arn, 1, timeout=30)
    st, _ = flow.approve(d, flow.link_of(msgs[0]))
    eq(st, 200, "approval POST")
    wait_for(lambda: flow.status(c, arn) == "ISSUED", 30, what="ISSUED")
    return arn


# ------------------------------------------------------------- the API

def test_create_describe_list_delete(ctx):
    c = ctx.m.c
    lf, arn = imported(c)
    d = folder(ctx)
    reload = {"Command": ["/bin/true", "a b", "--x"], "TimeoutSeconds": 7}
    barn = create(c, binding_body(arn, d, reload=reload))
    b = describe(c, barn)
    eq(b["BindingArn"], barn, "BindingArn")
    eq(b["CertificateArn"], arn, "CertificateArn")
    eq(b["HostName"], HOST, "HostName")
    eq(b["Endpoint"], {"Address": ADDR, "Port": 8443,
                       "ServerName": "www.example.com"}, "Endpoint")
    eq(b["Files"], files_in(d), "Files")
    eq(b["Reload"], reload, "Reload")
    check(isinstance(b["CreatedAt"], int), "CreatedAt")
    check(b["DeploymentStatus"] in ("PENDING", "DEPLOYED"),
          "DeploymentStatus %r" % b["DeploymentStatus"])
    # Systemd unit form, defaults for owner, group, mode and timeout.
    d2 = folder(ctx)
    barn2 = create(c, {"CertificateArn": arn, "HostName": HOST,
                       "Endpoint": {"Address": "localhost", "Port": 443},
                       "Files": {"Certificate": {
                           "Path": os.path.join(d2, "c.pem")}},
                       "Reload": {"SystemdUnit": "nginx.service"}})
    b2 = describe(c, barn2)
    eq(b2["Files"], {"Certificate": {"Path": os.path.join(d2, "c.pem"),
                                     "Owner": "root", "Group": "root",
                                     "Mode": "0644"}}, "default file target")
    eq(b2["Reload"], {"SystemdUnit": "nginx.service", "TimeoutSeconds": 30},
       "systemd reload with the default timeout")
    # In use: InUseBy, ListCertificates' InUse.
    eq(sorted(c.describe(arn)["InUseBy"]), sorted([barn, barn2]), "InUseBy")
    summ = [s for s in c.list_all() if s["CertificateArn"] == arn]
    eq(summ[0]["InUse"], True, "ListCertificates InUse")
    eq(c.describe(arn)["RenewalEligibility"], "INELIGIBLE",
       "an imported certificate is never ELIGIBLE")
    c.expect_error("DeleteCertificate", {"CertificateArn": arn},
                   "ResourceInUseException")
    # Listing: by certificate, by host, paged.
    _, other = imported(c, "other.example.com")
    barn3 = create(c, binding_body(other, folder(ctx), host="web-9"))
    eq([x["BindingArn"] for x in list_bindings(c, CertificateArn=arn)],
       [barn, barn2], "by certificate")
    eq([x["BindingArn"] for x in list_bindings(c, HostName="web-9")],
       [barn3], "by host")
    eq([x["BindingArn"] for x in list_bindings(c)], [barn, barn2, barn3],
       "all")
    page = call(c, "ListBindings", {"MaxItems": 2})
    eq(len(page["Bindings"]), 2, "first page")
    check(page.get("NextToken"), "NextToken on a full page")
    rest = call(c, "ListBindings", {"MaxItems": 2,
                                    "NextToken": page["NextToken"]})
    eq([x["BindingArn"] for x in rest["Bindings"]], [barn3], "second page")
    check("NextToken" not in rest, "no NextToken on the last page")
    eq(list_bindings(c, CertificateArn=arn, HostName="web-9"), [],
       "both filters")
    # Delete.
    call(c, "DeleteBinding", {"BindingArn": barn})
    call(c, "DeleteBinding", {"BindingArn": barn2})
    error(c, "DescribeBinding", {"BindingArn": barn},
          "ResourceNotFoundException")
    error(c, "DeleteBinding", {"BindingArn": barn},
          "ResourceNotFoundException")
    check(not c.describe(arn).get("InUseBy"), "InUseBy empty again")
    c.ok("DeleteCertificate", {"CertificateArn": arn})
    rows = ctx.m.d.cluster.psql(
        "SELECT count(*) FROM audit_events WHERE event_name IN "
        "('CreateBinding', 'DeleteBinding')", ctx.m.d.dbname)
    check(int(rows[0][0]) >= 5, "audit events for the binding calls")


BAD_CREATES = [
    # (what, change to a good body, exception)
    ("relative path", lambda b: b["Files"]["Certificate"].update(
        Path="relative/cert.pem"), "ValidationException"),
    ("dot-dot path", lambda b: b["Files"]["Chain"].update(
        Path="/tmp/../etc/x.pem"), "ValidationException"),
    ("folder path", lambda b: b["Files"]["Chain"].update(
        Path="/tmp/x/"), "ValidationException"),
    ("unknown owner", lambda b: b["Files"]["Certificate"].update(
        Owner="no-such-user-cf"), "ValidationException"),
    ("unknown group", lambda b: b["Files"]["PrivateKey"].update(
        Group="no-such-group-cf"), "ValidationException"),
    ("bad owner syntax", lambda b: b["Files"]["Certificate"].update(
        Owner="a b"), "ValidationException"),
    ("mode not octal", lambda b: b["Files"]["Certificate"].update(
        Mode="0698"), "ValidationException"),
    ("mode with setuid", lambda b: b["Files"]["Certificate"].update(
        Mode="4755"), "ValidationException"),
    ("mode words", lambda b: b["Files"]["Certificate"].update(
        Mode="rw-r"), "ValidationException"),
    ("key readable by others", lambda b: b["Files"]["PrivateKey"].update(
        Mode="0644"), "ValidationException"),
    ("mode as a number", lambda b: b["Files"]["Certificate"].update(
        Mode=644), "SerializationException"),
    ("same path twice", lambda b: b["Files"]["Chain"].update(
        Path=b["Files"]["Certificate"]["Path"]), "ValidationException"),
    ("no files", lambda b: b.update(Files={}), "ValidationException"),
    ("unknown file kind", lambda b: b["Files"].update(
        Bundle={"Path": "/tmp/b.pem"}), "ValidationException"),
    ("file without path", lambda b: b["Files"]["Certificate"].pop("Path"),
     "ValidationException"),
    ("no Files", lambda b: b.pop("Files"), "ValidationException"),
    ("no Endpoint", lambda b: b.pop("Endpoint"), "ValidationException"),
    ("no Address", lambda b: b["Endpoint"].pop("Address"),
     "ValidationException"),
    ("no Port", lambda b: b["Endpoint"].pop("Port"), "ValidationException"),
    ("port 0", lambda b: b["Endpoint"].update(Port=0),
     "ValidationException"),
    ("port too big", lambda b: b["Endpoint"].update(Port=70000),
     "ValidationException"),
    ("bad address", lambda b: b["Endpoint"].update(Address="a b"),
     "ValidationException"),
    ("no HostName", lambda b: b.pop("HostName"), "ValidationException"),
    ("bad HostName", lambda b: b.update(HostName="web 1"),
     "ValidationException"),
    ("unit and command", lambda b: b.update(Reload={
        "SystemdUnit": "nginx.service", "Command": ["/bin/true"]}),
     "ValidationException"),
    ("empty reload", lambda b: b.update(Reload={"TimeoutSeconds": 5}),
     "ValidationException"),
    ("relative command", lambda b: b.update(Reload={
        "Command": ["nginx", "-s", "reload"]}), "ValidationException"),
    ("empty command", lambda b: b.update(Reload={"Command": []}),
     "ValidationException"),
    ("bad unit", lambda b: b.update(Reload={"SystemdUnit": "a b"}),
     "ValidationException"),
    ("timeout 0", lambda b: b.update(Reload={
        "Command": ["/bin/true"], "TimeoutSeconds": 0}),
     "ValidationException"),
    ("timeout too long", lambda b: b.update(Reload={
        "Command": ["/bin/true"], "TimeoutSeconds": 100000}),
     "ValidationException"),
    ("no CertificateArn", lambda b: b.pop("CertificateArn"),
     "ValidationException"),
    ("malformed ARN", lambda b: b.update(
        CertificateArn="arn:aws:acm:us-east-1:123456789012:nothing"),
     "InvalidArnException"),
    ("binding ARN as certificate", lambda b: b.update(
        CertificateArn="arn:aws:acm:us-east-1:123456789012:binding/"
        "00000000-0000-4000-8000-000000000000"), "InvalidArnException"),
    ("unknown certificate", lambda b: b.update(
        CertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/"
        "00000000-0000-4000-8000-000000000000"),
     "ResourceNotFoundException"),
]


def test_create_binding_errors(ctx):
    c = ctx.m.c
    _, arn = imported(c)
    good = binding_body(arn, folder(ctx))
    for what, change, exc in BAD_CREATES:
        body = copy.deepcopy(good)
        change(body)
        try:
            error(c, "CreateBinding", body, exc)
        except TestFailure as e:
            raise TestFailure("%s: %s" % (what, e))
    eq(list_bindings(c), [], "nothing stored")
    # Another host's users cannot be checked here: syntax only.
    body = binding_body(arn, folder(ctx), host="web-2",
                        owner="only-on-web-2")
    create(c, body)
    # A pending certificate has nothing to deploy.
    pending = flow.request(c, "pending.example.com")
    error(c, "CreateBinding", binding_body(pending, folder(ctx)),
          "InvalidStateException")
    # Other actions.
    error(c, "DescribeBinding", {}, "ValidationException")
    error(c, "DescribeBinding", {"BindingArn": arn}, "InvalidArnException")
    error(c, "DeleteBinding", {"BindingArn": "nope-nope-nope-nope-nope"},
          "InvalidArnException")
    error(c, "ListBindings", {"NextToken": "bm90IGEgdG9rZW4="},
          "InvalidArgsException")
    error(c, "ListBindings", {"MaxItems": 0}, "ValidationException")
    error(c, "ListBindings", {"CertificateArn": arn[:-4] + "0000"},
          "ResourceNotFoundException")


# ------------------------------------------------------------- deployment

def check_files(d, lf_cert_pem, chain_pem, key_pem_text=None):
    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    want = {"cert.pem": 0o644, "chain.pem": 0o640, "fullchain.pem": 0o644,
            "key.pem": 0o600}
    for name, mode in want.items():
        st = os.stat(os.path.join(d, name))
        eq(stat.S_IMODE(st.st_mode), mode, "mode of " + name)
        eq((st.st_uid, st.st_gid), (nobody, nogroup), "owner of " + name)
    cert = open(os.path.join(d, "cert.pem"), "rb").read()
    eq(cert.strip(), lf_cert_pem.strip(), "cert.pem")
    eq(open(os.path.join(d, "chain.pem"), "rb").read().strip(),
       chain_pem.strip(), "chain.pem")
    full = open(os.path.join(d, "fullchain.pem"), "rb").read()
    check(full.startswith(cert) and full.strip().endswith(chain_pem.strip()),
          "fullchain.pem is the certificate then the chain")
    key = serialization.load_pem_private_key(
        open(os.path.join(d, "key.pem"), "rb").read(), None)
    pub = x509.load_pem_x509_certificate(cert).public_key()
    eq(key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo),
       pub.public_bytes(serialization.Encoding.DER,
                        serialization.PublicFormat.SubjectPublicKeyInfo),
       "key.pem matches cert.pem")
    leftovers = [f for f in os.listdir(d) if f.startswith(".")]
    eq(leftovers, [], "no temporary files left")


def test_deploy_writes_files_and_runs_reload(ctx):
    c, dm = ctx.m.c, ctx.m.d
    lf, arn = imported(c)
    d = folder(ctx)
    marker = os.path.join(d, "reloaded")
    barn = create(c, binding_body(arn, d, reload={
        "Command": ["/bin/sh", "-c", 'echo "$0" >> ' + marker, "ran"],
        "TimeoutSeconds": 5}))
    b = wait_status(c, barn, "DEPLOYED")
    check_files(d, lf.cert_pem, lf.chain_pem)
    eq(open(marker).read(), "ran\n", "the reload command ran once")
    eq(b["DeployedVersion"], 1, "DeployedVersion")
    eq(b["DeployedFingerprint"], fingerprint(lf.cert_pem),
       "DeployedFingerprint")
    check(b["DeployedAt"] >= b["CreatedAt"], "DeployedAt")
    rows = dm.cluster.psql(
        "SELECT certificate_arn, host_name, request_params::json->>"
        "'bindingArn' FROM audit_events WHERE event_name = "
        "'DeployCertificate'", dm.dbname)
    check([arn, HOST, barn] in rows, "DeployCertificate audit event: %r"
          % rows)
    # Re-import: a new version, deployed by the periodic sync.
    lf2 = certs.leaf(("bind.example.com",), "EC_prime256v1")
    c.import_leaf(lf2, arn=arn)
    wait_for(lambda: describe(c, barn).get("DeployedVersion") == 2, 20,
             what="version 2 deployed")
    check_files(d, lf2.cert_pem, lf2.chain_pem)
    eq(open(marker).read(), "ran\nran\n", "reloaded once more")


def test_reload_timeout_is_enforced(ctx):
    c = ctx.m.c
    _, arn = imported(c)
    d = folder(ctx)
    # "; true" keeps the shell waiting for sleep, a child of its own: the
    # whole process group must go.
    tag = "sleep %d" % (7000 + os.getpid() % 1000)
    t0 = time.monotonic()
    barn = create(c, binding_body(arn, d, reload={
        "Command": ["/bin/sh", "-c", tag + "; true"],
        "TimeoutSeconds": 1}))
    b = wait_status(c, barn, "FAILED", timeout=10)
    check(time.monotonic() - t0 < 8, "failed soon after the timeout")
    check("timed out" in b["DeploymentError"],
          "DeploymentError %r" % b.get("DeploymentError"))
    r = subprocess.run(["pgrep", "-f", tag], capture_output=True)
    eq(r.stdout, b"", "the reload command was killed")
    # A failing command is a failed deployment, with its status.
    d2 = folder(ctx)
    barn2 = create(c, binding_body(arn, d2, reload={
        "Command": ["/bin/sh", "-c", "exit 3"]}))
    b2 = wait_status(c, barn2, "FAILED")
    check("status 3" in b2["DeploymentError"], b2["DeploymentError"])


def test_other_host_not_deployed(ctx):
    c = ctx.m.c
    _, arn = imported(c)
    d = folder(ctx)
    barn = create(c, binding_body(arn, d, host="test-host-2"))
    time.sleep(6.5)     # past one periodic sync
    eq(os.listdir(d), [], "no files for another host's binding")
    eq(describe(c, barn)["DeploymentStatus"], "PENDING", "still PENDING")


def test_restart_deploys_missing_and_stale_files(ctx):
    c, dm = ctx.m.c, ctx.m.d
    lf, arn = imported(c)
    d = folder(ctx)
    marker = os.path.join(d, "reloaded")
    barn = create(c, binding_body(arn, d, reload={
        "Command": ["/bin/sh", "-c", "echo x >> " + marker]}))
    wait_status(c, barn, "DEPLOYED")
    # A restart with everything in place changes nothing.
    dm.restart()
    time.sleep(1.5)
    eq(open(marker).read(), "x\n", "no reload for intact files")
    dm.stop()
    os.unlink(os.path.join(d, "key.pem"))
    with open(os.path.join(d, "cert.pem"), "w") as f:
        f.write("stale\n")
    dm.start()
    wait_for(lambda: os.path.exists(os.path.join(d, "key.pem")), 15,
             what="key.pem put back")
    wait_for(lambda: open(marker).read() == "x\nx\n", 10,
             what="reloaded after the repair")
    check_files(d, lf.cert_pem, lf.chain_pem)


# ------------------------------------------------------------- nginx

def tls_fingerprint(addr, port, sni):
    cx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cx.check_hostname = False
    cx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((addr, port), timeout=3) as s:
        with cx.wrap_socket(s, server_hostname=sni) as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def test_nginx_serves_deployed_files(ctx):
    if not os.access(NGINX, os.X_OK):
        raise TestFailure("nginx is not installed (apt-get install "
                          "nginx-light)")
    c = ctx.m.c
    lf, arn = imported(c, "www.example.com")
    d = folder(ctx, "nginx")
    # nginx starts with a placeholder certificate in the same paths.
    ph = certs.self_signed(("placeholder.example.com",))
    for name, data in (("fullchain.pem", ph.cert_pem),
                       ("key.pem", ph.key_pem)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    port = flow.free_port(addr=ADDR)
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
        server_name www.example.com;
        ssl_certificate %(d)s/fullchain.pem;
        ssl_certificate_key %(d)s/key.pem;
        location / { return 200 "ok\\n"; }
    }
}
""" % {"d": d, "addr": ADDR, "port": port})
    flow.Proc([NGINX, "-c", conf, "-e", os.path.join(d, "error.log")],
              ready=lambda: tls_fingerprint(ADDR, port, "www.example.com"),
              log=os.path.join(d, "nginx.out"))
    eq(tls_fingerprint(ADDR, port, "www.example.com"),
       fingerprint(ph.cert_pem), "placeholder served first")
    files = files_in(d, owner="root", group="root")
    barn = create(c, {
        "CertificateArn": arn, "HostName": HOST,
        "Endpoint": {"Address": ADDR, "Port": port,
                     "ServerName": "www.example.com"},
        "Files": {"FullChain": files["FullChain"],
                  "PrivateKey": files["PrivateKey"]},
        "Reload": {"Command": [NGINX, "-c", conf, "-e",
                               os.path.join(d, "error.log"), "-s",
                               "reload"], "TimeoutSeconds": 10}})
    wait_status(c, barn, "DEPLOYED")
    want = fingerprint(lf.cert_pem)
    wait_for(lambda: tls_fingerprint(ADDR, port, "www.example.com") == want,
             15, what="nginx to serve the deployed certificate")
    eq(describe(c, barn)["Endpoint"]["Port"], port, "endpoint")


# ------------------------------------------------------------- eligibility

def test_issued_certificate_bound_is_eligible(ctx):
    c = ctx.m.c
    arn = issued(ctx, "eligible.example.com")
    eq(c.describe(arn)["RenewalEligibility"], "INELIGIBLE",
       "unbound: INELIGIBLE")
    d = folder(ctx)
    barn = create(c, binding_body(arn, d))
    eq(c.describe(arn)["RenewalEligibility"], "ELIGIBLE", "bound: ELIGIBLE")
    eq(c.describe(arn)["InUseBy"], [barn], "InUseBy")
    wait_status(c, barn, "DEPLOYED")
    got = c.ok("GetCertificate", {"CertificateArn": arn})
    cert = open(os.path.join(d, "cert.pem")).read()
    eq(cert.strip(), got["Certificate"].strip(), "issued certificate written")
    key = serialization.load_pem_private_key(
        open(os.path.join(d, "key.pem"), "rb").read(), None)
    pub = x509.load_pem_x509_certificate(cert.encode()).public_key()
    eq(key.public_key().public_numbers(), pub.public_numbers(),
       "the issued key matches")
    c.expect_error("DeleteCertificate", {"CertificateArn": arn},
                   "ResourceInUseException")
    call(c, "DeleteBinding", {"BindingArn": barn})
    eq(c.describe(arn)["RenewalEligibility"], "INELIGIBLE",
       "unbound again: INELIGIBLE")
    check(os.path.exists(os.path.join(d, "cert.pem")),
          "DeleteBinding leaves the files")


# ------------------------------------------------------------- the CLI

def test_cli_binding_commands(ctx):
    import json
    c = ctx.m.c
    lf, arn = imported(c)
    d = folder(ctx)
    binary = harness.certfleet_path()

    def cli(*args):
        r = harness.run_cmd([binary, "--socket", ctx.m.d.socket] +
                            list(args))
        if r.returncode != 0:
            raise TestFailure("certfleet %s exited %d: %s" % (
                args[0], r.returncode, r.stderr.decode(errors="replace")))
        return json.loads(r.stdout.decode()) if r.stdout.strip() else {}

    out = cli("create-binding", "--certificate-arn", arn,
              "--host-name", HOST,
              "--endpoint", "Address=%s,Port=8443,ServerName=www.example.com"
              % ADDR,
              "--files", "Certificate={Path=%s/c.pem,Mode=0644},"
              "PrivateKey={Path=%s/k.pem,Mode=0600}" % (d, d),
              "--reload", "Command=[/bin/true,-x],TimeoutSeconds=5")
    barn = out["BindingArn"]
    check(BINDING_ARN_RE.match(barn), "CLI BindingArn %r" % barn)
    b = cli("describe-binding", "--binding-arn", barn)["Binding"]
    eq(b["Reload"], {"Command": ["/bin/true", "-x"], "TimeoutSeconds": 5},
       "Reload through the CLI")
    eq(b["Files"]["PrivateKey"]["Mode"], "0600", "Mode through the CLI")
    listed = cli("list-bindings", "--certificate-arn", arn)
    eq([x["BindingArn"] for x in listed["Bindings"]], [barn], "list-bindings")
    wait_status(c, barn, "DEPLOYED")
    cli("delete-binding", "--binding-arn", barn)
    eq(list_bindings(c), [], "deleted through the CLI")


# ------------------------------------------------------------- a fleet

def test_second_daemon_deploys_its_own_host(ctx):
    """Two daemons on one database (sharing the master key, as a fleet
    does): a binding created through the first for the second's host is
    deployed by the second only, through its periodic sync."""
    import shutil
    c, a = ctx.m.c, ctx.m.d
    b = ctx.new_daemon(name="fleet-b", dbname=a.dbname, start=False,
                       extra={"daemon": {"host_name": "test-host-2"}})
    shutil.copy(os.path.join(a.state, "master.key"),
                os.path.join(b.state, "master.key"))
    os.chmod(os.path.join(b.state, "master.key"), 0o600)
    b.start()
    lf, arn = imported(c)
    da, db = folder(ctx), folder(ctx)
    mine = create(c, binding_body(arn, da))
    theirs = create(c, binding_body(arn, db, host="test-host-2"))
    wait_status(c, theirs, "DEPLOYED", timeout=20)
    wait_status(c, mine, "DEPLOYED")
    check_files(db, lf.cert_pem, lf.chain_pem)
    check_files(da, lf.cert_pem, lf.chain_pem)
    rows = a.cluster.psql(
        "SELECT host_name, request_params::json->>'bindingArn' FROM "
        "audit_events WHERE event_name = 'DeployCertificate' AND "
        "certificate_arn = '%s' ORDER BY 1" % arn, a.dbname)
    eq(sorted(map(tuple, rows)), [(HOST, mine), ("test-host-2", theirs)],
       "each binding deployed once, by its own host")
    b.stop()
