#!/usr/bin/env bash
# filelog receiver benchmark (issue 19): LINES JSON log lines (default 2,000,000, ~220 bytes
# each: timestamp, level, message, ids, HTTP fields) written to one file first, then a gateway
# pinned to CPU 0 reads it from the beginning with `filelog` + a `json_parser` operator
# (timestamp and severity parsed) into the `nop` exporter. Measures the time from start
# until the receiver has accepted every line (polling its otelcol_receiver_accepted_log_records)
# and the gateway's CPU over that time.
# usage: flock /tmp/cargo.lock bash bench/run-filelog.sh
# prints: lines= seconds= lines_per_s= cpu_s= cpu_s_per_million= lines_per_cpu_s= peak_rss_mib=
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BIN=${SWITCHYARD_BIN:-$ROOT/target/release/switchyard}
LINES=${LINES:-2000000} METRICS_PORT=${METRICS_PORT:-28899}
WORK=${BENCH_WORK:-/tmp/switchyard-bench}/filelog
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
accepted() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk 'index($0, "otelcol_receiver_accepted_log_records") == 1 {s += $NF} END {printf "%d", s}'; }

mkdir -p "$WORK"
LOG=$WORK/app-$LINES.log
if [ ! -f "$LOG" ]; then
  python3 - "$LOG" "$LINES" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
with open(path, "w") as f:
    for i in range(n):
        f.write('{"time":"2026-12-04T10:%02d:%02d.%03dZ","level":"%s","msg":"request handled","trace_id":"%032x",'
                '"http.method":"GET","http.route":"/api/items/{id}","http.status":%d,"duration_ms":%d,"user":"u%d"}\n'
                % (i // 60000 % 60, i // 1000 % 60, i % 1000, levels[i % 6], i, 200 if i % 10 else 500, i % 250, i % 97))
PY
fi
rm -rf "$WORK/storage"
cat >"$WORK/config.yaml" <<YAML
receivers:
  filelog:
    include: [$LOG]
    start_at: beginning
    operators:
      - type: json_parser
        timestamp: {parse_from: attributes.time, layout_type: gotime, layout: '2006-01-02T15:04:05.000Z'}
        severity: {parse_from: attributes.level}
exporters:
  nop:
service:
  telemetry: {metrics: {address: 127.0.0.1:$METRICS_PORT}}
  pipelines:
    logs: {receivers: [filelog], exporters: [nop]}
YAML
t0=$(date +%s.%N)
taskset -c 0 "$BIN" --config "$WORK/config.yaml" >"$WORK/gw.log" 2>&1 &
GW=$!; PIDS+=("$GW")
wait_port "$METRICS_PORT"
for _ in $(seq 3000); do [ "$(accepted)" -ge "$LINES" ] && break; sleep 0.05; done
t1=$(date +%s.%N); g=$(ticks "$GW"); got=$(accepted)
peak=$(awk '$1 == "VmHWM:" {printf "%d", $2/1024}' "/proc/$GW/status")
HZ=$(getconf CLK_TCK)
awk -v n="$got" -v t0="$t0" -v t1="$t1" -v g="$g" -v hz="$HZ" -v peak="$peak" \
  'BEGIN { d = t1 - t0; cpu = g / hz; printf "lines=%d seconds=%.2f lines_per_s=%.0f cpu_s=%.2f cpu_s_per_million=%.2f lines_per_cpu_s=%.0f peak_rss_mib=%d\n", n, d, n / d, cpu, cpu / (n / 1e6), n / cpu, peak }'
grep -iE "error|warn" "$WORK/gw.log" | head -3 >&2 || true
