#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Linux side of sluice's TCP tests: kernel sockets against sluice's stack.

usage:
  tcp_peer.py echo HOST PORT BYTES            send BYTES random bytes, read them back, compare sha256
  tcp_peer.py discard HOST PORT BYTES         send BYTES, half-close, wait for sluice's FIN
  tcp_peer.py source HOST PORT BYTES          read BYTES of chargen and check the pattern
  tcp_peer.py concurrent HOST PORT N          N echo connections open at once, each verified
  tcp_peer.py churn HOST PORT N PARALLEL      N short echo connections, PARALLEL at a time
  tcp_peer.py serve ADDR PORT SECONDS         a kernel echo server (for sluice's active opens)

Prints one line of figures and exits 0 on success, 1 on any mismatch or error.
Every operation has a timeout; nothing runs unbounded.
"""
import hashlib
import os
import selectors
import socket
import sys
import threading
import time

TIMEOUT = 300


def _chargen_period():
    # RFC 864's pattern repeats every 95 lines of 74 bytes.
    out = bytearray(95 * 74)
    for i in range(len(out)):
        line, col = divmod(i, 74)
        out[i] = 13 if col == 72 else 10 if col == 73 else 32 + (line + col) % 95
    return bytes(out)


CHARGEN = _chargen_period()


def chargen(pos, n):
    start = pos % len(CHARGEN)
    reps = (start + n) // len(CHARGEN) + 1
    return (CHARGEN * reps)[start:start + n]


def connect(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def echo(host, port, nbytes):
    data = os.urandom(nbytes)
    s = connect(host, port)
    got = hashlib.sha256()
    received = [0]

    def reader():
        while received[0] < nbytes:
            b = s.recv(1 << 16)
            if not b:
                break
            got.update(b)
            received[0] += len(b)

    t = threading.Thread(target=reader)
    t0 = time.time()
    t.start()
    s.sendall(data)
    t.join(TIMEOUT)
    dt = time.time() - t0
    s.shutdown(socket.SHUT_WR)
    eof = s.recv(1) == b""
    s.close()
    ok = received[0] == nbytes and got.hexdigest() == hashlib.sha256(data).hexdigest() and eof
    print(f"echo {nbytes} bytes in {dt:.2f}s ({nbytes * 8 / dt / 1e6:.0f} Mbit/s each way) "
          f"sha256 {'match' if ok else 'MISMATCH'} eof={eof}")
    return ok


def discard(host, port, nbytes):
    s = connect(host, port)
    chunk = os.urandom(1 << 16)
    t0 = time.time()
    sent = 0
    while sent < nbytes:
        n = min(len(chunk), nbytes - sent)
        s.sendall(chunk[:n])
        sent += n
    s.shutdown(socket.SHUT_WR)
    eof = s.recv(1) == b""
    dt = time.time() - t0
    s.close()
    print(f"discard {nbytes} bytes in {dt:.2f}s ({nbytes * 8 / dt / 1e6:.0f} Mbit/s), peer FIN {eof}")
    return eof


def source(host, port, nbytes):
    s = connect(host, port)
    pos = 0
    ok = True
    t0 = time.time()
    h = hashlib.sha256()
    while pos < nbytes:
        b = s.recv(min(1 << 16, nbytes - pos))
        if not b:
            break
        if b != chargen(pos, len(b)):
            ok = False
            break
        h.update(b)
        pos += len(b)
    dt = time.time() - t0
    s.close()
    ok = ok and pos == nbytes
    print(f"source {pos} bytes in {dt:.2f}s ({pos * 8 / dt / 1e6:.0f} Mbit/s) pattern "
          f"{'ok' if ok else 'WRONG'} sha256 {h.hexdigest()[:16]}")
    return ok


def concurrent(host, port, n):
    socks = []
    t0 = time.time()
    for _ in range(n):
        socks.append(connect(host, port))
    opened = time.time() - t0
    ok = 0
    for i, s in enumerate(socks):
        s.sendall(b"conn %d\n" % i)
    for i, s in enumerate(socks):
        want = b"conn %d\n" % i
        got = b""
        while len(got) < len(want):
            b = s.recv(64)
            if not b:
                break
            got += b
        ok += got == want
    for s in socks:
        s.close()
    print(f"concurrent {n} connections open at once (opened in {opened:.2f}s), {ok} echoed correctly")
    return ok == n


def churn(host, port, n, parallel):
    done = [0]
    bad = [0]
    lock = threading.Lock()

    def worker(count):
        for i in range(count):
            try:
                s = connect(host, port)
                s.sendall(b"x" * 100)
                got = b""
                while len(got) < 100:
                    b = s.recv(100)
                    if not b:
                        break
                    got += b
                s.close()
                with lock:
                    done[0] += 1
                    bad[0] += got != b"x" * 100
            except OSError:
                with lock:
                    bad[0] += 1

    per = n // parallel
    threads = [threading.Thread(target=worker, args=(per,)) for _ in range(parallel)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    dt = time.time() - t0
    print(f"churn {done[0]} connections in {dt:.1f}s ({done[0] / dt:.0f}/s), {bad[0]} failed")
    return done[0] == per * parallel and bad[0] == 0


def serve(addr, port, seconds):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1024)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    deadline = time.time() + seconds
    conns = 0
    while time.time() < deadline:
        for key, _ in sel.select(timeout=0.5):
            if key.fileobj is ls:
                c, _ = ls.accept()
                c.setblocking(True)
                conns += 1
                threading.Thread(target=echo_conn, args=(c,), daemon=True).start()
    print(f"served {conns} connections")
    return True


def echo_conn(c):
    c.settimeout(TIMEOUT)
    try:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            c.sendall(b)
    except OSError:
        pass
    c.close()


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    mode, host, port = argv[1], argv[2], int(argv[3])
    args = [int(a) for a in argv[4:]]
    fn = {"echo": echo, "discard": discard, "source": source, "concurrent": concurrent,
          "churn": churn, "serve": serve}.get(mode)
    if fn is None:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return 0 if fn(host, port, *args) else 1
    except (OSError, socket.timeout) as e:
        print(f"{mode}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
