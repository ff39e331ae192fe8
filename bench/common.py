"""What the one-command benchmarks share: the binary, a fresh data
directory, clients, and a `finseg serve` that answers /health."""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# FINSEG_BENCH_BIN: another build of finseg (e.g. an older one to compare).
BIN = os.environ.get("FINSEG_BENCH_BIN") or os.path.join(ROOT, "target", "release", "finseg")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def fresh_data(name):
    """A new data directory and the environment that points finseg at it."""
    if not os.path.exists(BIN):
        sys.exit(f"no binary at {BIN}: cargo build --release (or set FINSEG_BENCH_BIN)")
    data = tempfile.mkdtemp(prefix=f"finseg-{name}-")
    env = dict(os.environ, FINSEG_DATA_DIR=data, FINSEG_LOG="warn")
    env.pop("FINSEG_DATABASE_URL", None)
    return data, env


def create_client(env, name):
    out = subprocess.run([BIN, "clients", "create", "--name", name, "--json"],
                         env=env, check=True, capture_output=True).stdout
    return json.loads(out)


def serve(env):
    """Starts `finseg serve` and waits until it answers; returns (process, port)."""
    port = free_port()
    server = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL)
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return server, port
        except OSError:
            pass
        time.sleep(0.1)
    server.terminate()
    sys.exit("finseg serve did not answer /health")
