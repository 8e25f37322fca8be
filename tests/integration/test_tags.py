"""AddTagsToCertificate, ListTagsForCertificate, RemoveTagsFromCertificate:
limits, character rules, case, the reserved aws: prefix, and removal by key
or by key and value."""

import certs
from harness import check, eq

UNKNOWN = ("arn:aws:acm:us-east-1:123456789012:certificate/"
           "00000000-0000-4000-8000-000000000000")


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon()
    ctx.m.c = ctx.m.d.client


def setup_function(ctx):
    ctx.m.c.delete_all()
    ctx.m.arn = ctx.m.c.import_leaf(certs.leaf(("tags.example.com",)))


def _add(ctx, *tags):
    return ctx.m.c.ok("AddTagsToCertificate",
                      {"CertificateArn": ctx.m.arn, "Tags": list(tags)})


def _add_err(ctx, exc, *tags):
    return ctx.m.c.expect_error("AddTagsToCertificate",
                                {"CertificateArn": ctx.m.arn,
                                 "Tags": list(tags)}, exc)


def _remove(ctx, *tags):
    return ctx.m.c.ok("RemoveTagsFromCertificate",
                      {"CertificateArn": ctx.m.arn, "Tags": list(tags)})


def _tags(ctx):
    return ctx.m.c.tags(ctx.m.arn)


def test_add_list_remove(ctx):
    c = ctx.m.c
    doc = c.ok("ListTagsForCertificate", {"CertificateArn": ctx.m.arn})
    eq(doc.get("Tags", []), [], "tags of an untagged certificate")
    eq(_add(ctx, {"Key": "Env", "Value": "Prod"}, {"Key": "Team"}), {},
       "AddTagsToCertificate output")
    eq(_tags(ctx), [("Env", "Prod"), ("Team", None)], "tags after add")
    doc = c.ok("ListTagsForCertificate", {"CertificateArn": ctx.m.arn})
    for t in doc["Tags"]:
        check(set(t) <= {"Key", "Value"}, "tag members %r" % t)
    eq(_remove(ctx, {"Key": "Team"}), {}, "RemoveTagsFromCertificate output")
    eq(_tags(ctx), [("Env", "Prod")], "tags after remove")


def test_adding_an_existing_key_replaces_its_value(ctx):
    _add(ctx, {"Key": "Env", "Value": "Dev"})
    _add(ctx, {"Key": "Env", "Value": "Prod"})
    eq(_tags(ctx), [("Env", "Prod")], "tags")


def test_fifty_tags_max_then_too_many_tags(ctx):
    _add(ctx, *[{"Key": "k%02d" % i, "Value": "v"} for i in range(50)])
    eq(len(_tags(ctx)), 50, "tag count")
    _add_err(ctx, "TooManyTagsException", {"Key": "k50", "Value": "v"})
    eq(len(_tags(ctx)), 50, "tag count after TooManyTagsException")
    # Replacing a value of an existing key is not a new tag.
    _add(ctx, {"Key": "k00", "Value": "changed"})
    check(("k00", "changed") in _tags(ctx), "k00 replaced")


def test_too_many_tags_counts_existing_ones(ctx):
    _add(ctx, *[{"Key": "a%02d" % i} for i in range(30)])
    _add_err(ctx, "TooManyTagsException",
             *[{"Key": "b%02d" % i} for i in range(21)])
    eq(len(_tags(ctx)), 30, "nothing of a refused request is applied")


def test_more_than_fifty_in_one_request_is_validation(ctx):
    _add_err(ctx, "ValidationException",
             *[{"Key": "k%02d" % i} for i in range(51)])
    _add_err(ctx, "ValidationException")        # empty list: min 1
    eq(_tags(ctx), [], "tags")


def test_key_and_value_lengths(ctx):
    _add(ctx, {"Key": "K" * 128, "Value": "V" * 256})
    _add(ctx, {"Key": "empty-value", "Value": ""})
    _add_err(ctx, "ValidationException", {"Key": "K" * 129})
    _add_err(ctx, "ValidationException", {"Key": ""})
    _add_err(ctx, "ValidationException", {"Key": "x", "Value": "V" * 257})
    _add_err(ctx, "ValidationException", {"Value": "no key"})
    eq(_tags(ctx), [("K" * 128, "V" * 256), ("empty-value", "")], "tags")


def test_character_pattern(ctx):
    ok = [{"Key": "a-z_A.Z:0/9=+-@", "Value": "x y"},
          {"Key": "Umgebung-\u00c4", "Value": "\u540d\u524d \u5024"}]
    _add(ctx, *ok)
    for bad in ({"Key": "bad#key"}, {"Key": "semi;colon"},
                {"Key": "x", "Value": "bad*value"},
                {"Key": "new\nline"}):
        _add_err(ctx, "ValidationException", bad)
    eq(_tags(ctx), sorted((t["Key"], t["Value"]) for t in ok), "tags")


def test_keys_are_case_sensitive(ctx):
    _add(ctx, {"Key": "env", "Value": "a"}, {"Key": "Env", "Value": "b"})
    eq(_tags(ctx), [("Env", "b"), ("env", "a")], "tags")
    _remove(ctx, {"Key": "ENV"})
    eq(len(_tags(ctx)), 2, "removing ENV removes neither env nor Env")


def test_aws_prefix_is_reserved(ctx):
    _add_err(ctx, "InvalidTagException", {"Key": "aws:createdBy", "Value": "x"})
    _add_err(ctx, "InvalidTagException", {"Key": "ok", "Value": "x"},
             {"Key": "aws:foo"})
    c = ctx.m.c
    c.expect_error("RemoveTagsFromCertificate",
                   {"CertificateArn": ctx.m.arn, "Tags": [{"Key": "aws:x"}]},
                   "InvalidTagException")
    eq(_tags(ctx), [], "tags")


def test_remove_by_key_or_by_key_and_value(ctx):
    _add(ctx, {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"},
         {"Key": "c", "Value": "3"})
    _remove(ctx, {"Key": "a"})                          # key only: removed
    _remove(ctx, {"Key": "b", "Value": "not-2"})        # mismatch: kept
    _remove(ctx, {"Key": "c", "Value": "3"})            # match: removed
    _remove(ctx, {"Key": "never-there"})                # no-op
    eq(_tags(ctx), [("b", "2")], "tags after removals")


def test_tags_on_import(ctx):
    c = ctx.m.c
    arn = c.import_leaf(certs.leaf(("tagged.example.com",)),
                        tags=[{"Key": "Env", "Value": "Prod"},
                              {"Key": "Owner", "Value": "ops"}])
    eq(c.tags(arn), [("Env", "Prod"), ("Owner", "ops")], "tags from import")


def test_unknown_and_malformed_arn(ctx):
    c = ctx.m.c
    for action in ("AddTagsToCertificate", "RemoveTagsFromCertificate"):
        c.expect_error(action, {"CertificateArn": UNKNOWN,
                                "Tags": [{"Key": "a"}]},
                       "ResourceNotFoundException")
        c.expect_error(action, {"CertificateArn": "arn:aws:s3:::bucket-name-x",
                                "Tags": [{"Key": "a"}]},
                       "InvalidArnException")
        c.expect_error(action, {"CertificateArn": ctx.m.arn},
                       "ValidationException")
    c.expect_error("ListTagsForCertificate", {"CertificateArn": UNKNOWN},
                   "ResourceNotFoundException")


def test_tags_go_with_the_certificate(ctx):
    c = ctx.m.c
    _add(ctx, {"Key": "Env", "Value": "Prod"})
    c.ok("DeleteCertificate", {"CertificateArn": ctx.m.arn})
    c.expect_error("ListTagsForCertificate", {"CertificateArn": ctx.m.arn},
                   "ResourceNotFoundException")
