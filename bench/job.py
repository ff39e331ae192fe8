#!/usr/bin/env python3
"""Times segment jobs against a running finseg, as bench/run.py does: POST,
poll GET /api/v1/jobs/{id} every 10 ms, GET the first result page.

    bench/job.py URL SEGMENT PARAMS_JSON [RUNS] [CREDENTIALS_JSON]

For measuring one segment again against a server that keeps its segment
index warm (bench/run.py starts a new server for every run). CREDENTIALS_JSON
is the file bench/run.py writes (default bench/out/run-100000/credentials.json).
Only the Python standard library is used.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    base, segment, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    creds_file = sys.argv[5] if len(sys.argv) > 5 else os.path.join(
        ROOT, "bench", "out", "run-100000", "credentials.json")
    creds = json.load(open(creds_file))
    form = (f"grant_type=client_credentials&client_id={creds['clientId']}"
            f"&client_secret={creds['clientSecret']}").encode()
    req = urllib.request.Request(base + "/oauth/token", data=form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    token = json.load(urllib.request.urlopen(req))["access_token"]

    def call(method, path, body=None):
        headers = {"Authorization": "Bearer " + token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            with urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=headers,
                                                               method=method)) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    for _ in range(runs):
        t0 = time.time()
        status, body = call("POST", f"/api/v1/segments/{segment}", params)
        assert status == 202, body
        job = json.loads(body)["jobId"]
        posted = time.time() - t0
        while True:
            status, body = call("GET", f"/api/v1/jobs/{job}")
            assert status == 200, body
            if json.loads(body)["status"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.01)
        status, body = call("GET", f"/api/v1/segments/{segment}/{job}?page=1&perPage=1")
        assert status == 200, body
        result = json.loads(body)
        # The POST alone: creating a job cuts the client's users into partitions.
        print(f"{segment}: {time.time() - t0:.3f} s, {result['usersMatched']:,} members (POST {posted:.3f} s)")


if __name__ == "__main__":
    main()
