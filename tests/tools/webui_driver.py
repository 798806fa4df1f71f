#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drive sluice's web UI in a headless Chromium over the DevTools protocol.

usage: webui_driver.py --devtools-file FILE --ui URL --user U --password P --shot PNG
                       [--backend URL] [--location PATH] [--timeout S]

FILE is Chromium's DevToolsActivePort (its --user-data-dir): the port of the browser's
DevTools endpoint. The script opens the UI, logs in by typing into the form and clicking the
button (real input events, not JavaScript), waits for the charts and the backend table, drains
the backend BACKEND of location PATH with its Drain button and waits for its row to say
"draining", checks the same through GET /api/backends with the page's own token, sets its
weight, enables it again, adds a backend with the form, and saves a screenshot of the whole
page to PNG (taken while the backend is draining).
Without the backends API (GET /api/backends answers 404) the actions are reported as skipped.

Each check is one line on stdout: "ok<TAB>name", "FAIL<TAB>name<TAB>why" or
"SKIP<TAB>name<TAB>why". Exit status 0 when the script ran to its end, 1 when it could not.
Needs Debian's python3-websocket (for /usr/bin/python3).
"""
import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.request

import websocket


def out(kind, name, why=""):
    print("%s\t%s%s" % (kind, name, "\t" + why if why else ""), flush=True)


class Page:
    """One DevTools session on the browser's first page target."""

    def __init__(self, port, timeout):
        self.timeout = timeout
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                                   timeout=10))
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise RuntimeError("Chromium has no page target: %s" % targets)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.errors = []  # console errors and uncaught exceptions of the page

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self._event(msg)

    def _event(self, msg):
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Runtime.exceptionThrown":
            self.errors.append(p["exceptionDetails"].get("exception", {}).get(
                "description", p["exceptionDetails"].get("text")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a.get("description")))
                                        for a in p.get("args", [])))

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"].get("text")))
        return r.get("result", {}).get("value")

    def wait(self, expr, timeout=None):
        end = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < end:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.2)
        return None

    def click(self, element_expr):
        """A real left click in the middle of the element (scrolled into view first)."""
        xy = self.js("(() => { const e = %s; if (!e) return null; "
                     "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                     "return [r.x + r.width / 2, r.y + r.height / 2]; })()" % element_expr)
        if xy is None:
            raise RuntimeError("nothing to click: " + element_expr)
        x, y = xy
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left",
                  clickCount=1)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left",
                  clickCount=1)

    def type_into(self, element_expr, text):
        self.click(element_expr)
        self.js("(%s).select()" % element_expr)
        self.call("Input.insertText", text=text)

    def screenshot(self, path):
        # The whole page, not only the part scrolled into view.
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": size["width"],
                               "height": size["height"], "scale": 1})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def api(base, token, method, path):
    req = urllib.request.Request(base + path, method=method,
                                 headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None


def check(name, ok, why=""):
    out("ok" if ok else "FAIL", name, "" if ok else why)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devtools-file", required=True)
    ap.add_argument("--ui", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--shot", required=True)
    ap.add_argument("--backend", default="http://198.18.0.12:8080")
    ap.add_argument("--location", default="/")
    ap.add_argument("--add-url", default="http://198.18.0.14:8080")
    ap.add_argument("--add-location", default="/api/")
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()
    base = a.ui.split("/ui/")[0]
    port = int(open(a.devtools_file).read().split()[0])

    pg = Page(port, a.timeout)
    pg.call("Runtime.enable")
    pg.call("Page.enable")
    pg.call("Page.navigate", url=a.ui)
    check("the UI page loads with its login form",
          pg.wait("document.readyState === 'complete' && "
                  "!document.getElementById('login-view').hidden"), "no login form")
    check("Chart.js is loaded from the server (no CDN)",
          pg.js("typeof Chart === 'function' && [...document.scripts].every("
                "s => new URL(s.src).origin === location.origin)"), "Chart missing")

    # A wrong password first: the form says why and stays.
    pg.type_into("document.getElementById('username')", a.user)
    pg.type_into("document.getElementById('password')", a.password + "-wrong")
    pg.click("document.querySelector('#login-form button')")
    check("a wrong password shows an error and no dashboard",
          pg.wait("document.getElementById('login-error').textContent.includes('refused') && "
                  "document.getElementById('dash-view').hidden"), "no error shown")

    pg.type_into("document.getElementById('password')", a.password)
    pg.click("document.querySelector('#login-form button')")
    ok = check("login with the form shows the dashboard",
               pg.wait("!document.getElementById('dash-view').hidden && "
                       "document.getElementById('whoami').textContent.includes(%s)"
                       % json.dumps(a.user)), "still on the login form")
    if not ok:
        return 1
    token = pg.js("sessionStorage.getItem('sluice.token')")
    check("the token is kept in sessionStorage", bool(token), "none")

    n = pg.wait("document.querySelectorAll('#backends tbody tr').length")
    check("the backend table lists the backends (%s rows)" % n, (n or 0) >= 3, "empty")
    row_expr = ("[...document.querySelectorAll('#backends tbody tr')].find(r => "
                "r.dataset.url === %s && r.children[1].textContent === %s)"
                % (json.dumps(a.backend), json.dumps(a.location)))
    check("the table has %s in %s, up" % (a.backend, a.location),
          pg.wait("(%s || {dataset: {}}).dataset.state === 'up'" % row_expr), "not there or not up")
    rate = pg.wait("(v => v !== '–' && Number(v) > 0 ? v : null)"
                   "(document.getElementById('t-rate').textContent)")
    check("the request rate tile shows traffic (%s/s)" % rate, rate is not None, "no rate")
    pts = pg.wait("(c => c && c.data.datasets[0].data.filter(v => v > 0).length >= 4 ? "
                  "c.data.datasets[0].data.length : null)(Chart.getChart('c-rate'))")
    check("the request rate chart has points (%s)" % pts, pts is not None, "no points")
    lat = pg.wait("Chart.getChart('c-lat').data.datasets[2].data.some(v => v > 0)")
    check("the latency chart has p99 points", bool(lat), "no latency points")

    has_api = pg.js("(%s).dataset.backendId !== ''" % row_expr)
    if not has_api:
        for name in ("drain a backend with its button", "the drain seen through the API",
                     "set a weight", "enable it again", "add a backend with the form"):
            out("SKIP", name, "PATCH /api/backends missing (GET /api/backends answered 404)")
        pg.screenshot(a.shot)
        check("screenshot saved", True)
    else:
        bid = pg.js("(%s).dataset.backendId" % row_expr)
        pg.click("(%s).querySelector('button[aria-label^=\"Drain\"]')" % row_expr)
        check("drain backend %s with its button: the row says draining" % bid,
              pg.wait("(%s).dataset.state === 'draining'" % row_expr), "state did not change")
        st, body = api(base, token, "GET", "/api/backends")
        be = [b for b in (body or {}).get("backends", []) if str(b["id"]) == str(bid)]
        check("the drain seen through GET /api/backends",
              st == 200 and len(be) == 1 and be[0]["draining"] and be[0]["state"] == "draining",
              "%s %s" % (st, be))
        pg.screenshot(a.shot)
        check("screenshot saved while draining", True)
        pg.type_into("(%s).querySelector('input.w')" % row_expr, "3")
        pg.click("(%s).querySelector('button[aria-label^=\"Set the weight\"]')" % row_expr)
        pg.wait("document.getElementById('status').textContent.startsWith('Weight 3')")
        st, body = api(base, token, "GET", "/api/backends")
        be = [b for b in (body or {}).get("backends", []) if str(b["id"]) == str(bid)]
        check("set its weight to 3 (API agrees)", st == 200 and be and be[0]["weight"] == 3,
              "%s %s" % (st, be))
        pg.click("(%s).querySelector('button[aria-label^=\"Enable\"]')" % row_expr)
        check("enable it again: the row says up",
              pg.wait("(%s).dataset.state === 'up'" % row_expr), "state did not change")
        st, body = api(base, token, "GET", "/api/backends")
        be = [b for b in (body or {}).get("backends", []) if str(b["id"]) == str(bid)]
        check("enabled through the API too", st == 200 and be and not be[0]["draining"],
              "%s %s" % (st, be))

        # Add one with the form (to a location the test's traffic does not use).
        pg.js("(s => { s.value = 'demo'; s.dispatchEvent(new Event('change')); })"
              "(document.getElementById('add-service'))")
        pg.js("document.getElementById('add-location').value = %s" % json.dumps(a.add_location))
        pg.type_into("document.getElementById('add-url')", a.add_url)
        pg.type_into("document.getElementById('add-weight')", "2")
        pg.click("document.querySelector('#add-form button')")
        new_row = ("[...document.querySelectorAll('#backends tbody tr')].find(r => "
                   "r.dataset.url === %s && r.children[1].textContent === %s)"
                   % (json.dumps(a.add_url), json.dumps(a.add_location)))
        check("add %s to %s with the form: a new row" % (a.add_url, a.add_location),
              pg.wait("!!(%s)" % new_row), "no row; status: %s"
              % pg.js("document.getElementById('status').textContent"))
        st, body = api(base, token, "GET", "/api/backends")
        be = [b for b in (body or {}).get("backends", [])
              if b["url"] == a.add_url and b["location"] == a.add_location]
        check("the added backend seen through GET /api/backends (runtime, weight 2)",
              st == 200 and len(be) == 1 and be[0]["source"] == "runtime" and be[0]["weight"] == 2,
              "%s %s" % (st, be))

    pg.click("document.getElementById('logout')")
    check("log out clears the token",
          pg.wait("!sessionStorage.getItem('sluice.token') && "
                  "!document.getElementById('login-view').hidden"), "token still there")
    check("no script error in the page", not pg.errors, "; ".join(map(str, pg.errors))[:500])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # the shell test reports it as a failure
        out("FAIL", "the driver ran to its end", "%s: %s" % (type(e).__name__, e))
        sys.exit(1)
