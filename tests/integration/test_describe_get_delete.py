"""DescribeCertificate, GetCertificate and DeleteCertificate: the happy paths,
ARN errors, and the rule that a private key never leaves the daemon: not in
any response, not in its log, not in plaintext in the database."""

import base64

from cryptography import x509

import certs
import harness
from harness import TestFailure, b64, check, eq

ACTIONS_BY_ARN = ("DescribeCertificate", "GetCertificate",
                  "DeleteCertificate", "ListTagsForCertificate")
MALFORMED_ARNS = (
    "this-is-not-an-arn-at-all",
    "arn:aws:s3:::some-bucket-name-x",
    "arn:aws:acm:us-east-1:123456789012:certificate/",
    "arn:aws:acm:us-east-1:not-an-account:certificate/"
    "00000000-0000-4000-8000-000000000000",
)


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon()
    ctx.m.c = ctx.m.d.client


def setup_function(ctx):
    ctx.m.c.delete_all()


def _pem_certs(text):
    return [x509.load_pem_x509_certificate(p.encode())
            for p in _split_pem(text)]


def _split_pem(text):
    out = []
    cur = None
    for line in text.splitlines(keepends=True):
        if line.startswith("-----BEGIN CERTIFICATE-----"):
            cur = line
        elif cur is not None:
            cur += line
            if line.startswith("-----END CERTIFICATE-----"):
                out.append(cur)
                cur = None
    return out


def test_get_certificate_returns_pem_and_chain_never_a_key(ctx):
    c = ctx.m.c
    lf = certs.leaf(("get.example.com",))
    arn = c.import_leaf(lf)
    doc = c.ok("GetCertificate", {"CertificateArn": arn})
    check(set(doc) <= {"Certificate", "CertificateChain"},
          "GetCertificate members %r" % sorted(doc))
    check(isinstance(doc["Certificate"], str) and
          doc["Certificate"].startswith("-----BEGIN CERTIFICATE-----"),
          "Certificate must be plain PEM text, got %r"
          % str(doc["Certificate"])[:80])
    got = _pem_certs(doc["Certificate"])
    eq(len(got), 1, "certificates in Certificate")
    eq(got[0], lf.cert, "Certificate")
    chain = _pem_certs(doc.get("CertificateChain", ""))
    eq(chain, lf.chain, "CertificateChain (intermediate, then root)")
    check("PRIVATE KEY" not in str(doc), "GetCertificate returned a key")


def test_get_certificate_without_chain(ctx):
    c = ctx.m.c
    lf = certs.self_signed(("solo.example.com",))
    arn = c.import_leaf(lf)
    doc = c.ok("GetCertificate", {"CertificateArn": arn})
    eq(_pem_certs(doc["Certificate"]), [lf.cert], "Certificate")
    check(not doc.get("CertificateChain"),
          "no chain was imported, got %r" % doc.get("CertificateChain"))


def test_malformed_arn_is_invalid_arn_exception(ctx):
    c = ctx.m.c
    for action in ACTIONS_BY_ARN:
        for arn in MALFORMED_ARNS:
            c.expect_error(action, {"CertificateArn": arn},
                           "InvalidArnException")


def test_missing_or_short_arn_is_validation_exception(ctx):
    # Length (20..2048) is checked before the pattern, as AWS does: an ARN
    # that is too short or too long is ValidationException, not
    # InvalidArnException.
    c = ctx.m.c
    for action in ACTIONS_BY_ARN:
        c.expect_error(action, {}, "ValidationException")
        c.expect_error(action, {"CertificateArn": "arn:aws:acm"},
                       "ValidationException")
        c.expect_error(action, {"CertificateArn": "arn:aws:acm:us-east-1:"
                                "123456789012:certificate/" + "a" * 2048},
                       "ValidationException")
        c.expect_error(action, {"CertificateArn": 17},
                       "SerializationException")


def test_unknown_arn_is_resource_not_found(ctx):
    c = ctx.m.c
    arn = c.import_leaf(certs.leaf(("known.example.com",)))
    cert_id = arn.rsplit("/", 1)[1]
    unknown = [
        "arn:aws:acm:us-east-1:123456789012:certificate/"
        "00000000-0000-4000-8000-000000000000",
        # The very certificate id, but in another region or account.
        "arn:aws:acm:us-west-2:123456789012:certificate/" + cert_id,
        "arn:aws:acm:us-east-1:210987654321:certificate/" + cert_id,
    ]
    for action in ACTIONS_BY_ARN:
        for u in unknown:
            c.expect_error(action, {"CertificateArn": u},
                           "ResourceNotFoundException")
    eq(c.arns(), [arn], "inventory")


def test_delete_then_describe_get_delete_are_not_found(ctx):
    c = ctx.m.c
    keep = c.import_leaf(certs.leaf(("keep.example.com",)))
    arn = c.import_leaf(certs.leaf(("gone.example.com",)))
    doc = c.ok("DeleteCertificate", {"CertificateArn": arn})
    eq(doc, {}, "DeleteCertificate output")
    for action in ACTIONS_BY_ARN:
        c.expect_error(action, {"CertificateArn": arn},
                       "ResourceNotFoundException")
    eq(c.arns(), [keep], "inventory after delete")
    eq(c.describe(keep)["DomainName"], "keep.example.com", "kept cert")


def _secret_markers(key):
    """Strings that only a plaintext copy of `key` would contain."""
    marks = []
    der = certs.key_der(key)
    mid = der[len(der) // 3: len(der) // 3 + 48]
    marks.append(("DER bytes as hex", mid.hex()))
    marks.append(("DER bytes as base64", base64.b64encode(mid).decode()[4:40]))
    for fmt in ("pkcs8", "traditional"):
        lines = certs.key_pem(key, fmt).decode().splitlines()
        body = lines[1:-1]
        for line in body[2:4]:
            marks.append(("%s PEM line" % fmt, line))
        marks.append(("%s PEM, base64 again" % fmt,
                      b64(certs.key_pem(key, fmt))[200:260]))
    nums = key.private_numbers()
    secret = nums.d if hasattr(nums, "d") else nums.private_value
    h = "%x" % secret
    marks.append(("private number as hex", h[8:72]))
    marks.append(("private number as decimal", str(secret)[5:60]))
    return marks


def _find_markers(text, marks):
    low = text.lower()
    return [what for what, m in marks if m.lower() in low]


def test_private_key_never_leaves_the_daemon(ctx):
    d = ctx.m.d
    c = harness.AcmClient(d.socket)
    found = []
    for kt in ("RSA_2048", "EC_prime256v1"):
        lf = certs.leaf(("secret-%s.example.com" % kt.lower()[:3],), kt,
                        slot="secret")
        marks = _secret_markers(lf.key)
        arn = c.import_leaf(lf, tags=[{"Key": "Env", "Value": "Prod"}])
        c.ok("ImportCertificate", lf.import_body(CertificateArn=arn))
        c.ok("DescribeCertificate", {"CertificateArn": arn})
        c.ok("GetCertificate", {"CertificateArn": arn})
        c.ok("ListTagsForCertificate", {"CertificateArn": arn})
        c.list_all()
        # Error paths must not echo the key either.
        bad = lf.import_body()
        bad["Certificate"] = b64(certs.leaf(("other.example.com",)).cert_pem)
        c.expect_error("ImportCertificate", bad, "ValidationException")
        bad = lf.import_body()
        bad["PrivateKey"] = b64(lf.key_pem[:-40])
        c.expect_error("ImportCertificate", bad, "ValidationException")
        for i, body in enumerate(c.responses):
            for w in _find_markers(body.decode(errors="replace"), marks):
                found.append("response %d (%s key): %s" % (i, kt, w))
        for w in _find_markers(d.stderr_text(), marks):
            found.append("daemon log (%s key): %s" % (kt, w))
        for w in _find_markers(d.cluster.pg_dump(d.dbname), marks):
            found.append("pg_dump (%s key): %s" % (kt, w))
    if found:
        raise TestFailure("private key material leaked: " + "; ".join(found))
    check("PRIVATE KEY" not in d.stderr_text(),
          "daemon log contains a PEM private key header")
