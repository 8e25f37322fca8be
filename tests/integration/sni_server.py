"""A TLS endpoint for many certificates at once: for the SNI name N it
serves ROOT/N/fullchain.pem with ROOT/N/key.pem, read again at every
handshake, so what certfleet deploys is served at once (the binding's
reload action has nothing to do). Usage: sni_server.py ADDR ROOT PORTFILE"""

import os
import socket
import ssl
import sys
import threading


def main():
    addr, root, portfile = sys.argv[1:4]
    fallback = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)

    def pick(sslobj, name, ctx):
        d = os.path.join(root, name or "")
        try:
            cx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cx.load_cert_chain(os.path.join(d, "fullchain.pem"),
                               os.path.join(d, "key.pem"))
            sslobj.context = cx
        except (OSError, ssl.SSLError):
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None

    fallback.sni_callback = pick
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 0))
    srv.listen(256)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)

    def serve(conn):
        try:
            conn.settimeout(5)
            with fallback.wrap_socket(conn, server_side=True) as t:
                t.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
