"""certfleetd's command line: --check-config prints the effective config and
names file:line of a mistake, --version and --help.  No daemon is left
running by these tests."""

import os
import re

import harness
from harness import check, eq


def setup_module(ctx):
    # A daemon object only to get a complete, valid config file; it is never
    # started.
    ctx.m.d = ctx.new_daemon(start=False)


def _version():
    with open(os.path.join(harness.TOP, "configure.ac")) as f:
        m = re.search(r"AC_INIT\(\[certfleet\],\s*\[([^\]]+)\]", f.read())
    return m.group(1)


def _run(*args):
    binary = harness.certfleetd_path()
    if not os.access(binary, os.X_OK):
        raise harness.TestFailure("daemon binary %s is missing" % binary)
    r = harness.run_cmd([binary] + list(args), timeout=20)
    check(r.returncode >= 0, "certfleetd %s died of signal %d" % (
        " ".join(args), -r.returncode))
    for m in harness.SANITIZER_MARKERS:
        check(m.encode() not in r.stderr, "sanitizer report:\n%s"
              % r.stderr.decode(errors="replace")[-3000:])
    return r


def _write(ctx, name, text):
    path = os.path.join(ctx.m.d.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def _good_text(ctx):
    with open(ctx.m.d.config_path) as f:
        return f.read()


def test_check_config_prints_effective_config(ctx):
    r = _run("--config", ctx.m.d.config_path, "--check-config")
    out = r.stdout.decode()
    eq(r.returncode, 0, "exit status (stderr: %s)" % r.stderr.decode())
    for needle in ("[daemon]", "[database]", "[control]", "[keys]",
                   "[identity]", ctx.m.d.socket, "test-host-1",
                   "123456789012", "us-east-1"):
        check(needle in out, "--check-config output lacks %r:\n%s"
              % (needle, out[:3000]))
    check(re.search(r"^\s*host_name\s*=\s*test-host-1\s*$", out, re.M),
          "host_name line missing")
    # It must not try to reach the database or create the socket.
    check(not os.path.exists(ctx.m.d.socket),
          "--check-config created the control socket")


def test_check_config_shows_defaults(ctx):
    # Keys the file does not set still appear, with their defaults, so the
    # output is the whole effective configuration.
    r = _run("--config", ctx.m.d.config_path, "--check-config")
    out = r.stdout.decode()
    keys = re.findall(r"^\s*([a-z_]+)\s*=", out, re.M)
    check(len(keys) > 10, "only %d keys printed; defaults missing?\n%s"
          % (len(keys), out[:2000]))


def _bad_line(ctx, name, section, line):
    """A config with `line` inserted at the top of `section`; returns the
    path and the line number of the insertion."""
    lines = _good_text(ctx).splitlines()
    idx = lines.index("[%s]" % section) + 1
    lines.insert(idx, line)
    path = _write(ctx, name, "\n".join(lines) + "\n")
    return path, idx + 1


def test_unknown_key_names_file_and_line(ctx):
    path, lineno = _bad_line(ctx, "unknown-key.conf", "daemon",
                             "no_such_key = 1")
    r = _run("--config", path, "--check-config")
    eq(r.returncode, 1, "exit status")
    msg = (r.stderr + r.stdout).decode()
    check("%s:%d" % (path, lineno) in msg,
          "message does not name %s:%d: %r" % (path, lineno, msg))


def test_bad_value_names_file_and_line(ctx):
    path, lineno = _bad_line(ctx, "bad-value.conf", "daemon",
                             "log_level = loudest")
    lines = open(path).read().splitlines()
    # Drop the file's own log_level so there is exactly one.
    lines = [ln for i, ln in enumerate(lines)
             if not (ln.startswith("log_level = debug"))]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = _run("--config", path, "--check-config")
    eq(r.returncode, 1, "exit status")
    msg = (r.stderr + r.stdout).decode()
    check("%s:%d" % (path, lineno) in msg,
          "message does not name %s:%d: %r" % (path, lineno, msg))


def test_unknown_section_and_syntax_error(ctx):
    for name, text in (("section.conf", "[nonsense]\nx = 1\n"),
                       ("syntax.conf", "[daemon\nhost_name = x\n"),
                       ("noequals.conf", "[daemon]\nhost_name\n")):
        path = _write(ctx, name, text + _good_text(ctx))
        r = _run("--config", path, "--check-config")
        eq(r.returncode, 1, "exit status for %s" % name)
        msg = (r.stderr + r.stdout).decode()
        check(re.search(re.escape(path) + r":\d+", msg),
              "%s: message does not name file:line: %r" % (name, msg))


def test_missing_config_file(ctx):
    r = _run("--config", "/nonexistent/certfleetd.conf", "--check-config")
    check(r.returncode != 0, "exit status 0 for a missing file")
    check(b"/nonexistent/certfleetd.conf" in r.stderr,
          "message does not name the file: %r" % r.stderr)


def test_version(ctx):
    r = _run("--version")
    eq(r.returncode, 0, "exit status")
    check(_version() in r.stdout.decode(),
          "--version output %r lacks %s" % (r.stdout, _version()))


def test_help_and_bad_option(ctx):
    r = _run("--help")
    eq(r.returncode, 0, "exit status")
    out = r.stdout.decode()
    for opt in ("--config", "--check-config", "--version", "--help"):
        check(opt in out, "--help does not mention %s" % opt)
    r = _run("--no-such-option")
    check(r.returncode != 0, "exit status 0 for an unknown option")
    check(r.stderr.strip(), "nothing on stderr for an unknown option")
