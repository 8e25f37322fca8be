"""ListCertificates: the default key-type filter, Includes filters, statuses,
MaxItems bounds, NextToken paging under concurrent change, and sorting."""

import certs
import harness
from harness import ALL_KEY_TYPES, TestFailure, check, eq


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon()
    c = ctx.m.c = ctx.m.d.client
    # One certificate per key type, in this order of creation.
    ctx.m.base = []
    ctx.m.by_type = {}
    for kt in certs.SUPPORTED_KEY_TYPES:
        lf = certs.leaf(("%s.list.example.com" % kt.lower().replace("_", "-"),),
                        kt)
        arn = c.import_leaf(lf)
        ctx.m.base.append(arn)
        ctx.m.by_type[kt] = arn
    # An RSA_2048 certificate for client authentication only, with no
    # key encipherment.
    lf = certs.leaf(("client.list.example.com",), "RSA_2048",
                    key_usage=["digital_signature"],
                    eku=["TLS_WEB_CLIENT_AUTHENTICATION"])
    ctx.m.client_arn = c.import_leaf(lf)
    ctx.m.base.append(ctx.m.client_arn)


def setup_function(ctx):
    # Tests that add certificates remove them; check nobody leaked any.
    eq(sorted(ctx.m.c.arns()), sorted(ctx.m.base), "inventory before test")


def _list(c, **body):
    doc = c.ok("ListCertificates", body)
    return doc


def _arns(doc):
    return sorted(s["CertificateArn"] for s in doc.get("CertificateSummaryList",
                                                        []))


def test_default_lists_only_rsa_1024_and_rsa_2048(ctx):
    c, m = ctx.m.c, ctx.m
    got = [s["CertificateArn"] for s in c.list_all(key_types=None)]
    eq(sorted(got), sorted([m.by_type["RSA_1024"], m.by_type["RSA_2048"],
                            m.client_arn]),
       "ListCertificates without Includes.keyTypes")
    eq(len(got), len(set(got)), "duplicates in default list")


def test_summary_fields(ctx):
    c, m = ctx.m.c, ctx.m
    s = [x for x in c.list_all() if x["CertificateArn"] ==
         m.by_type["EC_secp384r1"]]
    eq(len(s), 1, "summaries for the EC_secp384r1 certificate")
    s = s[0]
    eq(s["DomainName"], "ec-secp384r1.list.example.com", "DomainName")
    eq(s["KeyAlgorithm"], "EC_secp384r1", "KeyAlgorithm")
    eq(s["Status"], "ISSUED", "Status")
    eq(s["Type"], "IMPORTED", "Type")
    eq(s.get("SubjectAlternativeNameSummaries"),
       ["ec-secp384r1.list.example.com"], "SubjectAlternativeNameSummaries")
    for k in ("NotBefore", "NotAfter", "ImportedAt"):
        check(isinstance(s.get(k), (int, float)), "%s is %r" % (k, s.get(k)))


def test_filter_by_each_key_type(ctx):
    c, m = ctx.m.c, ctx.m
    for kt in certs.SUPPORTED_KEY_TYPES:
        want = [m.by_type[kt]] + ([m.client_arn] if kt == "RSA_2048" else [])
        eq(sorted(c.arns(key_types=[kt])), sorted(want), "keyTypes=[%s]" % kt)
    eq(sorted(c.arns(key_types=["RSA_4096", "EC_secp521r1"])),
       sorted([m.by_type["RSA_4096"], m.by_type["EC_secp521r1"]]),
       "keyTypes=[RSA_4096, EC_secp521r1]")
    eq(sorted(c.arns(key_types=ALL_KEY_TYPES)), sorted(m.base),
       "every key type")


def test_filter_by_key_usage(ctx):
    c, m = ctx.m.c, ctx.m
    got = c.arns(key_types=ALL_KEY_TYPES)
    eq(sorted(got), sorted(m.base), "all")
    enc = sorted(s["CertificateArn"] for s in c.list_all(
        Includes={"keyTypes": ALL_KEY_TYPES, "keyUsage": ["KEY_ENCIPHERMENT"]}))
    want = sorted(m.by_type[k] for k in ("RSA_1024", "RSA_2048", "RSA_3072",
                                         "RSA_4096"))
    eq(enc, want, "keyUsage=[KEY_ENCIPHERMENT]")
    ds = sorted(s["CertificateArn"] for s in c.list_all(
        Includes={"keyTypes": ALL_KEY_TYPES,
                  "keyUsage": ["DIGITAL_SIGNATURE"]}))
    eq(ds, sorted(m.base), "keyUsage=[DIGITAL_SIGNATURE]")


def test_filter_by_extended_key_usage(ctx):
    c, m = ctx.m.c, ctx.m
    cl = sorted(s["CertificateArn"] for s in c.list_all(
        Includes={"keyTypes": ALL_KEY_TYPES,
                  "extendedKeyUsage": ["TLS_WEB_CLIENT_AUTHENTICATION"]}))
    eq(cl, [m.client_arn], "extendedKeyUsage=[TLS_WEB_CLIENT_AUTHENTICATION]")
    sv = sorted(s["CertificateArn"] for s in c.list_all(
        Includes={"keyTypes": ALL_KEY_TYPES,
                  "extendedKeyUsage": ["TLS_WEB_SERVER_AUTHENTICATION"]}))
    eq(sv, sorted(set(m.base) - {m.client_arn}),
       "extendedKeyUsage=[TLS_WEB_SERVER_AUTHENTICATION]")
    cs = c.list_all(Includes={"keyTypes": ALL_KEY_TYPES,
                              "extendedKeyUsage": ["CODE_SIGNING"]})
    eq(cs, [], "extendedKeyUsage=[CODE_SIGNING]")


def test_certificate_statuses(ctx):
    c, m = ctx.m.c, ctx.m
    eq(sorted(c.arns(statuses=["ISSUED"])), sorted(m.base), "ISSUED")
    eq(c.arns(statuses=["EXPIRED", "PENDING_VALIDATION", "REVOKED"]), [],
       "EXPIRED/PENDING_VALIDATION/REVOKED")
    eq(sorted(c.arns(statuses=harness.ALL_STATUSES)), sorted(m.base),
       "every status")
    c.expect_error("ListCertificates", {"CertificateStatuses": ["BOGUS"]},
                   "ValidationException")


def test_bad_filters_are_validation_exceptions(ctx):
    c = ctx.m.c
    for body in ({"Includes": {"keyTypes": ["RSA_8192"]}},
                 {"Includes": {"keyUsage": ["SOMETHING"]}},
                 {"Includes": {"extendedKeyUsage": ["SOMETHING"]}},
                 {"SortBy": "NAME"},
                 {"SortBy": "CREATED_AT", "SortOrder": "UP"}):
        c.expect_error("ListCertificates", body, "ValidationException")
    # Wrong JSON types do not deserialize.
    for body in ({"Includes": {"keyTypes": "RSA_2048"}},
                 {"Includes": []},
                 {"CertificateStatuses": "ISSUED"},
                 {"MaxItems": "10"}):
        c.expect_error("ListCertificates", body, "SerializationException")


def test_max_items_bounds(ctx):
    c = ctx.m.c
    for bad in (0, 1001, -1):
        c.expect_error("ListCertificates", {"MaxItems": bad},
                       "ValidationException")
    doc = _list(c, MaxItems=1, Includes={"keyTypes": ALL_KEY_TYPES})
    eq(len(doc["CertificateSummaryList"]), 1, "MaxItems=1 page size")
    check(doc.get("NextToken"), "MaxItems=1 of 8 must return a NextToken")
    doc = _list(c, MaxItems=1000, Includes={"keyTypes": ALL_KEY_TYPES})
    eq(len(doc["CertificateSummaryList"]), len(ctx.m.base),
       "MaxItems=1000 page size")
    check(not doc.get("NextToken"), "a complete page has no NextToken")


def test_next_token_pages_each_certificate_exactly_once_under_change(ctx):
    c, m = ctx.m.c, ctx.m
    churn = [c.import_leaf(certs.leaf(("churn%d.list.example.com" % i,)))
             for i in range(4)]
    added = []
    try:
        stable = set(m.base)
        seen = []
        token = None
        pages = 0
        while True:
            body = {"MaxItems": 2, "Includes": {"keyTypes": ALL_KEY_TYPES}}
            if token:
                body["NextToken"] = token
            doc = c.ok("ListCertificates", body)
            page = [s["CertificateArn"] for s in doc["CertificateSummaryList"]]
            check(len(page) <= 2, "page of %d with MaxItems=2" % len(page))
            seen.extend(page)
            pages += 1
            check(pages < 50, "paging does not end")
            token = doc.get("NextToken")
            if not token:
                break
            # Change the inventory between pages.
            added.append(c.import_leaf(certs.leaf(
                ("added%d.list.example.com" % pages,))))
            if churn:
                c.ok("DeleteCertificate", {"CertificateArn": churn.pop(0)})
        dups = sorted({a for a in seen if seen.count(a) > 1})
        if dups:
            raise TestFailure("paging returned %s more than once" % dups)
        missing = stable - set(seen)
        if missing:
            raise TestFailure("paging skipped %s" % sorted(missing))
    finally:
        for a in churn + added:
            c.ok("DeleteCertificate", {"CertificateArn": a})


def test_sort_by_created_at(ctx):
    c, m = ctx.m.c, ctx.m
    asc = [s["CertificateArn"] for s in c.list_all(
        SortBy="CREATED_AT", SortOrder="ASCENDING")]
    eq(asc, m.base, "SortBy CREATED_AT ASCENDING")
    desc = [s["CertificateArn"] for s in c.list_all(
        SortBy="CREATED_AT", SortOrder="DESCENDING")]
    eq(desc, list(reversed(m.base)), "SortBy CREATED_AT DESCENDING")
    # The same order across small pages.
    paged = [s["CertificateArn"] for s in c.list_all(
        page=3, SortBy="CREATED_AT", SortOrder="DESCENDING")]
    eq(paged, list(reversed(m.base)), "DESCENDING in pages of 3")


def test_bad_next_token(ctx):
    # A token the daemon never issued is InvalidArgsException (ListCertificates'
    # own "request parameter is not valid" error); an empty or over-long
    # token breaks the NextToken shape's length and is ValidationException.
    c = ctx.m.c
    for junk in ("garbage", "eyJub3QiOiAidGhpcyJ9", "\u00ff" * 40):
        c.expect_error("ListCertificates", {"NextToken": junk},
                       "InvalidArgsException")
    c.expect_error("ListCertificates", {"NextToken": ""},
                   "ValidationException")
    c.expect_error("ListCertificates", {"NextToken": "a" * 10001},
                   "ValidationException")
