"""A small RDAP server (RFC 9083 over HTTP) for the contact finder's test.

Serves tests/unit/rdap/domain/<name> as application/rdap+json, answers
unknown domains with an RDAP 404, and a few special domains with the
misbehaviour the client must survive: redirects, a redirect loop, a body
over the client's size limit, and a server that is too slow. Requests that
do not accept application/rdap+json get 406. Usage:

    rdap_server.py FOLDER ADDRESS PORTFILE   (port 0: any; written to PORTFILE)
"""
import http.server
import os
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, status, body, ctype="application/rdap+json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if "application/rdap+json" not in self.headers.get("Accept", ""):
            return self.send(406, b"{}")
        name = self.path.rsplit("/", 1)[-1].lower()
        if name == "moved.com":
            return self.send(301, b"", headers=[("Location", "/domain/example.com")])
        if name == "loop.com":
            return self.send(302, b"", headers=[("Location", "/domain/loop.com")])
        if name == "huge.com":
            return self.send(200, b'{"x":"' + b"a" * (3 << 20) + b'"}')
        if name == "slow.com":
            time.sleep(3)
        if name == "garbage.com":
            return self.send(200, b"<html>not json</html>", "text/html")
        path = os.path.join(self.server.folder, "domain", name)
        if self.path.startswith("/domain/") and os.path.isfile(path):
            with open(path, "rb") as f:
                return self.send(200, f.read())
        return self.send(404, b'{"errorCode":404,"title":"Not Found"}')

    def log_message(self, fmt, *args):
        pass


def main():
    folder, address, portfile = sys.argv[1:4]
    server = http.server.ThreadingHTTPServer((address, 0), Handler)
    server.folder = folder
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
