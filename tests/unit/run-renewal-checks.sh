#!/bin/sh
# run-renewal-checks.sh: runs test_renewal_checks (the DNS check and the
# TLS probe of src/renewal) against real servers on loopback, started here
# and stopped on exit whatever happens:
#   dnsmasq on 127.0.54.1 with names inside and outside the managed
#     networks, CNAME chains, NXDOMAIN and NODATA (--local), REFUSED for
#     names outside its zones, and lb.test.example with two addresses;
#   openssl s_server on 127.0.54.21 and .22 (the expected certificate) and
#     on .23 (another certificate of the same CA); nothing on .24.
# The test itself opens a silent DNS server and a TCP port that never
# speaks TLS. Exits 77 (skip) when dnsmasq or openssl is missing.
set -eu

bin=${TEST_RENEWAL_CHECKS_BIN:-./tests/unit/test_renewal_checks}
python=/usr/bin/python3
dnsmasq=$(command -v dnsmasq 2>/dev/null || echo /usr/sbin/dnsmasq)
openssl=$(command -v openssl 2>/dev/null || echo /usr/bin/openssl)
dns_addr=127.0.54.1

for tool in "$dnsmasq" "$openssl" "$python"; do
	if [ ! -x "$tool" ]; then
		echo "SKIP: $tool is not installed"
		exit 77
	fi
done

work=$(mktemp -d /tmp/test-renewal-checks.XXXXXX)
pids=
cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	"$python" -c 'import socket, sys
s = socket.socket(socket.AF_INET, getattr(socket, sys.argv[2]))
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1" "$2"
}

# A CA, the expected certificate (lb and mixed, and the first address)
# and another one, both issued by the CA.
cd "$work"
"$openssl" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -days 2 -subj /CN=checks-test-ca \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign 2>/dev/null
leaf() {
	"$openssl" req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" >"$1.ext"
	"$openssl" x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 1 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
leaf good lb.test.example \
    "DNS:lb.test.example,DNS:mixed.test.example,IP:127.0.54.21"
leaf other other.test.example "DNS:other.test.example"
fp() {
	"$openssl" x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'
}
not_after() {
	date -u -d "$("$openssl" x509 -in "$1" -noout -enddate | sed 's/.*=//')" +%s
}
cd - >/dev/null

start_dnsmasq() {
	: >"$work/dnsmasq.log"
	"$dnsmasq" --keep-in-foreground --conf-file=/dev/null --pid-file= \
	    --no-resolv --no-hosts --bind-interfaces \
	    --listen-address="$dns_addr" --port="$1" --user=root \
	    --log-facility="$work/dnsmasq.log" \
	    --local=/test.example/ \
	    --host-record=in.test.example,127.0.54.10,fd00:54::10 \
	    --host-record=v4only.test.example,127.0.54.11 \
	    --host-record=out.test.example,127.0.54.12 \
	    --host-record=out.test.example,192.0.2.1 \
	    --host-record=out6.test.example,127.0.54.13,2001:db8::1 \
	    --cname=alias.test.example,mid.test.example \
	    --cname=mid.test.example,in.test.example \
	    --cname=aliasout.test.example,out.test.example \
	    --txt-record=txtonly.test.example,hello \
	    --host-record=lb.test.example,127.0.54.21 \
	    --host-record=lb.test.example,127.0.54.22 \
	    --host-record=mixed.test.example,127.0.54.21 \
	    --host-record=mixed.test.example,127.0.54.23 \
	    --host-record=down.test.example,127.0.54.24 \
	    2>"$work/dnsmasq.err" &
	dns_pid=$!
}

tries=0
while :; do
	dns_port=$(free_port "$dns_addr" SOCK_DGRAM)
	start_dnsmasq "$dns_port"
	i=0
	while [ $i -lt 50 ] && kill -0 "$dns_pid" 2>/dev/null &&
	    ! grep -q started "$work/dnsmasq.log"; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$dns_pid" 2>/dev/null &&
	    grep -q started "$work/dnsmasq.log"; then
		pids="$pids $dns_pid"
		break
	fi
	wait "$dns_pid" 2>/dev/null || true
	tries=$((tries + 1))
	if [ $tries -ge 5 ]; then
		echo "dnsmasq did not start:"
		cat "$work/dnsmasq.err" "$work/dnsmasq.log"
		exit 1
	fi
done

# The TLS endpoints share one port on their own addresses.
tls_port=$(free_port 127.0.54.21 SOCK_STREAM)
serve() {
	"$openssl" s_server -quiet -accept "$1:$tls_port" \
	    -cert "$work/$2.pem" -key "$work/$2.key" -www \
	    >"$work/s_server-$1.log" 2>&1 </dev/null &
	pids="$pids $!"
}
serve 127.0.54.21 good
serve 127.0.54.22 good
serve 127.0.54.23 other
for addr in 127.0.54.21 127.0.54.22 127.0.54.23; do
	i=0
	until "$python" -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
	    "$addr" "$tls_port" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "openssl s_server on $addr did not start:"
			cat "$work/s_server-$addr.log"
			exit 1
		fi
		sleep 0.1
	done
done

status=0
CHECKS_DNS="$dns_addr:$dns_port" CHECKS_TLS_PORT="$tls_port" \
    CHECKS_CA="$work/ca.pem" CHECKS_GOOD_FP="$(fp "$work/good.pem")" \
    CHECKS_OTHER_FP="$(fp "$work/other.pem")" \
    CHECKS_GOOD_NOT_AFTER="$(not_after "$work/good.pem")" \
    timeout 120 "$bin" || status=$?
if [ $status -ne 0 ] && [ $status -ne 77 ]; then
	echo "--- dnsmasq log"
	tail -n 40 "$work/dnsmasq.log"
fi
exit $status
