#!/usr/bin/env bash
# Makes what a TLS + token gateway needs, with openssl alone:
#   ca.pem, ca-key.pem           a private CA (kept and reused when it exists: certificates
#                                issued later still chain to what clients already trust)
#   server.pem, server-key.pem   the gateway's certificate, for the names and IPs given
#   client.pem, client-key.pem   a client certificate, for mutual TLS (client_ca_file: ca.pem)
#   token                        a random bearer token (kept when it exists)
#
# usage: gen-certs.sh [-o DIR] [-d DAYS] [-c CLIENT_NAME] NAME_OR_IP...
#   gen-certs.sh -o certs otel.example.com 10.0.0.5 localhost 127.0.0.1
# DIR defaults to ./certs, DAYS to 365 (the CA: 10 years), CLIENT_NAME to "otel-client".
# Keys are P-256 ECDSA, written 0600. Re-run to renew the server and client certificates;
# the gateway picks them up without a restart when `tls.reload_interval` is set.
set -euo pipefail
out=certs days=365 client=otel-client
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "o:d:c:h" opt; do
  case $opt in
    o) out=$OPTARG ;;
    d) days=$OPTARG ;;
    c) client=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
command -v openssl >/dev/null || { echo "gen-certs.sh: openssl not found (Debian: apt-get install openssl)" >&2; exit 1; }

sans=()
for name in "$@"; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then sans+=("IP:$name"); else sans+=("DNS:$name"); fi
done
san=$(IFS=,; echo "${sans[*]}")

umask 077
mkdir -p "$out"
cd "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { echo "0x$(openssl rand -hex 16)"; }

if [ ! -s ca.pem ] || [ ! -s ca-key.pem ]; then
  newkey ca-key.pem
  openssl req -x509 -new -key ca-key.pem -out ca.pem -days 3650 -subj "/CN=switchyard CA" -set_serial "$(serial)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
  echo "gen-certs.sh: new CA $out/ca.pem" >&2
fi

# issue NAME CN EXTENSIONS: NAME.pem and NAME-key.pem signed by the CA.
issue() {
  newkey "$1-key.pem"
  openssl req -new -key "$1-key.pem" -out "$tmp/$1.csr" -subj "/CN=$2"
  printf '%s\n' "$3" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA ca.pem -CAkey ca-key.pem -set_serial "$(serial)" -days "$days" \
    -extfile "$tmp/$1.ext" -out "$1.pem" 2>/dev/null
}
issue server "$1" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san"
issue client "$client" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:$client"
[ -s token ] || { openssl rand -hex 32 > token; echo "gen-certs.sh: new bearer token in $out/token" >&2; }
chmod 644 ca.pem server.pem client.pem
echo "gen-certs.sh: server certificate for $san, client certificate for $client, valid $days days, in $out" >&2
