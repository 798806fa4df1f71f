# SPDX-License-Identifier: MIT
"""Helper of test_configs.sh: what to set up and what to ask for one configuration.

  configs_plan.py plan CHECK_JSON HOSTS_OUT PLAN_OUT
      From `sluice --check`'s normalised JSON: every backend host name gets an address of the
      testbed (198.18.0.11, .12, .13 in turn, in file order; written as an /etc/hosts file),
      and PLAN_OUT lists the backend addresses to serve (address -> ports) and one probe per
      location: where to send it (service address or the port's, service port, a Host the
      service accepts, a path under the location) and what must answer: one of the
      location's backends, seen at the address its name resolved to, with the path
      rewritten as configured; and for a `redirect` location, its own path redirected.
  configs_plan.py probe PLAN_JSON
      Runs the probes (inside the testbed namespace) and prints one line per location:
      "ok NAME detail" or "FAIL NAME why". Round-robin locations get one request per backend
      and must reach every one of them.
"""
import http.client
import json
import ssl
import sys

TESTBED = ["198.18.0.11", "198.18.0.12", "198.18.0.13"]


def split_url(url):
    rest = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = rest.partition(":")
    return host.lower(), int(port) if port else 80


def is_ipv4(s):
    parts = s.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def plan(check_json, hosts_out, plan_out):
    cfg = json.load(open(check_json))
    names = {}
    serve = {}
    probes = []
    port_ip = cfg["dataplane"]["ports"][0]["ip"].split("/")[0]
    for svc in cfg.get("services", []):
        host = svc.get("host", "*")
        if host in ("", "*"):
            host = "probe.test"
        elif host.startswith("*."):
            host = "a" + host[1:]
        for loc in svc["locations"]:
            addrs = []
            for be in loc["backends"]:
                h, port = split_url(be["url"])
                if not is_ipv4(h):
                    if h not in names:
                        names[h] = TESTBED[len(names) % len(TESTBED)]
                    h = names[h]
                serve.setdefault(h, set()).add(port)
                addrs.append("%s:%d" % (h, port))
            path = loc["path"]
            sub = path + ("probe" if path.endswith("/") else "/probe")
            probes.append({
                "name": "%s:%s%s" % (svc["name"], svc["port"], path),
                "vip": svc.get("address") or port_ip,
                "port": svc["port"],
                "host": host,
                "target": sub,
                "redirect": path if loc.get("redirect") else None,
                "rewritten": (loc["rewrite"] + sub[len(path):]) if loc.get("rewrite") else sub,
                "backends": addrs,
                "all": loc.get("lb_policy") == "round_robin",
                "tls": bool(svc.get("tls", {}).get("enabled")),
                "http_port": (svc.get("http_port") or 80) if loc.get("http_redirect") else None,
            })
    with open(hosts_out, "w") as f:
        f.write("127.0.0.1 localhost\n")
        for h, ip in names.items():
            f.write("%s %s\n" % (ip, h))
    json.dump({"serve": {k: sorted(v) for k, v in serve.items()}, "probes": probes,
               "names": names}, open(plan_out, "w"), indent=1)


def probe(plan_json):
    p = json.load(open(plan_json))
    bad = 0
    for pr in p["probes"]:
        seen, why = set(), None
        n = len(pr["backends"]) if pr["all"] else 1
        if pr["redirect"]:
            n += 1
        for i in range(n):
            redirect = pr["redirect"] and i == 0
            try:
                if pr.get("tls"):  # the test's own certificate: not verified
                    c = http.client.HTTPSConnection(pr["vip"], pr["port"], timeout=10,
                                                    context=ssl._create_unverified_context())
                else:
                    c = http.client.HTTPConnection(pr["vip"], pr["port"], timeout=10)
                c.request("GET", pr["redirect"] if redirect else pr["target"],
                          headers={"Host": pr["host"]})
                r = c.getresponse()
                body = r.read()
                c.close()
            except OSError as e:
                why = "no answer: %s" % e
                break
            if redirect:
                # The location's own path is redirected; paths below it are proxied.
                if r.status not in (301, 302, 307, 308) or not r.getheader("Location"):
                    why = "expected a redirect for %s, got %d" % (pr["redirect"], r.status)
                    break
                seen.add("%s=%d->%s" % (pr["redirect"], r.status, r.getheader("Location")))
                continue
            if r.status != 200:
                why = "status %d: %s" % (r.status, body[:80])
                break
            j = json.loads(body)
            if j["local"] not in pr["backends"]:
                why = "answered by %s, not one of %s" % (j["local"], pr["backends"])
                break
            if j["target"] != pr["rewritten"]:
                why = "backend saw %s, expected %s" % (j["target"], pr["rewritten"])
                break
            seen.add(j["local"])
        if why is None and pr.get("http_port"):
            # http_redirect: plain HTTP on the service's http_port gets a 308 to https://.
            want = "https://%s%s%s" % (pr["host"], "" if pr["port"] == 443 else ":%d" % pr["port"],
                                       pr["target"])
            try:
                c = http.client.HTTPConnection(pr["vip"], pr["http_port"], timeout=10)
                c.request("GET", pr["target"], headers={"Host": pr["host"]})
                r = c.getresponse()
                r.read()
                c.close()
                if r.status != 308 or r.getheader("Location") != want:
                    why = "plain :%d%s: expected 308 to %s, got %d %s" % (
                        pr["http_port"], pr["target"], want, r.status, r.getheader("Location"))
                else:
                    seen.add("http:%d=308->%s" % (pr["http_port"], want))
            except OSError as e:
                why = "no answer on the plain port %d: %s" % (pr["http_port"], e)
        reached = {x for x in seen if "->" not in x}
        if why is None and pr["all"] and len(reached) != len(pr["backends"]):
            why = "round robin reached %s of %s" % (sorted(reached), pr["backends"])
        if why is None:
            print("ok %s %s" % (pr["name"], " ".join(sorted(seen))))
        else:
            bad += 1
            print("FAIL %s %s" % (pr["name"], why))
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "plan":
        plan(*sys.argv[2:5])
    else:
        sys.exit(probe(sys.argv[2]))
