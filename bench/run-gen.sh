#!/usr/bin/env bash
# run-gen.sh CONFIG [DURATION] [BATCH]: one gateway run where every request is a new trace.
# The shared harness (../shared/bench/run.sh) sends one fixed body, so its 100 trace ids
# repeat in every request; stateful processors by trace id (tail_sampling, loadbalancing)
# need fresh ids. Here `switchyard gen traces --batch-size BATCH` sends a new BATCH-span
# trace per request, as fast as the gateway takes them, over OTLP/gRPC from CPU 1 (8
# workers); the gateway runs on CPU 0 and exports to the harness's sink (also CPU 1).
# Prints one key=value line: accepted spans/s, gateway CPU-s per million accepted spans,
# peak RSS, spans the sink got. Env as run.sh: GW_GRPC_PORT, GW_HTTP_PORT, SINK.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CONFIG=$1 DURATION=${2:-10} BATCH=${3:-20}
BIN=${BIN:-$HERE/../target/release/switchyard}
WORK=${BENCH_WORK:-/tmp/switchyard-bench}
export GW_GRPC_PORT=${GW_GRPC_PORT:-24317} GW_HTTP_PORT=${GW_HTTP_PORT:-24318} SINK=${SINK:-127.0.0.1:24417}
export SINK_PORT=${SINK##*:}
SINK_BIN=$WORK/sink-target/release/otlp-sink
[ -x "$SINK_BIN" ] || (cd "$HERE/../../shared/bench/sink" && CARGO_TARGET_DIR=$WORK/sink-target cargo build --release -j1 -q)
dir=$(mktemp -d /tmp/bench-gen.XXXXXX)
taskset -c 1 "$SINK_BIN" --listen "$SINK" 2>"$dir/sink.log" & sink=$!
taskset -c 0 "$BIN" --config "$CONFIG" >"$dir/gw.log" 2>&1 & gw=$!
trap 'kill $gw $sink 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$GW_GRPC_PORT") 2>/dev/null && break; sleep 0.1; done
sleep 1
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
t0=$(ticks $gw)
taskset -c 1 "$BIN" gen traces --endpoint "http://127.0.0.1:$GW_GRPC_PORT" --rate 0 --workers 8 \
  --batch-size "$BATCH" --duration "${DURATION}s" >"$dir/gen.json" 2>"$dir/gen.log"
t1=$(ticks $gw)
hwm=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$gw/status")
sleep "${DRAIN:-3}"
got=$(curl -sf "http://$SINK/counts" | sed -n 's/.*"spans":\([0-9]*\).*/\1/p')
python3 - "$dir/gen.json" "$t0" "$t1" "$(getconf CLK_TCK)" "$hwm" "${got:-0}" "$DURATION" "$CONFIG" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
t0, t1, hz, hwm, got, dur = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
acc = g.get("accepted_items", 0)
cpu = (t1 - t0) / hz
print(f"config={sys.argv[8].split('/')[-1]} accepted={acc} refused={g.get('refused_items', 0)} spans_s={acc / dur:.0f} "
      f"gw_cpu_s={cpu:.2f} cpu_s_per_M={cpu * 1e6 / max(acc, 1):.3f} rss_peak_mb={hwm / 1024:.1f} delivered={got}")
PY
