#!/usr/bin/env bash
# Start Prometheus (Debian package) with the remote-write receiver on 127.0.0.1.
# usage: prometheus-start.sh DATA_DIR [PORT]   env: PROM_DATA_DIR, PROM_PORT (19090), PROM_READY_TIMEOUT (60),
#        PROM_FEATURES (comma list for --enable-feature, e.g. native-histograms,exemplar-storage; default none),
#        PROM_SCRAPE_TARGETS (comma list of host:port serving /metrics: one job "scrape", honor_labels, every
#        PROM_SCRAPE_INTERVAL, default 1s; default none)
# prints: http://127.0.0.1:PORT   (remote write: $URL/api/v1/write, query: $URL/api/v1/query)
set -u
. "$(dirname "$0")/lib.sh"
be_init prometheus "${1:-${PROM_DATA_DIR:-}}"
PORT=${2:-${PROM_PORT:-19090}}
URL="http://127.0.0.1:$PORT"
if be_running; then be_log "already running"; cat "$BE_DATA/prometheus.url"; exit 0; fi
be_install prometheus
be_port_free "$PORT"
cat >"$BE_DATA/prometheus.yml" <<YML
global:
  scrape_interval: 1m
  evaluation_interval: 1m
scrape_configs: []
YML
if [ -n "${PROM_SCRAPE_TARGETS:-}" ]; then
  INTERVAL=${PROM_SCRAPE_INTERVAL:-1s}
  TARGETS=$(echo "$PROM_SCRAPE_TARGETS" | sed 's/[^,][^,]*/"&"/g')
  cat >"$BE_DATA/prometheus.yml" <<YML
global:
  scrape_interval: 1m
  evaluation_interval: 1m
scrape_configs:
  - job_name: scrape
    scrape_interval: $INTERVAL
    scrape_timeout: $INTERVAL
    honor_labels: true
    static_configs:
      - targets: [$TARGETS]
YML
fi
be_start prometheus --config.file="$BE_DATA/prometheus.yml" --storage.tsdb.path="$BE_DATA/tsdb" \
  --web.listen-address="127.0.0.1:$PORT" --web.enable-remote-write-receiver \
  --storage.tsdb.retention.time=1d --log.level=info ${PROM_FEATURES:+--enable-feature="$PROM_FEATURES"}
be_wait "$URL/-/ready" "${PROM_READY_TIMEOUT:-60}"
echo "$URL" | tee "$BE_DATA/prometheus.url"
