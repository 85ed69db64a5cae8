#!/usr/bin/env bash
# Exporter benchmark: max load (h2load, OTLP/HTTP protobuf, 16 connections) into a gateway on
# CPU 0 whose pipeline ends in one exporter; the backend and the load generator share CPU 1.
# Counts what the exporter sent (its otelcol_exporter_sent_* metric) and the gateway's CPU.
# usage: bench/run-exporter.sh CONFIG SIGNAL [REQUESTS]   (CONFIG: bench/exporter-*.yaml)
#   env BACKEND=null (default: bench/null_sink.py on $SINK_PORT) | kafka (tansu on $SINK_PORT)
# prints: config= signal= items= seconds= items_per_s= cpu_s_per_million= rss_mib=
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CONFIG=$1 SIGNAL=$2 REQUESTS=${3:-5000}
WORK=${BENCH_WORK:-/tmp/switchyard-bench}
BIN=${SWITCHYARD_BIN:-$ROOT/target/release/switchyard}
export GW_HTTP_PORT=${GW_HTTP_PORT:-24318} GW_GRPC_PORT=${GW_GRPC_PORT:-24317} SINK_PORT=${SINK_PORT:-24999}
export SINK=127.0.0.1:$SINK_PORT METRICS_PORT=${METRICS_PORT:-28899}
PAY=$WORK/payloads
[ -f "$PAY/$SIGNAL.pb" ] || python3 /work/shared/bench/gen_payloads.py "$PAY" >/dev/null 2>&1 \
  || python3 "$ROOT/../shared/bench/gen_payloads.py" "$PAY" >/dev/null
PER_REQ=$(cat "$PAY/$SIGNAL.items")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ "${BACKEND:-null}" = kafka ] && "$ROOT/scripts/backends/kafka-stop.sh" "$WORK/kafka" >/dev/null 2>&1; true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
sent() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v m="otelcol_exporter_sent_$1" 'index($0, m) == 1 {s += $NF} END {printf "%d", s}'; }
case $SIGNAL in traces) ITEM=spans ;; metrics) ITEM=metric_points ;; logs) ITEM=log_records ;; esac

if [ "${BACKEND:-null}" = kafka ]; then
  "$ROOT/scripts/backends/kafka-stop.sh" "$WORK/kafka" >/dev/null 2>&1 || true
  rm -rf "$WORK/kafka"
  taskset -c 1 "$ROOT/scripts/backends/kafka-start.sh" "$WORK/kafka" "$SINK_PORT" >/dev/null
  case $SIGNAL in traces) TOPIC=otlp_spans ;; *) TOPIC=otlp_$SIGNAL ;; esac
  "$ROOT/scripts/backends/kafka-topic.sh" "$WORK/kafka" create "$TOPIC" 1 >/dev/null
else
  taskset -c 1 python3 "$HERE/null_sink.py" "$SINK_PORT" & PIDS+=($!)
  wait_port "$SINK_PORT"
fi
dir=$(mktemp -d /tmp/bench-exp.XXXXXX)
taskset -c 0 "$BIN" --config "$CONFIG" --set "service.telemetry.metrics.address=127.0.0.1:$METRICS_PORT" >"$dir/gw.log" 2>&1 &
GW=$!; PIDS+=("$GW")
wait_port "$GW_HTTP_PORT"; wait_port "$METRICS_PORT"; sleep 0.5
g0=$(ticks "$GW"); t0=$(date +%s.%N)
taskset -c 1 h2load --h1 -n "$REQUESTS" -c 16 -d "$PAY/$SIGNAL.pb" -H 'content-type: application/x-protobuf' \
  "http://127.0.0.1:$GW_HTTP_PORT/v1/$SIGNAL" >"$dir/load.log" 2>&1
ok=$(awk '/^requests:/{print $8}' "$dir/load.log")
expect=$((ok * PER_REQ))
for _ in $(seq 600); do [ "$(sent "$ITEM")" -ge "$expect" ] && break; sleep 0.05; done
t1=$(date +%s.%N); g1=$(ticks "$GW"); got=$(sent "$ITEM")
rss=$(awk '$1 == "VmHWM:" {printf "%d", $2/1024}' "/proc/$GW/status")
HZ=$(getconf CLK_TCK)
awk -v c="$(basename "$CONFIG" .yaml)" -v s="$SIGNAL" -v n="$got" -v e="$expect" -v t0="$t0" -v t1="$t1" -v g="$((g1 - g0))" -v hz="$HZ" -v rss="$rss" \
  'BEGIN { d = t1 - t0; printf "config=%s signal=%s items=%d expected=%d seconds=%.2f items_per_s=%.0f cpu_s_per_million=%.2f peak_rss_mib=%d\n", c, s, n, e, d, n / d, (g / hz) / (n / 1e6), rss }'
grep -iE "error|warn" "$dir/gw.log" | head -3 >&2 || true
