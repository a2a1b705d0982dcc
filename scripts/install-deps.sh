#!/usr/bin/env bash
# Installs the Debian packages that the e2e tests drive as real Kafka clients:
# kcat (librdkafka), python3-kafka (kafka-python) and python3-confluent-kafka;
# burrow (LinkedIn's lag monitor on Sarama, an old-protocol client: /usr/bin/Burrow);
# prometheus (which ships promtool), the server the agent's e2e test scrapes with and the rules'
# unit tests run under; prometheus-alertmanager, which the live alert test and weir up drive; and
# chromium, the headless browser the console's browser test (e2e/console_test.go) drives over CDP;
# iproute2 and nftables, which the network-fault tests (e2e/netns_*_test.go) build namespaces and faults with.
# Installs only what is missing, and says what it installs.
set -euo pipefail

py=/usr/bin/python3 # Debian's interpreter: a pyenv python on PATH does not see Debian's modules
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
[ -x /usr/bin/Burrow ] || missing+=(burrow)
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || missing+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
if ! [ -x "$py" ]; then
	missing+=(python3 python3-kafka python3-confluent-kafka)
else
	"$py" -c 'import kafka' >/dev/null 2>&1 || missing+=(python3-kafka)
	"$py" -c 'import confluent_kafka' >/dev/null 2>&1 || missing+=(python3-confluent-kafka)
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: kcat, burrow, python3-kafka, python3-confluent-kafka, prometheus, prometheus-alertmanager, chromium, iproute2 and nftables are present"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
