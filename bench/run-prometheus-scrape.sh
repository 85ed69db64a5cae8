#!/usr/bin/env bash
# Prometheus receiver benchmark (issue 19): TARGETS targets (default 1,000) of 1,000 series
# each (bench/prom_targets.py, one asyncio process on CPU 1), scraped every INTERVAL (15s) by
# a gateway pinned to CPU 0 that exports with otlphttp to bench/null_sink.py (CPU 1). After a
# warm-up round, measures ROUNDS scrape rounds: the gateway's CPU seconds per round, the
# points it accepted per round (expected: 861 per target: 800 counter points, 12 histogram
# points, 44 gauges and the 5 synthetic up/scrape_* series) and its RSS.
# usage: flock /tmp/cargo.lock bash bench/run-prometheus-scrape.sh
# prints: targets= series_per_target= interval_s= rounds= cpu_s_per_round= cpu_pct_of_core=
#         points_per_round= expected_points_per_round= rss_mib= peak_rss_mib=
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BIN=${SWITCHYARD_BIN:-$ROOT/target/release/switchyard}
TARGETS=${TARGETS:-1000} INTERVAL=${INTERVAL:-15} ROUNDS=${ROUNDS:-4} BASE=${BASE:-31000}
SINK_PORT=${SINK_PORT:-24999} METRICS_PORT=${METRICS_PORT:-28899}
ulimit -n 20000
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
accepted() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk 'index($0, "otelcol_receiver_accepted_metric_points") == 1 {s += $NF} END {printf "%d", s}'; }

dir=$(mktemp -d /tmp/bench-prom.XXXXXX)
taskset -c 1 python3 "$HERE/prom_targets.py" "$BASE" "$TARGETS" >"$dir/targets.log" 2>&1 & PIDS+=($!)
taskset -c 1 python3 "$HERE/null_sink.py" "$SINK_PORT" & PIDS+=($!)
wait_port "$SINK_PORT"; wait_port $((BASE + TARGETS - 1))
{
  echo "receivers:"
  echo "  prometheus:"
  echo "    config:"
  echo "      scrape_configs:"
  echo "        - job_name: bench"
  echo "          scrape_interval: ${INTERVAL}s"
  echo "          static_configs:"
  echo "            - targets:"
  for i in $(seq 0 $((TARGETS - 1))); do echo "                - 127.0.0.1:$((BASE + i))"; done
  echo "exporters:"
  echo "  otlphttp:"
  echo "    endpoint: http://127.0.0.1:$SINK_PORT"
  echo "    compression: none"
  echo "service:"
  echo "  telemetry: {metrics: {address: 127.0.0.1:$METRICS_PORT}}"
  echo "  pipelines:"
  echo "    metrics: {receivers: [prometheus], exporters: [otlphttp]}"
} >"$dir/config.yaml"
taskset -c 0 "$BIN" --config "$dir/config.yaml" >"$dir/gw.log" 2>&1 &
GW=$!; PIDS+=("$GW")
wait_port "$METRICS_PORT"
# Scrape starts are spread over the interval by target; one full round warms every target up.
sleep $((INTERVAL + 5))
g0=$(ticks "$GW"); a0=$(accepted); t0=$(date +%s.%N)
sleep $((INTERVAL * ROUNDS))
g1=$(ticks "$GW"); a1=$(accepted); t1=$(date +%s.%N)
rss=$(awk '$1 == "VmRSS:" {printf "%d", $2/1024}' "/proc/$GW/status")
peak=$(awk '$1 == "VmHWM:" {printf "%d", $2/1024}' "/proc/$GW/status")
HZ=$(getconf CLK_TCK)
awk -v n="$TARGETS" -v iv="$INTERVAL" -v r="$ROUNDS" -v g="$((g1 - g0))" -v hz="$HZ" -v a="$((a1 - a0))" \
  -v t0="$t0" -v t1="$t1" -v rss="$rss" -v peak="$peak" \
  'BEGIN { cpu = g / hz; printf "targets=%d series_per_target=1000 interval_s=%d rounds=%d seconds=%.1f cpu_s_per_round=%.2f cpu_pct_of_core=%.1f points_per_round=%.0f expected_points_per_round=%d rss_mib=%d peak_rss_mib=%d\n", n, iv, r, t1 - t0, cpu / r, 100 * cpu / (t1 - t0), a / r, 861 * n, rss, peak }'
grep -iE "error|warn" "$dir/gw.log" | head -3 >&2 || true
