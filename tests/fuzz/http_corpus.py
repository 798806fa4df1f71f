#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpora of fuzz_http_request and fuzz_http_response: each file is two
# control bytes (byte 0: bit 0 small limits, bits 1+ the request method a response answers;
# both bytes: the seed of the piece sizes) and a byte stream. Run from the repository root:
#   python3 tests/fuzz/http_corpus.py
import os

REQUESTS = {
    "get": b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "browser": b"GET /products/shoes?color=blue HTTP/1.1\r\nHost: shop.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\nCookie: a=b\r\n\r\n",
    "post_length": b"POST /a/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n"
    b"Expect: 100-continue\r\n\r\nhello world",
    "chunked": b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;name=value\r\nhello\r\n6 ; a ; b = \"q\\\"d;\"\r\n world\r\n0;x\r\nX-T: yes\r\n\r\n",
    "pipelined": b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\n"
    b"Content-Length: 3\r\n\r\nabcGET /3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "absolute": b"GET http://a.example:8080/a?q HTTP/1.1\r\nHost: x\r\n"
    b"Connection: close, X-A\r\nX-A: 1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    "upgrade": b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    "options": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "preflight": b"OPTIONS /x HTTP/1.1\r\nHost: a\r\nOrigin: https://a.example\r\n"
    b"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: put, x-b\r\n\r\n",
    "smuggle_cl_te": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "smuggle_te_te": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
    b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n",
    "smuggle_obs_fold": b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
    "http10": b"GET / HTTP/1.0\r\n\r\n",
}

RESPONSES = {
    "length": (0, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello"),
    "chunked": (0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                b"3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n"),
    "close": (0, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close"),
    "interim": (0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
                b"HTTP/1.0 200\r\nConnection: keep-alive, X-B\r\nX-B: 1\r\nContent-Length: 2\r\n\r\nok"),
    "head": (1, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
    "upgrade": (0, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\n\r\n\x81\x02hi"),
    "not_modified": (0, b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
}


def write(folder, name, ctrl, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(bytes(ctrl) + data)


for name, data in REQUESTS.items():
    write("tests/fuzz/corpus/http_request", name, [0x10, 0x07], data)
    write("tests/fuzz/corpus/http_request", name + "_small", [0x11, 0x2a], data)
for name, (head, data) in RESPONSES.items():
    # byte 0 >> 1 divisible by 3 means the request was HEAD
    b0 = 0x00 if head else 0x02
    write("tests/fuzz/corpus/http_response", name, [b0, 0x07], data)
    write("tests/fuzz/corpus/http_response", name + "_small", [b0 | 1, 0x2a], data)
