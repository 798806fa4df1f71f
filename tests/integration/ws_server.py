# SPDX-License-Identifier: MIT
# An Upgrade test backend for the integration tests: ws_server.py ADDRESS PORT. With
# Sec-WebSocket-Key it speaks RFC 6455 (Sec-WebSocket-Accept, frames echoed unmasked, a close
# frame answered); without, it answers 101 to an `Upgrade: websocket` request and echoes raw
# bytes until the client's FIN. Exits after 60 s without a connection.
import base64, hashlib, re, socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(8); srv.settimeout(60)
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
def recvn(c, n, buf):
    while len(buf) < n:
        b = c.recv(65536)
        if not b: raise EOFError
        buf += b
    return buf[:n], buf[n:]
def websocket(c, key, buf):
    acc = base64.b64encode(hashlib.sha1(key + GUID).digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n")
    while True:
        h, buf = recvn(c, 2, buf)
        op, n = h[0] & 0x0f, h[1] & 0x7f
        if n == 126:
            e, buf = recvn(c, 2, buf); n = int.from_bytes(e, "big")
        elif n == 127:
            e, buf = recvn(c, 8, buf); n = int.from_bytes(e, "big")
        mask, buf = recvn(c, 4, buf)
        data, buf = recvn(c, n, buf)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        ln = bytes([n]) if n < 126 else (b"\x7e" + n.to_bytes(2, "big") if n < 65536
                                          else b"\x7f" + n.to_bytes(8, "big"))
        c.sendall(bytes([0x80 | op]) + ln + data)
        if op == 8:
            c.close(); return
def serve(c):
    c.settimeout(20); buf = b""
    while b"\r\n\r\n" not in buf:
        b = c.recv(4096)
        if not b: return
        buf += b
    key = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)", buf)
    if key:
        try: websocket(c, key.group(1), buf.split(b"\r\n\r\n", 1)[1])
        except (EOFError, OSError): pass
        return
    ok = b"upgrade: websocket" in buf.lower()
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
              if ok else b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    rest = buf.split(b"\r\n\r\n", 1)[1]
    if rest: c.sendall(rest)
    while True:
        b = c.recv(65536)
        if not b: break
        c.sendall(b)
    c.close()
while True:
    try: c, _ = srv.accept()
    except socket.timeout: break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
