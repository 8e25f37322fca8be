"""A real SMTP server for the mail delivery test: it stores every message it
accepts, byte for byte, as a file in a Maildir folder, counts EHLO/HELO
greetings (one per connection) in a file, and refuses recipients on request:
an address containing "tempfail" gets 451 and one containing "reject" 550
to RCPT TO; one containing "datatemp" gets 452 and "dataperm" 554 after
the message data.

With a certificate it also listens for STARTTLS (required, then AUTH
required: user "certfleet", password "s3cret") and for implicit TLS.

Usage: smtp_sink.py PORT MAILDIR READY_FILE [STARTTLS_PORT SMTPS_PORT
CERT KEY]  (runs until SIGTERM)
"""
import itertools
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = b"certfleet", b"s3cret"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER
          and auth_data.password == PASSWORD)
    # handled=False: aiosmtpd then answers 535 itself
    return AuthResult(success=ok, handled=False)


class Sink:
    def __init__(self, maildir, counter_file):
        self.maildir = maildir
        self.counter_file = counter_file
        self.seq = itertools.count()
        self.greetings = 0
        self.lock = threading.Lock()
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)

    def _greeted(self):
        with self.lock:
            self.greetings += 1
            tmp = self.counter_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % self.greetings)
            os.replace(tmp, self.counter_file)

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        self._greeted()
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self._greeted()
        return "250 %s" % server.hostname

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if "tempfail" in address:
            return "451 4.3.0 <%s>: try again later (sink)" % address
        if "reject" in address:
            return "550 5.1.1 <%s>: recipient rejected by sink" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpts = " ".join(envelope.rcpt_tos)
        if "datatemp" in rcpts:
            return "452 4.3.1 insufficient storage (sink)"
        if "dataperm" in rcpts:
            return "554 5.6.0 message content refused by sink"
        name = "%d.%d.sink" % (os.getpid(), next(self.seq))
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        return "250 2.0.0 Ok: queued as %s" % name


def tls_controllers(sink, starttls_port, smtps_port, cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    starttls = Controller(sink, hostname="127.0.0.1", port=starttls_port,
                          tls_context=ctx, require_starttls=True,
                          auth_required=True, authenticator=authenticator)
    smtps = Controller(sink, hostname="127.0.0.1", port=smtps_port,
                       ssl_context=ctx, server_hostname="127.0.0.1")
    return [starttls, smtps]


def main():
    port, maildir, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sink = Sink(maildir, os.path.join(os.path.dirname(ready), "greetings"))
    controllers = [Controller(sink, hostname="127.0.0.1", port=port)]
    if len(sys.argv) == 8:
        controllers += tls_controllers(sink, int(sys.argv[4]),
                                       int(sys.argv[5]), sys.argv[6],
                                       sys.argv[7])
    for controller in controllers:
        controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    with open(ready, "w") as f:
        f.write("%d\n" % os.getpid())
    stop.wait()
    for controller in controllers:
        controller.stop()


if __name__ == "__main__":
    main()
