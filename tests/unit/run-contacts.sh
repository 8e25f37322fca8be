#!/bin/sh
# run-contacts.sh: runs test_contacts against real servers on loopback:
# dnsmasq serving MX records at various levels of a few zones, and
# rdap_server.py serving RFC 9083 JSON from tests/unit/rdap/. Both are
# started here and stopped on exit, whatever happens. Exits 77 (skip) when
# dnsmasq (Debian package dnsmasq-base) is not installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${TEST_CONTACTS_BIN:-./tests/unit/test_contacts}
python=/usr/bin/python3
dnsmasq=$(command -v dnsmasq 2>/dev/null || echo /usr/sbin/dnsmasq)
addr=127.0.53.1

if [ ! -x "$dnsmasq" ]; then
	echo "SKIP: dnsmasq is not installed (apt-get install dnsmasq-base)"
	exit 77
fi
if [ ! -x "$python" ]; then
	echo "SKIP: $python is not installed"
	exit 77
fi

work=$(mktemp -d /tmp/test-contacts.XXXXXX)
dns_pid=
rdap_pid=
cleanup() {
	for pid in $dns_pid $rdap_pid; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $dns_pid $rdap_pid; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_udp_port() {
	"$python" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$addr"
}

# The zones. --local makes names we have no record for NXDOMAIN; names
# outside every --local zone get REFUSED (the "could not decide" case).
start_dnsmasq() {
	"$dnsmasq" --keep-in-foreground --conf-file=/dev/null --pid-file= \
	    --no-resolv --no-hosts --bind-interfaces \
	    --listen-address="$addr" --port="$1" --user=root \
	    --log-facility="$work/dnsmasq.log" --log-queries \
	    --local=/example.com/ --local=/example.net/ --local=/example.org/ \
	    --local=/co.uk/ --local=/wwwtest.com/ --local=/nomx.com/ \
	    --local=/bigcorp.com/ --local=/redacted.com/ \
	    --local=/rdaponly.com/ --local=/norecord.com/ \
	    --local=/moved.com/ --local=/loop.com/ --local=/huge.com/ \
	    --local=/garbage.com/ --local=/slow.com/ \
	    --local=/x.halfzone.com/ \
	    --mx-host=example.com,mx.example.com,10 \
	    --mx-host=mail.shop.example.com,mx.example.com,10 \
	    --host-record=shop.example.com,127.0.0.10 \
	    --mx-host=parent.example.net,mx.example.net,10 \
	    --host-record=b.parent.example.net,127.0.0.11 \
	    --mx-host=wild.example.net,mx.example.net,10 \
	    --mx-host=example.org,mx.example.org,10 \
	    --host-record=shop.example.org,127.0.0.12 \
	    --mx-host=co.uk,mx.co.uk,10 \
	    --host-record=nomx2.co.uk,127.0.0.13 \
	    --mx-host=www.wwwtest.com,mx.wwwtest.com,10 \
	    --mx-host=wwwtest.com,mx.wwwtest.com,20 \
	    --host-record=nomx.com,127.0.0.14 \
	    --host-record=x.y.nomx.com,127.0.0.15 \
	    --mx-host=bigcorp.com,mx.bigcorp.com,10 \
	    --mx-host=redacted.com,mx.redacted.com,10 \
	    --host-record=rdaponly.com,127.0.0.16 \
	    --mx-host=norecord.com,mx.norecord.com,10 \
	    --mx-host=loop.com,mx.loop.com,10 \
	    --mx-host=huge.com,mx.huge.com,10 \
	    --mx-host=garbage.com,mx.garbage.com,10 \
	    --mx-host=slow.com,mx.slow.com,10 \
	    2>"$work/dnsmasq.err" &
	dns_pid=$!
}

# dnsmasq logs "started" once it listens; retry on a port race.
tries=0
while :; do
	dns_port=$(free_udp_port)
	: >"$work/dnsmasq.log"
	start_dnsmasq "$dns_port"
	i=0
	while [ $i -lt 50 ] && kill -0 "$dns_pid" 2>/dev/null &&
	    ! grep -q started "$work/dnsmasq.log"; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$dns_pid" 2>/dev/null && grep -q started "$work/dnsmasq.log"; then
		break
	fi
	wait "$dns_pid" 2>/dev/null || true
	dns_pid=
	tries=$((tries + 1))
	if [ $tries -ge 5 ]; then
		echo "dnsmasq did not start:"
		cat "$work/dnsmasq.err" "$work/dnsmasq.log"
		exit 1
	fi
done

"$python" "$here/rdap_server.py" "$here/rdap" "$addr" "$work/rdap.port" \
    2>"$work/rdap.err" &
rdap_pid=$!
i=0
while [ ! -s "$work/rdap.port" ]; do
	if [ $i -ge 100 ] || ! kill -0 "$rdap_pid" 2>/dev/null; then
		echo "the RDAP server did not start:"
		cat "$work/rdap.err"
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
rdap="http://$addr:$(cat "$work/rdap.port")/"

# An RFC 9224 bootstrap file: com and uk on our server, net on a port where
# nothing listens.
cat >"$work/dns.json" <<EOF
{
  "version": "1.0",
  "publication": "2024-01-01T00:00:00Z",
  "services": [
    [["com", "uk"], ["$rdap"]],
    [["net"], ["http://127.0.0.1:1/"]]
  ]
}
EOF

status=0
CONTACTS_DNS="$addr:$dns_port" CONTACTS_RDAP="$rdap" \
    CONTACTS_BOOTSTRAP="$work/dns.json" \
    timeout 180 "$bin" || status=$?
if [ $status -ne 0 ] && [ $status -ne 77 ]; then
	echo "--- dnsmasq log"
	tail -n 60 "$work/dnsmasq.log"
fi
exit $status
