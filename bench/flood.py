#!/usr/bin/env python3
"""Noisy neighbour: does one client's flood slow another client's work?

    bench/flood.sh [--users N] [--seconds S] [--flooders K]

Starts `finseg serve` on a fresh data directory with two clients. The
well-behaved client ("bank") holds a generated population of N users
(default 2,000) and does normal work from one connection: reads users,
accounts and transactions, creates a job, polls it and reads its result.
The flooding client ("noisy") sends, from K connections (default 8), job
creations as fast as it can and, from K more, token requests with a wrong
secret (for its own client id and for made-up ones).

The bank's work runs twice for S seconds each (default 20): alone, then
under the flood. The flood runs in its own processes at a lower CPU
priority (nice 10): on one machine its own Python would otherwise take the
cores a remote flooder does not, and the test is of the server. Printed: the bank's request latency p50/p99 in both
phases, their ratio (target: p99 at most doubles), and the flood's answers
by status (429s are the limits at work). Only the standard library is used.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import string
import subprocess
import sys
import threading
import time

from common import BIN, create_client, fresh_data, serve


class Conn:
    """One keep-alive HTTP connection; reconnects when the server closes it."""

    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, ConnectionError, OSError):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def token(conn, client):
    form = (f"grant_type=client_credentials&client_id={client['clientId']}"
            f"&client_secret={client['clientSecret']}")
    status, body = conn.request("POST", "/oauth/token", form,
                                {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    return json.loads(body)["access_token"]


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))]


def bank_work(port, tok, users, seconds):
    """Normal work from one connection; returns each request's latency (s)."""
    conn = Conn(port)
    auth = {"Authorization": f"Bearer {tok}"}
    json_auth = dict(auth, **{"Content-Type": "application/json"})
    latencies = []
    errors = 0
    end = time.monotonic() + seconds
    rng = random.Random(1)

    def timed(method, path, body=None, headers=auth):
        nonlocal errors
        t = time.perf_counter()
        status, out = conn.request(method, path, body, headers)
        latencies.append(time.perf_counter() - t)
        if status >= 400:
            errors += 1
        return status, out

    while time.monotonic() < end:
        user = rng.choice(users)
        timed("GET", f"/api/v1/users/{user}")
        status, out = timed("GET", f"/api/v1/users/{user}/accounts")
        accounts = json.loads(out).get("accounts", []) if status == 200 else []
        for a in accounts[:2]:
            timed("GET", f"/api/v1/accounts/{a['id']}/transactions?perPage=50")
        status, out = timed("POST", "/api/v1/segments/highBalance",
                            json.dumps({"threshold": 10000}), json_auth)
        if status != 202:
            continue
        job = json.loads(out)["jobId"]
        while time.monotonic() < end + 30:
            status, out = timed("GET", f"/api/v1/jobs/{job}")
            if json.loads(out).get("status") in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.02)
        timed("GET", f"/api/v1/segments/highBalance/{job}?perPage=100")
        timed("DELETE", f"/api/v1/jobs/{job}")
    return latencies, errors


def flood(port, noisy, stop, counts, lock, kind):
    conn = Conn(port)
    tok = token(conn, noisy) if kind == "jobs" else None
    rng = random.Random(threading.get_ident())
    local = {}
    while not stop.is_set():
        if kind == "jobs":
            status, _ = conn.request("POST", "/api/v1/segments/highBalance",
                                     json.dumps({"threshold": rng.randint(0, 100000)}),
                                     {"Authorization": f"Bearer {tok}",
                                      "Content-Type": "application/json"})
        else:
            client_id = noisy["clientId"] if rng.random() < 0.5 else \
                "".join(rng.choices(string.ascii_lowercase, k=12))
            secret = "".join(rng.choices(string.ascii_letters, k=24))
            status, _ = conn.request("POST", "/oauth/token",
                                     f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}",
                                     {"Content-Type": "application/x-www-form-urlencoded"})
        key = f"{kind} {status}"
        local[key] = local.get(key, 0) + 1
    with lock:
        for k, v in local.items():
            counts[k] = counts.get(k, 0) + v


def flood_process(port, noisy, stop, results, kind, threads):
    os.nice(10)
    counts, lock = {}, threading.Lock()
    workers = [threading.Thread(target=flood, args=(port, noisy, stop, counts, lock, kind))
               for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    results.put(counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--flooders", type=int, default=8)
    args = ap.parse_args()
    data, env = fresh_data("flood")
    bank, noisy = create_client(env, "bank"), create_client(env, "noisy")
    pop = os.path.join(data, "population.ndjson")
    with open(pop, "wb") as f:
        subprocess.run([BIN, "generate", "--users", str(args.users), "--seed", "5"], stdout=f, check=True)
    subprocess.run([BIN, "import", "--client", bank["clientId"], "--format", "ndjson", pop],
                   env=env, check=True, capture_output=True)
    users = []
    with open(pop) as f:
        for line in f:
            if line.startswith('{"kind":"user"'):
                users.append(json.loads(line)["id"])
    server, port = serve(env)
    try:
        bank_token = token(Conn(port), bank)
        # Warm-up: the index and the caches, so that both phases start alike.
        bank_work(port, bank_token, users, 3)

        print(f"bank alone for {args.seconds} s …", file=sys.stderr)
        alone, alone_errors = bank_work(port, bank_token, users, args.seconds)

        print(f"bank under a flood of {2 * args.flooders} connections for {args.seconds} s …", file=sys.stderr)
        stop = multiprocessing.Event()
        results = multiprocessing.Queue()
        procs = [multiprocessing.Process(target=flood_process,
                                         args=(port, noisy, stop, results, kind, args.flooders))
                 for kind in ("jobs", "tokens")]
        for p in procs:
            p.start()
        time.sleep(1)
        flooded, flooded_errors = bank_work(port, bank_token, users, args.seconds)
        stop.set()
        counts = {}
        for _ in procs:
            for k, v in results.get().items():
                counts[k] = counts.get(k, 0) + v
        for p in procs:
            p.join()
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", data])

    ms = lambda v: f"{v * 1000:.2f} ms"
    print(f"{'bank (one connection)':<28}{'requests':>10}{'errors':>8}{'p50':>12}{'p99':>12}")
    for name, lat, err in (("alone", alone, alone_errors), ("under the flood", flooded, flooded_errors)):
        print(f"{name:<28}{len(lat):>10}{err:>8}{ms(percentile(lat, 0.5)):>12}{ms(percentile(lat, 0.99)):>12}")
    ratio = percentile(flooded, 0.99) / percentile(alone, 0.99)
    print(f"p99 under the flood / alone: {ratio:.2f} (target ≤ 2)")
    print("flood answers:", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"flood 429s: {sum(v for k, v in counts.items() if k.endswith(' 429'))}")


if __name__ == "__main__":
    main()
