#!/bin/sh
# run-mail-delivery.sh: starts a real SMTP sink (python3-aiosmtpd, on
# 127.0.0.1 and a free port), runs test_mail_delivery against it, and stops
# it whatever happens. Exits 77 (skipped) when aiosmtpd is not installed.
set -u

: "${srcdir:=$(dirname "$0")/../..}"
PYTHON=/usr/bin/python3
DRIVER=./tests/unit/test_mail_delivery

if ! "$PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
	echo "python3-aiosmtpd is not installed: skipping"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mail-delivery.XXXXXX") || exit 1
sink_pid=
cleanup() {
	if [ -n "$sink_pid" ]; then
		kill "$sink_pid" 2>/dev/null
		wait "$sink_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Free ports: plain SMTP, where nothing listens, STARTTLS, implicit TLS.
ports=$("$PYTHON" - <<'PY'
import socket
s = [socket.socket() for _ in range(4)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))
PY
) || exit 1
set -- $ports
sink_port=$1
refused_port=$2
starttls_port=$3
smtps_port=$4

# The relay's certificate, for 127.0.0.1, trusted through MAIL_SINK_CA.
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 \
	-keyout "$work/relay.key" -out "$work/relay.pem" 2>"$work/openssl.log"
then
	cat "$work/openssl.log" >&2
	exit 1
fi

"$PYTHON" "$srcdir/tests/unit/smtp_sink.py" "$sink_port" "$work/maildir" \
	"$work/ready" "$starttls_port" "$smtps_port" "$work/relay.pem" \
	"$work/relay.key" >"$work/sink.log" 2>&1 &
sink_pid=$!

# Bounded wait for the sink to listen (10 s).
i=0
while [ ! -s "$work/ready" ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$sink_pid" 2>/dev/null; then
		echo "SMTP sink did not start:" >&2
		cat "$work/sink.log" >&2
		exit 1
	fi
	sleep 0.1
done

mkdir -p "$work/spool"
MAIL_SINK_PORT=$sink_port MAIL_REFUSED_PORT=$refused_port \
MAIL_SINK_MAILDIR=$work/maildir MAIL_SINK_GREETINGS=$work/greetings \
MAIL_SPOOL_DIR=$work/spool MAIL_SINK_CA=$work/relay.pem \
MAIL_SINK_STARTTLS_PORT=$starttls_port MAIL_SINK_SMTPS_PORT=$smtps_port \
	timeout 120 "$DRIVER"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- sink log ---" >&2
	tail -n 50 "$work/sink.log" >&2
fi
exit "$rc"
