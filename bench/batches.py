#!/usr/bin/env python3
"""Many large JSON batches at once: are they all written, and in how much memory?

    bench/batches.sh [--batches N] [--mb M] [--clients C]

Starts `finseg serve` on a fresh data directory, with C clients (default 3)
and one account each, and sends N JSON batches (default 12) of about M MB
each (default 60: near the 64 MiB body limit) to `POST /api/v1/transactions`
at the same moment, spread over the clients. Printed: each answer's status,
the time until the last answer, the server's peak resident memory (VmHWM),
and the transactions stored against those sent. A batch refused for the
per-client limit (429) is sent again after its Retry-After, as a client
would. Only the standard library is used.
"""
import argparse
import http.client
import json
import subprocess
import sys
import threading
import time

from common import create_client, fresh_data, peak_rss_mib, serve


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=12)
    ap.add_argument("--mb", type=int, default=60)
    ap.add_argument("--clients", type=int, default=3)
    args = ap.parse_args()
    data, env = fresh_data("batches")
    clients = [create_client(env, f"c{i}") for i in range(args.clients)]
    server, port = serve(env)
    try:
        def call(method, path, body, headers):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read(), r.getheader("Retry-After")

        tokens = []
        for i, cl in enumerate(clients):
            form = (f"grant_type=client_credentials&client_id={cl['clientId']}"
                    f"&client_secret={cl['clientSecret']}")
            _, body, _ = call("POST", "/oauth/token", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
            tok = json.loads(body)["access_token"]
            auth = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
            call("PUT", "/api/v1/users/u", "{}", auth)
            call("PUT", "/api/v1/accounts/a", json.dumps(
                {"userId": "u", "type": "CHECKING", "currency": "EUR", "balance": "0"}), auth)
            tokens.append(auth)

        line = ('{"id":"%s","accountId":"a","amount":"-12.34","currency":"EUR",'
                '"bookingDate":"2026-10-%02d","purpose":"Kartenzahlung REWE Markt Filiale 4711",'
                '"counterpartName":"REWE Markt GmbH"}')
        per_batch = args.mb * 1024 * 1024 // len(line % ("b00-0000000", 1))
        bodies = [("[" + ",".join(line % (f"b{b:02d}-{i:07d}", 1 + i % 28)
                                  for i in range(per_batch)) + "]").encode()
                  for b in range(args.batches)]
        print(f"{args.batches} batches of {per_batch:,} transactions "
              f"({len(bodies[0]) / 2**20:.1f} MiB each) over {args.clients} clients …", file=sys.stderr)
        results = [None] * args.batches
        start = time.monotonic()

        def send(b):
            auth = tokens[b % len(tokens)]
            retries = 0
            while True:
                status, out, retry_after = call("POST", "/api/v1/transactions", bodies[b], auth)
                if status == 429:
                    retries += 1
                    time.sleep(float(retry_after or 1))
                    continue
                results[b] = (status, time.monotonic() - start, retries, out[:200])
                return

        threads = [threading.Thread(target=send, args=(b,)) for b in range(args.batches)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        rss = peak_rss_mib(server.pid)
        stored = 0
        for auth in tokens:
            _, body, _ = call("GET", "/api/v1/accounts/a", None, auth)
            stored += json.loads(body)["transactionCount"]
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", data])

    for b, (status, at, retries, out) in enumerate(results):
        extra = "" if status == 200 else f" {out!r}"
        print(f"batch {b:2d}: {status} after {at:6.1f} s, {retries} times 429 first{extra}")
    failed = sum(1 for r in results if r[0] != 200)
    print(f"all answered in {elapsed:.1f} s; {failed} failed; peak RSS {rss:,} MiB; "
          f"stored {stored:,} of {per_batch * args.batches:,} transactions")


if __name__ == "__main__":
    main()
