#!/usr/bin/python3
"""A small test runner for certfleet's integration tests.

Finds the test_*.py modules beside it, and runs every test_* function in
them with one argument, a shared context (ctx) holding the run's PostgreSQL
cluster and helpers to start daemons.  A module may define
setup_module(ctx), teardown_module(ctx) and setup_function(ctx).

Each test has a time limit (SIGALRM).  After each test the runner scans the
stderr of every daemon started so far for sanitizer reports and checks that
no daemon died or shut down uncleanly; any of that fails the test that was
running.  Output: one `PASS name` or `FAIL name: reason` line per test, then
`integration: N passed, N failed`.

Usage: runner.py [-k SUBSTRING]... [--build DIR] [--keep] [--timeout S]
"""

import argparse
import importlib.util
import os
import shutil
import signal
import sys
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test exceeded its time limit")


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


class Context:
    """What tests share: the cluster, a temp folder, started daemons."""

    def __init__(self, tmp, cluster):
        self.tmp = tmp
        self.cluster = cluster
        self.daemons = []
        self.module = None          # name of the running module
        self.m = types.SimpleNamespace()   # per-module scratch space
        self._n = 0

    def unique(self, stem):
        self._n += 1
        return "%s_%d" % (stem, self._n)

    def new_daemon(self, name=None, extra=None, start=True, cluster=None,
                   dbname=None):
        """A fresh database and a daemon on it (started and ready unless
        start=False)."""
        name = self.unique(name or self.module or "d")
        cluster = cluster or self.cluster
        db = dbname or cluster.create_db("cf_" + name)
        d = harness.Daemon(cluster, db, os.path.join(self.tmp, name), extra)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def new_cluster(self):
        """A cluster of the module's own, for tests that stop or crash it."""
        base = os.path.join(self.tmp, self.unique("cluster"))
        os.makedirs(base)
        return harness.PgCluster(base).init().start()

    def scan_daemons(self):
        """Problems seen in any daemon since the last scan."""
        out = []
        for d in self.daemons:
            for rep in d.new_sanitizer_reports():
                out.append("sanitizer report in %s:\n%s" % (d.stderr_path,
                                                           rep))
            for p in d.take_problems():
                out.append("certfleetd %s (%s)" % (p, d.stderr_path))
            if d.proc is not None and d.proc.poll() is not None:
                out.append("certfleetd died unexpectedly with status %s:\n%s"
                           % (d.proc.returncode, d.stderr_tail(2000)))
                d.proc = None
        return out


def discover(selected):
    mods = sorted(f for f in os.listdir(HERE)
                  if f.startswith("test_") and f.endswith(".py"))
    plan = []
    for f in mods:
        spec = importlib.util.spec_from_file_location(f[:-3],
                                                      os.path.join(HERE, f))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        tests = [(n, fn) for n, fn in vars(mod).items()
                 if n.startswith("test_") and callable(fn)]
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno
                   if hasattr(t[1], "__code__") else 0)
        names = [("%s::%s" % (f, n), fn) for n, fn in tests]
        if selected:
            names = [(n, fn) for n, fn in names
                     if any(k in n for k in selected)]
        if names:
            plan.append((f, mod, names))
    return plan


def timed(fn, seconds, *args):
    signal.alarm(int(seconds))
    try:
        return fn(*args)
    finally:
        signal.alarm(0)


def describe_exc(e):
    if isinstance(e, (harness.TestFailure, TestTimeout)):
        detail = traceback.format_exc(limit=-3)
    else:
        detail = traceback.format_exc(limit=-6)
    first = str(e).splitlines()[0] if str(e) else type(e).__name__
    return "%s: %s" % (type(e).__name__, first), detail


def report_fail(name, reason, detail, ctx, verbose):
    print("FAIL %s: %s" % (name, reason), flush=True)
    if verbose and detail:
        for line in detail.rstrip().splitlines()[-40:]:
            print("    " + line)
        for d in ctx.daemons[-2:]:
            tail = d.stderr_text().splitlines()[-15:]
            if tail:
                print("    -- last lines of %s:" % d.stderr_path)
                for line in tail:
                    print("    | " + line[:300])
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this")
    ap.add_argument("--build", help="build folder holding the binaries")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp folder")
    ap.add_argument("--timeout", type=float, default=90,
                    help="per-test time limit in seconds")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="no details under FAIL lines")
    args = ap.parse_args()
    if args.build:
        b = os.path.abspath(args.build)
        os.environ.setdefault("CERTFLEETD", b + "/src/daemon/certfleetd")
        os.environ.setdefault("CERTFLEET", b + "/src/cli/certfleet")

    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    passed = failed = 0
    plan = discover(args.k)
    tmp = harness.make_tmpdir()
    print("integration: certfleetd=%s tmp=%s" % (harness.certfleetd_path(),
                                                  tmp), flush=True)
    try:
        try:
            cluster = timed(lambda: harness.PgCluster(tmp).init().start(), 180)
        except Exception as e:      # noqa: BLE001
            reason, detail = describe_exc(e)
            n = sum(len(t) for _, _, t in plan)
            print("FAIL postgresql: could not start a cluster: %s" % reason)
            print(detail)
            print("integration: 0 passed, %d failed" % max(n, 1))
            return 1
        ctx = Context(tmp, cluster)
        for fname, mod, tests in plan:
            p, f = run_module(ctx, fname, mod, tests, args)
            passed += p
            failed += f
    except (KeyboardInterrupt, SystemExit):
        print("integration: interrupted", flush=True)
        failed += 1
        raise
    finally:
        harness.stop_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        print("integration: %d passed, %d failed" % (passed, failed),
              flush=True)
    return 0 if failed == 0 and passed > 0 else 1


def run_module(ctx, fname, mod, tests, args):
    passed = failed = 0
    verbose = not args.quiet
    ctx.module = fname[len("test_"):-len(".py")]
    ctx.m = types.SimpleNamespace()
    first_daemon = len(ctx.daemons)
    if hasattr(mod, "setup_module"):
        try:
            timed(mod.setup_module, 300, ctx)
        except Exception as e:      # noqa: BLE001
            reason, detail = describe_exc(e)
            for name, _ in tests:
                report_fail(name, "setup_module: " + reason, detail, ctx,
                            verbose and name == tests[0][0])
            ctx.scan_daemons()
            stop_module_daemons(ctx, first_daemon)
            return 0, len(tests)
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            if hasattr(mod, "setup_function"):
                timed(mod.setup_function, args.timeout, ctx)
            # A test may ask for more time than the default, e.g. a fleet
            # test: `fn.time_limit = 300`. It still stops by itself.
            timed(fn, max(args.timeout, getattr(fn, "time_limit", 0)), ctx)
            problems = ctx.scan_daemons()
            if problems:
                raise harness.TestFailure("\n".join(problems))
            print("PASS %s (%.1fs)" % (name, time.monotonic() - t0),
                  flush=True)
            passed += 1
        except Exception as e:      # noqa: BLE001
            reason, detail = describe_exc(e)
            more = ctx.scan_daemons()
            if more:
                detail += "\n" + "\n".join(more)
            report_fail(name, reason, detail, ctx, verbose)
            failed += 1
    try:
        if hasattr(mod, "teardown_module"):
            timed(mod.teardown_module, 120, ctx)
        stop_module_daemons(ctx, first_daemon)
        problems = ctx.scan_daemons()
        if problems:
            raise harness.TestFailure("\n".join(problems))
    except Exception as e:          # noqa: BLE001
        reason, detail = describe_exc(e)
        report_fail(fname + "::teardown_module", reason, detail, ctx, verbose)
        failed += 1
    return passed, failed


def stop_module_daemons(ctx, first):
    for d in ctx.daemons[first:]:
        try:
            d.stop()
        except Exception:           # noqa: BLE001
            d.kill9()


if __name__ == "__main__":
    sys.exit(main())
