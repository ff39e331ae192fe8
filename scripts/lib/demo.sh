# Sourced by the scripts that test against a running demo:
#
#   start_demo USERS     starts `$bin demo` on a free port with a fresh data
#                        directory; sets demo_dir, port and token, and stops
#                        the demo and removes the directory on exit.
#
# `bin` is the finseg binary (FINSEG_BIN, default target/debug/finseg,
# built if missing).
bin="${FINSEG_BIN:-target/debug/finseg}"
[ -x "$bin" ] || cargo build -p finseg

start_demo() {
    demo_dir="$(mktemp -d)"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    # A day's token: a long generated-request run outlasts the default hour.
    "$bin" demo --users "$1" --listen "127.0.0.1:$port" --data-dir "$demo_dir/data" \
        --token-ttl 86400 >"$demo_dir/demo.log" 2>&1 &
    demo_pid=$!
    trap 'kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; rm -rf "$demo_dir"' EXIT
    for _ in $(seq 1 120); do
        grep -q "access token:" "$demo_dir/demo.log" && break
        kill -0 "$demo_pid" 2>/dev/null || { cat "$demo_dir/demo.log" >&2; exit 1; }
        sleep 0.5
    done
    token="$(sed -n 's/^ *access token: *\([^ ]*\).*/\1/p' "$demo_dir/demo.log")"
    [ -n "$token" ] || { echo "the demo printed no token" >&2; cat "$demo_dir/demo.log" >&2; exit 1; }
}
