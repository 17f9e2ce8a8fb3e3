#!/usr/bin/env bash
# Regenerates the TLS test material used by the HTTPS tests (CotarHTTPTests/TLSTests):
# a private test CA, and a server certificate for 127.0.0.1 / localhost signed by it.
# These keys protect nothing: they exist only for loopback tests.
#
#   bash Fixtures/tls/make_tls.sh
#
# Needs: openssl (tested with 3.0). Certificates are valid for 100 years.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=Cotar Test CA" -keyout "$WORK/ca.key" -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout server.key -out "$WORK/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$WORK/ext"
openssl x509 -req -in "$WORK/server.csr" -CA ca.pem -CAkey "$WORK/ca.key" -CAcreateserial -days 36500 \
  -extfile "$WORK/ext" -out server.pem 2>/dev/null
rm -f ca.srl
echo "wrote ca.pem, server.pem, server.key in $HERE"
