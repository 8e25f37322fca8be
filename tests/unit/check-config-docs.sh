#!/bin/sh
# check-config-docs.sh: certfleetd.conf(5) must document every key of the
# configuration table, in its section, with the table's default and the
# table's reload flag, and must not document keys the table no longer has.
# The table is read through src/daemon/certfleetd-config-example (the same
# output that becomes etc/certfleetd.conf), the page from
# doc/man/certfleetd.conf.5, where each key is one tag paragraph:
#
#	.SH [section]
#	.TP
#	.BR key " = " default " (reload)"
#
# (an empty default is written `.BR key " ="`). Run by `make check` from the
# build folder; srcdir is set by automake's test driver.
set -eu

top=${srcdir:-.}
example=${CONFIG_EXAMPLE_BIN:-./src/daemon/certfleetd-config-example}
page=$top/doc/man/certfleetd.conf.5

if [ ! -x "$example" ]; then
	echo "FAIL: $example is not built"
	exit 1
fi
if [ ! -f "$page" ]; then
	echo "FAIL: $page is missing"
	exit 1
fi

work=$(mktemp -d /tmp/check-config-docs.XXXXXX)
trap 'rm -rf "$work"' EXIT

# section key default reload|restart, from the example's
# "[section]", "# ... Applied on reload (SIGHUP)." and "#key = value".
"$example" | awk '
	/^\[[a-z_]+\]$/ { sect = substr($0, 2, length($0) - 2); rel = ""; next }
	/^# / && /Applied on reload/ { rel = "reload"; next }
	/^# / && /Needs a restart/ { rel = "restart"; next }
	/^#[a-z_]+ =/ {
		i = index($0, "=")
		key = substr($0, 2, i - 3)
		val = substr($0, i + 1); sub(/^ /, "", val)
		printf "%s %s %s %s\n", sect, key, (val == "" ? "-" : val), rel
		rel = ""
	}' | sort >"$work/table"

# The same four columns from the page's tags under ".SH [section]".
awk '
	function unescape(s) { gsub(/\\-/, "-", s); return s }
	# The arguments of a request line: words, or "quoted strings".
	function split_args(line, a,    n, c, w, q, i) {
		n = 0; w = ""; q = 0; inw = 0
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (c == "\"") { q = !q; inw = 1; continue }
			if (!q && (c == " " || c == "\t")) {
				if (inw) { a[++n] = w; w = ""; inw = 0 }
				continue
			}
			w = w c; inw = 1
		}
		if (inw) a[++n] = w
		return n
	}
	/^\.SH / {
		sect = ""
		if (match($0, /^\.SH \[[a-z_]+\]$/))
			sect = substr($0, 6, length($0) - 6)
		tag = 0
		next
	}
	/^\.TP/ { tag = (sect != ""); next }
	tag {
		tag = 0
		if ($0 !~ /^\.BR /) {
			printf "BAD %s: tag is not \".BR key \\\" = \\\" default\": %s\n", sect, $0
			next
		}
		n = split_args(substr($0, 5), a)
		key = a[1]; def = "-"; rel = "restart"
		for (i = 2; i <= n; i++) {
			if (a[i] == " = " && i < n && a[i + 1] != " (reload)") {
				def = unescape(a[i + 1]); i++
			} else if (a[i] == " (reload)")
				rel = "reload"
			else if (a[i] != " =" && a[i] != " = " && a[i] != "")
				printf "BAD %s %s: unexpected %s\n", sect, key, a[i]
		}
		if (def == "") def = "-"
		printf "%s %s %s %s\n", sect, key, def, rel
	}' "$page" | sort >"$work/page"

fail=0
if grep '^BAD ' "$work/page"; then
	fail=1
fi
grep -v '^BAD ' "$work/page" >"$work/page.ok" || true

# Keys of the table missing from the page, or documented differently.
while read -r sect key def rel; do
	line=$(awk -v s="$sect" -v k="$key" '$1 == s && $2 == k' "$work/page.ok")
	if [ -z "$line" ]; then
		echo "FAIL: [$sect] $key is not documented in doc/man/certfleetd.conf.5"
		fail=1
		continue
	fi
	pdef=$(printf '%s\n' "$line" | cut -d' ' -f3)
	prel=$(printf '%s\n' "$line" | cut -d' ' -f4)
	if [ "$pdef" != "$def" ]; then
		echo "FAIL: [$sect] $key: the page says default '$pdef', the table '$def'"
		fail=1
	fi
	if [ "$prel" != "$rel" ]; then
		echo "FAIL: [$sect] $key: the page says $prel, the table $rel"
		fail=1
	fi
done <"$work/table"

# Keys the page documents that the table does not have.
while read -r sect key _; do
	if ! awk -v s="$sect" -v k="$key" '$1 == s && $2 == k { f = 1 }
	    END { exit !f }' "$work/table"; then
		echo "FAIL: [$sect] $key is documented but is not a setting"
		fail=1
	fi
done <"$work/page.ok"

n=$(wc -l <"$work/table")
if [ "$fail" -eq 0 ]; then
	echo "PASS: all $n keys of the configuration table are documented"
fi
exit "$fail"
