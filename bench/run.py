#!/usr/bin/env python3
"""finseg benchmark: generate a population, import it through the real bulk
path, run every segment type through the real HTTP API, and report.

    bench/run.sh [--users N] [--stream | --compressed [--pipe-zstd]] [--keep] [--duckdb] [--load]

Prints import throughput, POST-to-result time per segment, the server's peak
resident memory and the database size. Work files go to bench/out/ (ignored
by git). Only the Python standard library is used.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# FINSEG_BENCH_BIN: another build of finseg (e.g. a debug build to try the script quickly).
BIN = os.environ.get("FINSEG_BENCH_BIN") or os.path.join(ROOT, "target", "release", "finseg")

SEGMENTS = [
    ("lowBalance", {"threshold": -100, "durationInMonth": 3}),
    ("highBalance", {"threshold": 10000}),
    ("financialBreakdown", {"labelGroups": ["INCOME", "INSURANCE", "RENTANDLIVING"], "durationInMonth": 6}),
    ("insurance", {"durationInMonth": 12}),
    ("incomeSpendingSummary", {"durationInMonth": 3}),
]


def mem_free_gib():
    """MemFree from /proc/meminfo, in GiB (memory neither used nor cached)."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemFree:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, token=None, body=None, headers=None, timeout=3600):
    data = None
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return 0.0


def metric(base, name):
    """One value of a node's /metrics (summed over label sets)."""
    status, body = request("GET", f"{base}/metrics")
    assert status == 200, body
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def index_catch_up(bases, users):
    """Seconds until every node's segment index holds the client's users
    and reflects the newest write (it catches up with the import in the
    background; the import's last batches change users it already holds)."""
    t0 = time.time()
    while True:
        held = [metric(b, "finseg_segment_index_users") for b in bases]
        behind = [metric(b, "finseg_ingest_seq") - metric(b, "finseg_segment_index_seq") for b in bases]
        if all(h >= users for h in held) and all(d <= 0 for d in behind):
            return time.time() - t0
        if time.time() - t0 > 3600:
            raise SystemExit(f"segment index did not catch up: {held}")
        time.sleep(0.1)


def dir_size_mib(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total / 1048576


def wrk(args):
    """Runs wrk; returns p50, p99 (as wrk prints them) and requests/s."""
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)
    text = subprocess.run(["wrk", "--latency"] + args, check=True, capture_output=True, text=True).stdout
    res = {"p50": "?", "p99": "?", "rps": 0.0, "non2xx": 0}
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["50%"]:
            res["p50"] = parts[1]
        elif parts[:1] == ["99%"]:
            res["p99"] = parts[1]
        elif line.startswith("Requests/sec:"):
            res["rps"] = float(parts[1])
        elif line.strip().startswith("Non-2xx"):
            res["non2xx"] = int(parts[-1])
    assert res["non2xx"] == 0, text
    return res


def load_test(base, token, jobs, env):
    """Result GETs of every finished job (first page of 100 members), 64
    connections for 10 s; then job creation (highBalance) with 8
    connections for 5 s, on a second client of 1,000 users so that the
    jobs it creates stay small."""
    print("load test …", file=sys.stderr)
    out = []
    lua = os.path.join(ROOT, "bench", "out", "get.lua")
    paths = [f"/api/v1/segments/{s}/{j}?page=1&perPage=100" for s, j in jobs]
    with open(lua, "w") as f:
        f.write("local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
                "local i = 0\n"
                "request = function()\n  i = i % #paths + 1\n"
                f'  return wrk.format("GET", paths[i], {{["Authorization"] = "Bearer {token}"}})\nend\n')
    out.append(("GET result page (64 connections, 10 s)",
                wrk(["-t2", "-c64", "-d10s", "-s", lua, base])))
    small = json.loads(subprocess.run([BIN, "clients", "create", "--name", "bench-small", "--json"],
                                      env=env, check=True, capture_output=True).stdout)
    form = f"grant_type=client_credentials&client_id={small['clientId']}&client_secret={small['clientSecret']}".encode()
    req = urllib.request.Request(base + "/oauth/token", data=form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    small_token = json.load(urllib.request.urlopen(req))["access_token"]
    gen = subprocess.run([BIN, "generate", "--users", "1000", "--seed", "7"], check=True, capture_output=True).stdout
    imp = urllib.request.Request(base + "/api/v1/import", data=gen, method="POST",
                                 headers={"Authorization": f"Bearer {small_token}", "Content-Type": "application/x-ndjson"})
    urllib.request.urlopen(imp, timeout=600).read()
    lua = os.path.join(ROOT, "bench", "out", "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\n'
                'wrk.body = \'{"threshold": 10000}\'\n'
                f'wrk.headers["Authorization"] = "Bearer {small_token}"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                'wrk.path = "/api/v1/segments/highBalance"\n')
    out.append(("POST job, 1,000-user client (8 connections, 5 s)",
                wrk(["-t2", "-c8", "-d5s", "-s", lua, base])))
    return out


def duckdb_baseline(args, env, creds, out):
    """Exports the client's data as CSV (not timed) for DuckDB, and runs
    bench/duckdb_baseline.py. DuckDB is installed from PyPI into
    bench/out/venv.

    The transactions go through gzip on their way to disk: at 1,000,000
    users the plain CSV is about 36 GB, which does not fit next to the
    database; compressed it is a few GB, and DuckDB reads it as it is.
    DuckDB keeps its tables in a database file beside the run. Both are
    removed afterwards."""
    venv = os.path.join(ROOT, "bench", "out", "venv")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "-r", os.path.join(ROOT, "bench", "requirements.txt")], check=True)
    csv = os.path.join(out, "csv")
    shutil.rmtree(csv, ignore_errors=True)
    os.makedirs(csv)
    fifo = os.path.join(csv, "transactions.csv")
    os.mkfifo(fifo)
    duck_db = os.path.join(out, "duckdb.db")
    for stale in (duck_db, duck_db + ".wal"):
        if os.path.exists(stale):
            os.remove(stale)
    print("exporting for DuckDB …", file=sys.stderr)
    t0 = time.time()
    with open(fifo + ".gz", "wb") as gz_out:
        gz = subprocess.Popen(["sh", "-c", 'exec gzip -1 -c < "$0"', fifo], stdout=gz_out)
        export = subprocess.run([BIN, "export", "--client", creds["clientId"], "--out", csv], env=env,
                                stdout=subprocess.DEVNULL)
        if export.returncode != 0 and gz.poll() is None:
            gz.kill()  # it may still wait for the pipe to be opened
        if gz.wait() != 0 or export.returncode != 0:
            raise SystemExit("finseg export | gzip failed")
    os.remove(fifo)
    print(f"exported in {time.time() - t0:.0f} s; transactions.csv.gz {os.path.getsize(fifo + '.gz') / 1e9:.1f} GB",
          file=sys.stderr)
    today = subprocess.run(["date", "+%F"], env=dict(os.environ, TZ="Europe/Berlin"), check=True,
                           capture_output=True, text=True).stdout.strip()
    figures = os.path.join(out, "duckdb.json")
    try:
        subprocess.run([py, os.path.join(ROOT, "bench", "duckdb_baseline.py"), "--csv", csv, "--today", today,
                        "--db", duck_db, "--remove-after-load", "--members", os.path.join(out, "members"), "--json", figures], check=True)
    finally:
        shutil.rmtree(csv, ignore_errors=True)
        for f in (duck_db, duck_db + ".wal"):
            if os.path.exists(f):
                os.remove(f)
        shutil.rmtree(duck_db + ".tmp", ignore_errors=True)
    return json.load(open(figures))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--stream", action="store_true",
                    help="pipe the generator into the import instead of a file (for populations too large for the disk); the import time then includes generation")
    ap.add_argument("--compressed", action="store_true",
                    help="keep the population zstd-compressed (a 1M-user population is 81 GB as text, 4 GB compressed) "
                         "and send it as it is (Content-Encoding: zstd); the import time then includes decompression, not generation")
    ap.add_argument("--pipe-zstd", action="store_true",
                    help="with --compressed: pipe `zstd -dc` into the import instead (sessions 13-15's runs)")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the database a previous --keep run left (skips generation and import)")
    ap.add_argument("--postgres", metavar="URL",
                    help="run on PostgreSQL (a fresh database finseg_bench_N at this server, e.g. postgres://postgres@127.0.0.1:5432) instead of SQLite")
    ap.add_argument("--nodes", type=int, default=1,
                    help="start this many finseg serve processes on the one database (PostgreSQL); jobs are shared by all")
    ap.add_argument("--load", action="store_true",
                    help="also load-test result GETs (64 connections) and job creation (8 connections, on a small second client) with wrk")
    ap.add_argument("--segments", metavar="LIST",
                    help="comma-separated segment types to run (default: all five)")
    ap.add_argument("--no-index", action="store_true",
                    help="run the server without its in-memory segment index (every job reads the database)")
    ap.add_argument("--duckdb", action="store_true",
                    help="also run the segments as SQL in DuckDB over the same data (bench/duckdb_baseline.py) and compare members")
    ap.add_argument("--duckdb-only", action="store_true",
                    help="with --reuse: only the DuckDB half, against the members an earlier --duckdb run stored")
    args = ap.parse_args()
    segments = SEGMENTS
    if args.segments:
        wanted = args.segments.split(",")
        unknown = set(wanted) - {s for s, _ in SEGMENTS}
        if unknown:
            sys.exit(f"unknown segment types: {', '.join(sorted(unknown))}")
        segments = [(s, p) for s, p in SEGMENTS if s in wanted]

    if not os.environ.get("FINSEG_BENCH_BIN"):
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "finseg"], cwd=ROOT, check=True)
    out = os.path.join(ROOT, "bench", "out", f"run-{args.users}")
    data = os.path.join(out, "data")
    creds_file = os.path.join(out, "credentials.json")
    reuse = args.reuse and os.path.exists(creds_file) and os.path.isdir(data)
    if not reuse:
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
    env = dict(os.environ, FINSEG_DATA_DIR=data, FINSEG_LOG="warn",
               # The load test creates jobs as fast as it can: it measures
               # creation, not the per-client limits (bench/flood.sh does).
               FINSEG_MAX_ACTIVE_JOBS="1000000", FINSEG_MAX_STORED_RESULTS="1000000",
               FINSEG_MAX_STORED_MEMBERS="1000000000000")
    env.pop("FINSEG_DATABASE_URL", None)
    if args.duckdb_only:
        # At 1M users a DuckDB run is long and needs the disk the run
        # before it used; it compares with the members that run stored.
        if not (reuse and os.path.isdir(os.path.join(out, "members"))):
            sys.exit("--duckdb-only needs --reuse and the members of an earlier --duckdb run")
        duck = duckdb_baseline(args, env, json.load(open(creds_file)), out)
        for segment, d in duck.items():
            agree = d.get("agreement")
            print(f"{segment:<24}" + (f"failed: {d['error'][:70]}" if "error" in d else
                  f"{d['seconds']:>8.2f} s  members agree: {'yes' if agree and agree['same'] else agree}"))
        return
    if args.nodes > 1 and not args.postgres:
        sys.exit("several nodes share one database: use --postgres")
    if args.postgres:
        db = f"finseg_bench_{args.users}"
        admin = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c"]
        if not reuse:
            subprocess.run(admin + [f"DROP DATABASE IF EXISTS {db}"], check=True)
            subprocess.run(admin + [f"CREATE DATABASE {db}"], check=True)
        env["FINSEG_DATABASE_URL"] = f"{args.postgres.rstrip('/')}/{db}"

    if args.stream and args.compressed:
        sys.exit("--stream and --compressed are two ways to feed the import: choose one")
    pop = os.path.join(ROOT, "bench", "out", f"population-{args.users}-{args.seed}.ndjson")
    if args.compressed:
        pop += ".zst"
    if not reuse and not args.stream and not os.path.exists(pop):
        print(f"generating {args.users} users …", file=sys.stderr)
        generate = [BIN, "generate", "--users", str(args.users), "--seed", str(args.seed)]
        with open(pop + ".tmp", "wb") as f:
            if args.compressed:
                gen = subprocess.Popen(generate, stdout=subprocess.PIPE)
                subprocess.run(["zstd", "-1", "-q", "-c"], stdin=gen.stdout, stdout=f, check=True)
                if gen.wait() != 0:
                    sys.exit("the generator failed")
            else:
                subprocess.run(generate, stdout=f, check=True)
        os.rename(pop + ".tmp", pop)

    if reuse:
        creds = json.load(open(creds_file))
    else:
        creds = json.loads(subprocess.run([BIN, "clients", "create", "--name", "bench", "--json"],
                                          env=env, check=True, capture_output=True).stdout)
        with open(creds_file, "w") as f:
            json.dump(creds, f)
    ports = [free_port() for _ in range(args.nodes)]
    base = f"http://127.0.0.1:{ports[0]}"
    if args.no_index:
        env["FINSEG_NO_SEGMENT_INDEX"] = "true"
    servers = [subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{p}"], env=env) for p in ports]
    try:
        for p in ports:
            for _ in range(200):
                try:
                    if request("GET", f"http://127.0.0.1:{p}/health")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
        def new_token():
            form = f"grant_type=client_credentials&client_id={creds['clientId']}&client_secret={creds['clientSecret']}".encode()
            req = urllib.request.Request(base + "/oauth/token", data=form,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            return json.load(urllib.request.urlopen(req))["access_token"]

        token = new_token()

        curl = ["curl", "-sf", "-X", "POST", base + "/api/v1/import", "-H", f"Authorization: Bearer {token}",
                "-H", "Content-Type: application/x-ndjson", "-T"]
        # On a VM whose host backs memory on first touch, pages the page
        # cache takes from free memory cost the import more than pages it
        # recycles (docs/BENCHMARKS.md, session 14): the report says which.
        free_at_start = mem_free_gib()
        start = time.time()
        if reuse:
            summary, tx = None, None
        elif args.stream:
            print("importing (streamed from the generator) …", file=sys.stderr)
            gen = subprocess.Popen([BIN, "generate", "--users", str(args.users), "--seed", str(args.seed)],
                                   stdout=subprocess.PIPE)
            summary = json.loads(subprocess.run(curl + ["-"], stdin=gen.stdout, check=True, capture_output=True).stdout)
            gen.wait()
        elif args.compressed and args.pipe_zstd:
            print("importing (decompressed on the way by zstd -dc) …", file=sys.stderr)
            unzstd = subprocess.Popen(["zstd", "-dc", pop], stdout=subprocess.PIPE)
            summary = json.loads(subprocess.run(curl + ["-"], stdin=unzstd.stdout, check=True, capture_output=True).stdout)
            if unzstd.wait() != 0:
                sys.exit("zstd failed")
        elif args.compressed:
            # The file as it is, decoded by the server (Content-Encoding: zstd).
            print("importing (sent compressed, decoded by the server) …", file=sys.stderr)
            summary = json.loads(subprocess.run(curl[:-1] + ["-H", "Content-Encoding: zstd", "-T", pop],
                                                check=True, capture_output=True).stdout)
        else:
            print("importing …", file=sys.stderr)
            summary = json.loads(subprocess.run(curl + [pop], check=True, capture_output=True).stdout)
        import_secs = time.time() - start
        if summary is not None:
            tx = summary["written"]["transaction"]
            assert summary["rejectedCount"] == 0, summary["rejected"][:3]

        bases = [f"http://127.0.0.1:{p}" for p in ports]
        catch_up = None
        if not args.no_index:
            print("waiting for the segment index …", file=sys.stderr)
            catch_up = index_catch_up(bases, args.users)
            index_mib = [metric(b, "finseg_segment_index_bytes") / 1048576 for b in bases]

        rows = []
        rows_jobs = []
        for segment, params in segments:
            # A 1M-user run outlives a token: take a fresh one per segment.
            token = new_token()
            t0 = time.time()
            status, body = request("POST", f"{base}/api/v1/segments/{segment}", token, params)
            assert status == 202, body
            job = json.loads(body)["jobId"]
            while True:
                status, body = request("GET", f"{base}/api/v1/jobs/{job}", token)
                if status == 401:
                    token = new_token()
                    continue
                assert status == 200, body
                state = json.loads(body)["status"]
                if state in ("COMPLETED", "FAILED"):
                    break
                time.sleep(0.02)
            status, body = request("GET", f"{base}/api/v1/segments/{segment}/{job}?page=1&perPage=1", token)
            secs = time.time() - t0
            assert status == 200, body
            result = json.loads(body)
            rows.append((segment, secs, result["usersEvaluated"], result["usersMatched"]))
            rows_jobs.append((segment, job))
            print(f"{segment}: {secs:.2f} s", file=sys.stderr)
            if args.duckdb:
                # Every member's id, for the comparison with DuckDB (not timed).
                os.makedirs(os.path.join(out, "members"), exist_ok=True)
                req = urllib.request.Request(f"{base}/api/v1/segments/{segment}/{job}",
                                             headers={"Authorization": f"Bearer {token}",
                                                      "Accept": "application/x-ndjson"})
                with urllib.request.urlopen(req, timeout=3600) as r, \
                        open(os.path.join(out, "members", f"{segment}.ids"), "w") as f:
                    for line in r:
                        if line.strip():
                            f.write(json.loads(line)["userId"] + "\n")

        load = load_test(base, new_token(), rows_jobs, env) if args.load else None
        rss = [peak_rss_mib(srv.pid) for srv in servers]
    finally:
        for srv in servers:
            srv.terminate()
        for srv in servers:
            srv.wait()
    if args.postgres:
        size = int(subprocess.run(["psql", "-qtA", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c",
                                   f"SELECT pg_database_size('finseg_bench_{args.users}')"],
                                  check=True, capture_output=True, text=True).stdout.strip()) / 1048576
    else:
        size = dir_size_mib(data)
    duck = duckdb_baseline(args, env, creds, out) if args.duckdb else None

    lines = [
        f"finseg benchmark — {args.users} users, seed {args.seed}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}, {args.nodes} node(s); "
        f"free memory when the import started {free_at_start:.1f} GiB",
        "",
        (f"import            {tx:,} transactions in {import_secs:.1f} s = {tx / import_secs:,.0f} transactions/s"
         + (" (generation included)" if args.stream else " (zstd -dc piped in)" if args.compressed and args.pipe_zstd else " (sent zstd-compressed, decoding included)" if args.compressed else "")) if tx else "import            (reused the database of an earlier run)",
        "",
        (f"segment index     caught up {catch_up:.1f} s after the "
         + ("server started (built from the database)" if args.reuse else "import") + "; "
         + " + ".join(f"{m:,.0f}" for m in index_mib) + " MiB") if catch_up is not None
        else "segment index     off (--no-index)",
        "",
        f"{'segment':<24}{'POST→result':>12}{'evaluated':>12}{'matched':>10}",
    ]
    for segment, secs, evaluated, matched in rows:
        lines.append(f"{segment:<24}{secs:>10.2f} s{evaluated:>12,}{matched:>10,}")
    if duck:
        lines += ["", f"{'segment':<24}{'finseg':>10}{'DuckDB':>10}{'DuckDB/finseg':>15}  members agree"]
        for segment, secs, _, matched in rows:
            d = duck[segment]
            if "error" in d:
                # A statement that failed after t seconds is at least t / finseg's time slower.
                after = d.get("seconds")
                lines.append(f"{segment:<24}{secs:>8.2f} s" + (
                    f"  failed after {after:.2f} s (≥ {after / secs:.1f}×): {d['error'][:40]}" if after is not None
                    else f"    failed: {d['error'][:60]}"))
                continue
            agree = d["agreement"]
            verdict = "yes" if agree and agree["same"] else (
                f"no: {agree['finsegOnly']} only in finseg, {agree['duckdbOnly']} only in DuckDB" if agree else "?")
            lines.append(f"{segment:<24}{secs:>8.2f} s{d['seconds']:>8.2f} s{d['seconds'] / secs:>14.1f}×  {verdict}")
    if load:
        lines += ["", f"{'load test (wrk)':<44}{'p50':>9}{'p99':>9}{'req/s':>10}"]
        for name, r in load:
            lines.append(f"{name:<44}{r['p50']:>9}{r['p99']:>9}{r['rps']:>10,.0f}")
    lines += ["", "server peak RSS   " + " + ".join(f"{r:,.0f}" for r in rss) + " MiB",
              f"database on disk  {size:,.0f} MiB ({'PostgreSQL' if args.postgres else 'SQLite'}, {args.nodes} node(s))"]
    report = "\n".join(lines)
    print(report)
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(report + "\n")
    if not args.keep and not args.reuse:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
