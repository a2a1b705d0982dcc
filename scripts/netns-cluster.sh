#!/usr/bin/env bash
# A 3-broker Weir cluster on this machine with each broker in its own Linux
# network namespace and address, configured exactly as docs/NETWORK.md's
# three hosts (the page's server.properties blocks, with 10.0.0. replaced by
# the subnet and log.dirs by a directory here). Needs root.
#
#   scripts/netns-cluster.sh up   [--subnet 10.250.0] [--bin bin/weir] [--dir netns-data]
#   scripts/netns-cluster.sh down [--subnet 10.250.0] [--dir netns-data]
#   scripts/netns-cluster.sh status
#
# up creates a bridge weirnet0 holding <subnet>.1/24 and namespaces
# weirnet-b1..b3 at <subnet>.11-.13, starts `weir broker` in each (logs and
# pids in --dir) and prints the bootstrap servers, which this machine's
# clients reach through the bridge. Cut links with nft in a namespace, e.g.
#   ip netns exec weirnet-b1 nft add table inet f
#   ip netns exec weirnet-b1 nft add chain inet f in '{ type filter hook input priority 0; }'
#   ip netns exec weirnet-b1 nft add rule inet f in ip saddr <subnet>.12 drop
# down stops the brokers (SIGTERM, then SIGKILL after 15 s) and deletes the
# namespaces and the bridge; the data directory stays.
# (The Go tests use broker/brokertest's NewNet, which names things per test.)
set -euo pipefail

cmd=${1:-}
shift || true
subnet=10.250.0
bin=bin/weir
dir=netns-data
while [ $# -gt 0 ]; do
	case $1 in
	--subnet) subnet=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	*) echo "netns-cluster: unknown flag $1" >&2; exit 2 ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
bridge=weirnet0

if [ "$(id -u)" -ne 0 ]; then
	echo "netns-cluster: network namespaces need root" >&2
	exit 1
fi

up() {
	[ -x "$bin" ] || { echo "netns-cluster: no $bin (make build)" >&2; exit 1; }
	bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	ip link add "$bridge" type bridge
	ip addr add "$subnet.1/24" dev "$bridge"
	ip link set "$bridge" up
	# The page's three properties blocks, one per host.
	awk -v dir="$dir" '/^```properties$/ { n++; out = dir "/server-" n ".properties"; printf "" > out; next }
		/^```$/ { out = ""; next }
		out != "" { print > out }' "$root/docs/NETWORK.md"
	for i in 1 2 3; do
		ns=weirnet-b$i
		ip netns add "$ns"
		ip link add "weirnet$i" type veth peer name "weirnet$i-ns"
		ip link set "weirnet$i-ns" netns "$ns"
		ip link set "weirnet$i" master "$bridge"
		ip link set "weirnet$i" up
		ip -n "$ns" link set "weirnet$i-ns" name eth0
		ip -n "$ns" addr add "$subnet.1$i/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" link set lo up
		conf=$dir/server-$i.properties
		sed -i -e "s/10\.0\.0\./$subnet./g" -e "s|^log.dirs=.*|log.dirs=$dir/data-$i|" "$conf"
		ip netns exec "$ns" "$bin" broker --config "$conf" >"$dir/broker-$i.log" 2>&1 &
		echo $! >"$dir/broker-$i.pid"
	done
	echo "bootstrap: $subnet.11:9092,$subnet.12:9092,$subnet.13:9092 (logs in $dir)"
}

down() {
	for i in 1 2 3; do
		f=$dir/broker-$i.pid
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if kill -TERM "$pid" 2>/dev/null; then
			for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
	for i in 1 2 3; do ip netns del "weirnet-b$i" 2>/dev/null || true; done
	ip link del "$bridge" 2>/dev/null || true
}

case $cmd in
up) up ;;
down) down ;;
status) ip netns list | grep '^weirnet-' || echo "no weirnet namespaces"; ip -br addr show "$bridge" 2>/dev/null || true ;;
*) echo "usage: $0 up|down|status [--subnet 10.250.0] [--bin bin/weir] [--dir netns-data]" >&2; exit 2 ;;
esac
