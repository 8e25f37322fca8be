"""GetAccountConfiguration and PutAccountConfiguration: the default, an
update, idempotency tokens, and input validation."""

from harness import eq


def setup_module(ctx):
    ctx.m.d = ctx.new_daemon()
    ctx.m.c = ctx.m.d.client


def _days(c):
    doc = c.ok("GetAccountConfiguration", {})
    return doc["ExpiryEvents"]["DaysBeforeExpiry"]


def test_default_days_before_expiry_is_45(ctx):
    eq(ctx.m.c.ok("GetAccountConfiguration", {}),
       {"ExpiryEvents": {"DaysBeforeExpiry": 45}}, "default configuration")


def test_put_then_get(ctx):
    c = ctx.m.c
    doc = c.ok("PutAccountConfiguration",
               {"ExpiryEvents": {"DaysBeforeExpiry": 30},
                "IdempotencyToken": "token1"})
    eq(doc, {}, "PutAccountConfiguration output")
    eq(_days(c), 30, "DaysBeforeExpiry after put")
    # Repeating the same request with the same token is harmless.
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 30},
                                     "IdempotencyToken": "token1"})
    eq(_days(c), 30, "DaysBeforeExpiry after a repeated put")
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 1},
                                     "IdempotencyToken": "token2"})
    eq(_days(c), 1, "DaysBeforeExpiry = 1")
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 45},
                                     "IdempotencyToken": "token3"})
    eq(_days(c), 45, "DaysBeforeExpiry back to 45")


def test_configuration_survives_restart(ctx):
    c = ctx.m.c
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 20},
                                     "IdempotencyToken": "restart1"})
    ctx.m.d.restart()
    eq(_days(ctx.m.d.client), 20, "DaysBeforeExpiry after restart")
    ctx.m.d.client.ok("PutAccountConfiguration",
                      {"ExpiryEvents": {"DaysBeforeExpiry": 45},
                       "IdempotencyToken": "restart2"})


def test_out_of_range_and_wrong_types(ctx):
    c = ctx.m.c
    for bad in (0, -1, 2 ** 40):
        c.expect_error("PutAccountConfiguration",
                       {"ExpiryEvents": {"DaysBeforeExpiry": bad},
                        "IdempotencyToken": "tokbad"}, "ValidationException")
    # Wrong JSON types do not deserialize.
    for bad in ("30", 1.5):
        c.expect_error("PutAccountConfiguration",
                       {"ExpiryEvents": {"DaysBeforeExpiry": bad},
                        "IdempotencyToken": "tokbad"},
                       "SerializationException")
    c.expect_error("PutAccountConfiguration",
                   {"ExpiryEvents": 5, "IdempotencyToken": "tokbad"},
                   "SerializationException")
    eq(_days(c), 45, "DaysBeforeExpiry unchanged")


def test_idempotency_token_required_and_checked(ctx):
    c = ctx.m.c
    c.expect_error("PutAccountConfiguration",
                   {"ExpiryEvents": {"DaysBeforeExpiry": 10}},
                   "ValidationException")
    for bad in ("", "x" * 33, "has-dash", "has space"):
        c.expect_error("PutAccountConfiguration",
                       {"ExpiryEvents": {"DaysBeforeExpiry": 10},
                        "IdempotencyToken": bad}, "ValidationException")
    c.expect_error("PutAccountConfiguration",
                   {"ExpiryEvents": {"DaysBeforeExpiry": 10},
                    "IdempotencyToken": 12}, "SerializationException")
    c.ok("PutAccountConfiguration", {"ExpiryEvents": {"DaysBeforeExpiry": 45},
                                     "IdempotencyToken": "x" * 32})
    eq(_days(c), 45, "DaysBeforeExpiry unchanged")
