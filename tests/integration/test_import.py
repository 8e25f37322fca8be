"""ImportCertificate: what is accepted, what DescribeCertificate then shows,
re-import, the quota, and every kind of bad input (each of which must leave
the database exactly as it was)."""

import datetime
import time

import certs
import harness
from harness import TestFailure, b64, check, eq


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon()
    ctx.m.c = ctx.m.d.client


def setup_function(ctx):
    ctx.m.c.delete_all()


def test_import_each_supported_key_type(ctx):
    c = ctx.m.c
    for kt in certs.SUPPORTED_KEY_TYPES:
        lf = certs.leaf(("kt-%s.example.com" % kt.lower().replace("_", "-"),),
                        kt)
        arn = c.import_leaf(lf)
        d = c.describe(arn)
        eq(d["KeyAlgorithm"], kt, "KeyAlgorithm of %s" % kt)
        eq(d["Status"], "ISSUED", "Status of %s" % kt)
        eq(d["Serial"], lf.serial_hex, "Serial of %s" % kt)


def test_import_self_signed_without_chain(ctx):
    # A CA-signed certificate needs its chain (see BAD_IMPORTS); a
    # self-signed one has none.
    c = ctx.m.c
    ss = certs.self_signed(("self.example.com",))
    arn = c.import_leaf(ss)
    eq(c.describe(arn)["DomainName"], "self.example.com", "DomainName")
    eq(c.describe(arn)["Status"], "ISSUED", "Status")


def test_import_key_encodings(ctx):
    """PKCS#8 and traditional ("BEGIN RSA/EC PRIVATE KEY") keys."""
    c = ctx.m.c
    for kt in ("RSA_2048", "EC_prime256v1"):
        for fmt in ("pkcs8", "traditional"):
            lf = certs.leaf(("enc-%s.example.com" % fmt,), kt)
            body = lf.import_body()
            body["PrivateKey"] = b64(certs.key_pem(lf.key, fmt))
            doc = c.ok("ImportCertificate", body)
            check(harness.ARN_RE.match(doc["CertificateArn"]),
                  "bad ARN %r" % doc)


def test_import_response_is_only_the_arn(ctx):
    c = ctx.m.c
    doc = c.ok("ImportCertificate", certs.leaf().import_body())
    eq(sorted(doc), ["CertificateArn"], "ImportCertificate response members")
    check(harness.ARN_RE.match(doc["CertificateArn"]),
          "ARN %r is not arn:aws:acm:us-east-1:123456789012:certificate/<uuid>"
          % doc["CertificateArn"])


def test_describe_certificate_detail_fields(ctx):
    c = ctx.m.c
    sans = ("www.example.com", "example.com", "*.example.org")
    lf = certs.leaf(sans, "RSA_2048",
                    key_usage=["digital_signature", "key_encipherment"],
                    eku=["TLS_WEB_SERVER_AUTHENTICATION",
                         "TLS_WEB_CLIENT_AUTHENTICATION"])
    t0 = time.time()
    arn = c.import_leaf(lf)
    t1 = time.time()
    doc = c.ok("DescribeCertificate", {"CertificateArn": arn})
    eq(sorted(doc), ["Certificate"], "DescribeCertificate response members")
    d = doc["Certificate"]
    eq(d["CertificateArn"], arn, "CertificateArn")
    eq(d["DomainName"], "www.example.com", "DomainName")
    eq(d["SubjectAlternativeNames"], list(sans), "SubjectAlternativeNames")
    eq(d["Serial"], lf.serial_hex, "Serial (colon-separated lower-case hex)")
    eq(d["Subject"], "CN=www.example.com", "Subject")
    check(isinstance(d.get("Issuer"), str) and
          certs.ca("RSA").intermediate_cn in d["Issuer"],
          "Issuer %r does not name the intermediate" % d.get("Issuer"))
    for k in ("ImportedAt", "NotBefore", "NotAfter"):
        check(isinstance(d.get(k), (int, float)) and
              not isinstance(d.get(k), bool),
              "%s must be epoch seconds (a JSON number), got %r"
              % (k, d.get(k)))
    check(t0 - 5 <= d["ImportedAt"] <= t1 + 5,
          "ImportedAt %r not within the import call" % d["ImportedAt"])
    eq(int(d["NotBefore"]),
       int(lf.cert.not_valid_before.replace(
           tzinfo=datetime.timezone.utc).timestamp()), "NotBefore")
    eq(int(d["NotAfter"]),
       int(lf.cert.not_valid_after.replace(
           tzinfo=datetime.timezone.utc).timestamp()), "NotAfter")
    eq(d["KeyAlgorithm"], "RSA_2048", "KeyAlgorithm")
    eq(d["SignatureAlgorithm"], "SHA256WITHRSA", "SignatureAlgorithm")
    eq(sorted(d["KeyUsages"], key=lambda x: x["Name"]),
       [{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_ENCIPHERMENT"}],
       "KeyUsages")
    eq(sorted(d["ExtendedKeyUsages"], key=lambda x: x["Name"]),
       [{"Name": "TLS_WEB_CLIENT_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.2"},
        {"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"}],
       "ExtendedKeyUsages")
    eq(d["Status"], "ISSUED", "Status")
    eq(d["Type"], "IMPORTED", "Type")
    eq(d["InUseBy"], [], "InUseBy")
    eq(d["RenewalEligibility"], "INELIGIBLE", "RenewalEligibility")


def test_describe_ec_signature_algorithm(ctx):
    c = ctx.m.c
    lf = certs.leaf(("ec.example.com",), "EC_secp384r1")
    d = c.describe(c.import_leaf(lf))
    eq(d["KeyAlgorithm"], "EC_secp384r1", "KeyAlgorithm")
    eq(d["SignatureAlgorithm"], "SHA384WITHECDSA", "SignatureAlgorithm")
    eq(d["KeyUsages"], [{"Name": "DIGITAL_SIGNATURE"}], "KeyUsages")


def test_reimport_keeps_arn_and_tags_replaces_cert(ctx):
    c = ctx.m.c
    old = certs.leaf(("old.example.com",))
    arn = c.import_leaf(old, tags=[{"Key": "Env", "Value": "Prod"}])
    new = certs.leaf(("new.example.com", "alt.example.com"))
    doc = c.ok("ImportCertificate", new.import_body(CertificateArn=arn))
    eq(doc["CertificateArn"], arn, "re-import ARN")
    d = c.describe(arn)
    eq(d["Serial"], new.serial_hex, "Serial after re-import")
    eq(d["DomainName"], "new.example.com", "DomainName after re-import")
    eq(d["SubjectAlternativeNames"], ["new.example.com", "alt.example.com"],
       "SANs after re-import")
    eq(c.tags(arn), [("Env", "Prod")], "tags after re-import")
    eq(c.arns(), [arn], "inventory after re-import")
    got = c.ok("GetCertificate", {"CertificateArn": arn})
    eq(got["Certificate"].strip(), new.cert_pem.decode().strip(),
       "GetCertificate after re-import")


def test_reimport_with_tags_is_rejected(ctx):
    # ACM: "You cannot apply tags when reimporting a certificate"; the
    # service answers ValidationException ("Tagging is not permitted on
    # re-import").
    c = ctx.m.c
    old = certs.leaf(("old.example.com",))
    arn = c.import_leaf(old)
    before = harness.snapshot(ctx.m.d)
    new = certs.leaf(("new.example.com",))
    c.expect_error("ImportCertificate",
                   new.import_body(CertificateArn=arn,
                                   Tags=[{"Key": "A", "Value": "B"}]),
                   "ValidationException")
    eq(c.describe(arn)["Serial"], old.serial_hex, "Serial after refused "
       "re-import")
    eq(harness.snapshot(ctx.m.d), before, "database after refused re-import")


def test_reimport_unknown_or_malformed_arn(ctx):
    c = ctx.m.c
    lf = certs.leaf()
    unknown = ("arn:aws:acm:us-east-1:123456789012:certificate/"
               "00000000-0000-4000-8000-000000000000")
    before = harness.snapshot(ctx.m.d)
    c.expect_error("ImportCertificate", lf.import_body(CertificateArn=unknown),
                   "ResourceNotFoundException")
    c.expect_error("ImportCertificate",
                   lf.import_body(CertificateArn="arn:aws:s3:::some-bucket-x"),
                   "InvalidArnException")
    eq(harness.snapshot(ctx.m.d), before, "database after bad re-imports")


def test_reimport_with_other_key_type_is_rejected(ctx):
    # "The key type and size cannot be changed" on re-import.
    c = ctx.m.c
    old = certs.leaf(("keep.example.com",), "RSA_2048")
    arn = c.import_leaf(old)
    before = harness.snapshot(ctx.m.d)
    new = certs.leaf(("keep.example.com",), "EC_prime256v1")
    c.expect_error("ImportCertificate", new.import_body(CertificateArn=arn),
                   "ValidationException")
    eq(c.describe(arn)["Serial"], old.serial_hex, "Serial")
    eq(harness.snapshot(ctx.m.d), before, "database")


def test_imported_certificates_quota(ctx):
    d = ctx.new_daemon("import_quota",
                       extra={"limits": {"imported_certificates": "3"}})
    c = d.client
    arns = [c.import_leaf(certs.leaf(("q%d.example.com" % i,)))
            for i in range(3)]
    before = harness.snapshot(d)
    c.expect_error("ImportCertificate",
                   certs.leaf(("q3.example.com",)).import_body(),
                   "LimitExceededException")
    eq(harness.snapshot(d), before, "database after LimitExceededException")
    # Re-importing over an existing ARN does not add a certificate.
    c.ok("ImportCertificate",
         certs.leaf(("q0b.example.com",)).import_body(CertificateArn=arns[0]))
    c.ok("DeleteCertificate", {"CertificateArn": arns[1]})
    c.import_leaf(certs.leaf(("q4.example.com",)))
    d.stop()


# ------------------------------------------------------------ bad inputs
#
# Each entry makes an ImportCertificate body that must be refused with the
# named exception, and the refusal must change nothing in the database.

def _with(lf, **members):
    body = lf.import_body()
    for k, v in members.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


def _other_ca_chain():
    other = certs.CA("RSA", name="Unrelated")
    return b"".join(certs.cert_pem(x) for x in (other.intermediate,
                                                other.root))


def _day(n):
    return certs.now() + datetime.timedelta(days=n)


BAD_IMPORTS = {
    "truncated_pem": lambda: _with(
        certs.leaf(), Certificate=b64(certs.leaf().cert_pem[:400])),
    "truncated_key": lambda: (lambda lf: _with(
        lf, PrivateKey=b64(lf.key_pem[:300])))(certs.leaf()),
    "garbage_pem_body": lambda: _with(
        certs.leaf(), Certificate=b64(b"-----BEGIN CERTIFICATE-----\n"
                                      b"bm90IGEgY2VydGlmaWNhdGU=\n"
                                      b"-----END CERTIFICATE-----\n")),
    "der_certificate": lambda: (lambda lf: _with(
        lf, Certificate=b64(lf.cert_der)))(certs.leaf()),
    "der_private_key": lambda: (lambda lf: _with(
        lf, PrivateKey=b64(lf.key_der)))(certs.leaf()),
    "pkcs12_as_certificate": lambda: (lambda lf: _with(
        lf, Certificate=b64(lf.pkcs12())))(certs.leaf()),
    "pkcs12_as_private_key": lambda: (lambda lf: _with(
        lf, PrivateKey=b64(lf.pkcs12())))(certs.leaf()),
    "pkcs7_as_certificate": lambda: (lambda lf: _with(
        lf, Certificate=b64(lf.pkcs7())))(certs.leaf()),
    "pkcs7_as_chain": lambda: (lambda lf: _with(
        lf, CertificateChain=b64(lf.pkcs7())))(certs.leaf()),
    "encrypted_pkcs8_key": lambda: (lambda lf: _with(
        lf, PrivateKey=b64(lf.encrypted_key_pem())))(certs.leaf()),
    "encrypted_traditional_key": lambda: (lambda lf: _with(
        lf, PrivateKey=b64(lf.encrypted_key_pem(fmt="traditional"))))(
            certs.leaf()),
    "mismatched_key": lambda: _with(
        certs.leaf(), PrivateKey=b64(certs.key_pem(
            certs.make_key("RSA_2048", slot="other")))),
    "mismatched_key_type": lambda: _with(
        certs.leaf(), PrivateKey=b64(certs.key_pem(
            certs.make_key("EC_prime256v1")))),
    "key_and_certificate_swapped": lambda: (lambda lf: _with(
        lf, Certificate=b64(lf.key_pem), PrivateKey=b64(lf.cert_pem)))(
            certs.leaf()),
    "two_certificates_in_certificate": lambda: (lambda lf: _with(
        lf, Certificate=b64(lf.cert_pem + certs.leaf().cert_pem)))(
            certs.leaf()),
    "expired": lambda: certs.leaf(("old.example.com",), not_before=_day(-60),
                                  not_after=_day(-1)).import_body(),
    "not_yet_valid": lambda: certs.leaf(("soon.example.com",),
                                        not_before=_day(2),
                                        not_after=_day(90)).import_body(),
    "missing_chain_of_a_ca_signed_certificate": lambda: _with(
        certs.leaf(), CertificateChain=None),
    "chain_does_not_verify": lambda: _with(
        certs.leaf(), CertificateChain=b64(_other_ca_chain())),
    "chain_is_not_pem": lambda: _with(
        certs.leaf(), CertificateChain=b64(b"just some text\n")),
    "ca_certificate": lambda: certs.leaf(
        ("ca.example.com",), ca=True,
        key_usage=["key_cert_sign", "crl_sign", "digital_signature"]
    ).import_body(),
    "no_dns_name": lambda: certs.leaf((), cn=None).import_body(),
    "cn_is_not_a_dns_name": lambda: certs.leaf(
        (), cn="Just A Name").import_body(),
    "unsupported_key_ed25519": lambda: certs.unsupported_leaf(
        "ED25519").import_body(),
    "unsupported_curve_secp256k1": lambda: certs.unsupported_leaf(
        "EC_secp256k1").import_body(),
    "certificate_over_32768_bytes": lambda: (lambda lf: _with(
        lf, Certificate=b64(lf.cert_pem + b"\n" * (32769 - len(lf.cert_pem)))))(
            certs.leaf()),
    "private_key_over_5120_bytes": lambda: (lambda lf: _with(
        lf, PrivateKey=b64(lf.key_pem + b"\n" * (5121 - len(lf.key_pem)))))(
            certs.leaf()),
    "chain_over_2097152_bytes": lambda: (lambda lf: _with(
        lf, CertificateChain=b64(lf.chain_pem * (
            2097153 // len(lf.chain_pem) + 1))))(certs.leaf()),
    "arn_over_2048_chars": lambda: _with(
        certs.leaf(), CertificateArn="arn:aws:acm:us-east-1:123456789012:"
        "certificate/" + "a" * 2048),
    "missing_private_key": lambda: _with(certs.leaf(), PrivateKey=None),
    "missing_certificate": lambda: _with(certs.leaf(), Certificate=None),
    "empty_certificate": lambda: _with(certs.leaf(), Certificate=""),
    "empty_private_key": lambda: _with(certs.leaf(), PrivateKey=""),
}

# Members of the wrong JSON type, and blobs that are not base64 at all, fail
# to deserialize (SerializationException, as AWS services answer).
BAD_IMPORTS_OTHER = {
    "certificate_is_a_number": (
        lambda: _with(certs.leaf(), Certificate=42), "SerializationException"),
    "tags_not_a_list": (
        lambda: _with(certs.leaf(), Tags={"Key": "x"}),
        "SerializationException"),
    "certificate_not_base64": (
        lambda: _with(certs.leaf(), Certificate="!!!not*base64!!!"),
        ("SerializationException", "ValidationException")),
    "aws_tag_on_import": (
        lambda: _with(certs.leaf(), Tags=[{"Key": "aws:x", "Value": "y"}]),
        "InvalidTagException"),
}


def _make_bad_test(name, make_body, exception):
    def test(ctx):
        c = ctx.m.c
        c.import_leaf(certs.leaf(("present.example.com",)))
        before = harness.snapshot(ctx.m.d)
        body = make_body()
        c.expect_error("ImportCertificate", body, exception)
        after = harness.snapshot(ctx.m.d)
        if after != before:
            raise TestFailure("refused import changed the database:\n"
                              "before %r\nafter  %r" % (before, after))
    test.__name__ = "test_bad_import_" + name
    return test


for _n, _f in BAD_IMPORTS.items():
    globals()["test_bad_import_" + _n] = _make_bad_test(
        _n, _f, "ValidationException")
for _n, (_f, _e) in BAD_IMPORTS_OTHER.items():
    globals()["test_bad_import_" + _n] = _make_bad_test(_n, _f, _e)


def test_daemon_keeps_serving_after_bad_imports(ctx):
    c = ctx.m.c
    arn = c.import_leaf(certs.leaf(("after.example.com",)))
    eq(c.describe(arn)["DomainName"], "after.example.com", "DomainName")
