"""The certfleet CLI against a running daemon, used the way `aws acm` is:
fileb:// arguments, Key=...,Value=... shorthand, JSON on stdout, and AWS's
error line on stderr with a non-zero exit."""

import json
import os
import re

import certs
import harness
from harness import check, eq


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon()
    ctx.m.dir = os.path.join(ctx.tmp, "cli-files")
    os.makedirs(ctx.m.dir, exist_ok=True)
    lf = certs.leaf(("cli.example.com", "www.cli.example.com"))
    ctx.m.leaf = lf
    for name, data in (("cert.pem", lf.cert_pem), ("key.pem", lf.key_pem),
                       ("chain.pem", lf.chain_pem)):
        with open(os.path.join(ctx.m.dir, name), "wb") as f:
            f.write(data)


def setup_function(ctx):
    ctx.m.d.client.delete_all()


def cli(ctx, *args, timeout=30):
    binary = harness.certfleet_path()
    if not os.access(binary, os.X_OK):
        raise harness.TestFailure("CLI binary %s is missing (build first, or "
                                  "set CERTFLEET)" % binary)
    r = harness.run_cmd([binary, "--socket", ctx.m.d.socket] + list(args),
                        timeout=timeout)
    check(r.returncode >= 0, "certfleet %s died of signal %d: %s" % (
        args[:1], -r.returncode, r.stderr.decode(errors="replace")))
    return r


def cli_json(ctx, *args):
    r = cli(ctx, *args)
    if r.returncode != 0:
        raise harness.TestFailure("certfleet %s exited %d: %s" % (
            " ".join(args[:1]), r.returncode,
            r.stderr.decode(errors="replace")))
    out = r.stdout.decode()
    if not out.strip():
        return {}
    try:
        return json.loads(out)
    except ValueError:
        raise harness.TestFailure("certfleet %s printed non-JSON: %r"
                                  % (args[0], out[:300]))


def _f(ctx, name):
    return "fileb://" + os.path.join(ctx.m.dir, name)


def _import(ctx):
    doc = cli_json(ctx, "import-certificate",
                   "--certificate", _f(ctx, "cert.pem"),
                   "--private-key", _f(ctx, "key.pem"),
                   "--certificate-chain", _f(ctx, "chain.pem"),
                   "--tags", "Key=Env,Value=Prod")
    eq(sorted(doc), ["CertificateArn"], "import-certificate output")
    check(harness.ARN_RE.match(doc["CertificateArn"]),
          "ARN %r" % doc["CertificateArn"])
    return doc["CertificateArn"]


def test_import_describe_list_get(ctx):
    arn = _import(ctx)
    d = cli_json(ctx, "describe-certificate", "--certificate-arn", arn)
    eq(d["Certificate"]["DomainName"], "cli.example.com", "DomainName")
    eq(d["Certificate"]["Serial"], ctx.m.leaf.serial_hex, "Serial")
    lst = cli_json(ctx, "list-certificates", "--certificate-statuses",
                   "ISSUED", "--max-items", "10")
    arns = [s["CertificateArn"] for s in lst["CertificateSummaryList"]]
    eq(arns, [arn], "list-certificates")
    g = cli_json(ctx, "get-certificate", "--certificate-arn", arn)
    eq(g["Certificate"].strip(), ctx.m.leaf.cert_pem.decode().strip(),
       "get-certificate Certificate")
    check("PRIVATE KEY" not in json.dumps(g), "get-certificate printed a key")


def test_tags_and_delete(ctx):
    arn = _import(ctx)
    cli_json(ctx, "add-tags-to-certificate", "--certificate-arn", arn,
             "--tags", "Key=Team,Value=Web", "Key=Tier")
    t = cli_json(ctx, "list-tags-for-certificate", "--certificate-arn", arn)
    eq(sorted((x["Key"], x.get("Value")) for x in t["Tags"]),
       [("Env", "Prod"), ("Team", "Web"), ("Tier", None)], "tags")
    cli_json(ctx, "remove-tags-from-certificate", "--certificate-arn", arn,
             "--tags", "Key=Team")
    t = cli_json(ctx, "list-tags-for-certificate", "--certificate-arn", arn)
    eq(sorted(x["Key"] for x in t["Tags"]), ["Env", "Tier"], "tags")
    r = cli(ctx, "delete-certificate", "--certificate-arn", arn)
    eq(r.returncode, 0, "delete-certificate exit status")
    eq(r.stdout.strip(), b"", "delete-certificate prints nothing")
    r = cli(ctx, "describe-certificate", "--certificate-arn", arn)
    check(r.returncode != 0, "describe of a deleted certificate succeeded")
    check(b"An error occurred (ResourceNotFoundException) when calling the "
          b"DescribeCertificate operation: " in r.stderr,
          "stderr: %r" % r.stderr)


def test_error_line_and_exit_status(ctx):
    r = cli(ctx, "describe-certificate", "--certificate-arn",
            "arn:aws:s3:::not-a-certificate-arn")
    check(r.returncode != 0, "exit status 0 on error")
    err = r.stderr.decode(errors="replace")
    check(re.search(r"^An error occurred \(InvalidArnException\) when calling "
                    r"the DescribeCertificate operation: \S", err, re.M),
          "stderr: %r" % err)
    eq(r.stdout.strip(), b"", "stdout on error")


def test_account_configuration(ctx):
    doc = cli_json(ctx, "get-account-configuration")
    eq(doc["ExpiryEvents"]["DaysBeforeExpiry"], 45, "default")
    cli_json(ctx, "put-account-configuration", "--expiry-events",
             "DaysBeforeExpiry=40", "--idempotency-token", "cli1")
    doc = cli_json(ctx, "get-account-configuration")
    eq(doc["ExpiryEvents"]["DaysBeforeExpiry"], 40, "after put")
    cli_json(ctx, "put-account-configuration", "--expiry-events",
             "DaysBeforeExpiry=45", "--idempotency-token", "cli2")


def test_usage_errors(ctx):
    binary = harness.certfleet_path()
    for args in (["no-such-command"], ["describe-certificate"],
                 ["import-certificate", "--certificate",
                  "fileb:///nonexistent/cert.pem", "--private-key",
                  "fileb:///nonexistent/key.pem"]):
        r = cli(ctx, *args)
        check(r.returncode != 0, "certfleet %s exited 0" % args)
        check(r.stderr.strip(), "certfleet %s said nothing on stderr" % args)
    r = harness.run_cmd([binary, "--socket", "/nonexistent/control.sock",
                         "list-certificates"])
    check(r.returncode > 0, "unreachable socket: exit %d" % r.returncode)
    check(r.stderr.strip(), "unreachable socket: nothing on stderr")
    r = harness.run_cmd([binary, "--help"])
    eq(r.returncode, 0, "certfleet --help exit status")
    check(b"import-certificate" in r.stdout + r.stderr,
          "--help does not list import-certificate")
    r = harness.run_cmd([binary, "--version"])
    eq(r.returncode, 0, "certfleet --version exit status")
