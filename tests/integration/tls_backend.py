# SPDX-License-Identifier: MIT
# An HTTPS test backend for test_backend_tls.sh: tls_backend.py ADDRESS PORT NAME CERT KEY [CA]
# (with CA: a client certificate from CA is required, mutual TLS), or
# tls_backend.py ADDRESS PORT NAME plain (a server that answers anything, a ClientHello too,
# with a plain-HTTP 400 and closes: an http server behind an https:// URL).
# HTTP/1.1 with keep-alive, one thread per connection. Every response has X-Backend: NAME.
#   GET .../conns       the TCP connections (TLS handshakes) it has accepted so far
#   GET .../resumed     of which resumed a TLS session (a ticket)
#   GET .../bytes/N     N bytes of a fixed pattern (b"0123456789abcdef" repeated)
#   GET .../chunked     "alpha-beta-gamma" in three chunks
#   GET .../ws/...      101 to an Upgrade request, then the bytes echoed until the peer's end
#   POST ...            the request body's sha256 (hex)
#   GET anything else   NAME
import hashlib, http.server, socket, socketserver, ssl, sys, threading

host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conns = resumed = 0
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def setup(self):
        global conns
        with lock:
            conns += 1
        super().setup()

    def reply(self, body, extra=()):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-Backend", name)
        for k, v in extra:
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body is not None:
            self.wfile.write(body)

    def do_GET(self):
        global resumed
        p = self.path
        if not getattr(self, "seen", False):  # the connection's first request
            self.seen = True
            if getattr(self.connection, "session_reused", False):
                with lock:
                    resumed += 1
        if p.endswith("/conns") or p.endswith("/resumed"):
            with lock:
                n = conns if p.endswith("/conns") else resumed
            return self.reply(str(n).encode())
        if "/bytes/" in p:
            n = int(p.rsplit("/bytes/", 1)[1])
            return self.reply((b"0123456789abcdef" * (n // 16 + 1))[:n])
        if p.endswith("/chunked"):
            self.reply(None, [("Transfer-Encoding", "chunked")])
            for piece in (b"alpha-", b"beta-", b"gamma"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if "/ws/" in p and self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            c = self.connection
            while True:  # until the peer's close_notify (recv returns b"")
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
            self.close_connection = True
            return
        self.reply(name.encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        while n > 0:
            b = self.rfile.read(min(n, 65536))
            if not b:
                break
            h.update(b)
            n -= len(b)
        self.reply(h.hexdigest().encode())


class Plain(socketserver.BaseRequestHandler):
    def handle(self):
        global conns
        with lock:
            conns += 1
        self.request.settimeout(5)
        try:
            self.request.recv(4096)
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
        except OSError:
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class PlainServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if sys.argv[4] == "plain":
    PlainServer((host, port), Plain).serve_forever()
else:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    if len(sys.argv) > 6:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(sys.argv[6])
    srv = Server((host, port), H)
    # The handshake runs in the connection's thread, not in accept (a failed one must not
    # stop the server).
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    srv.serve_forever()
