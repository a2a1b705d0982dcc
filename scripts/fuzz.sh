#!/usr/bin/env bash
# Runs every Fuzz target in the module for $1 (default 30s) each.
# go test -fuzz takes one target in one package at a time, so list them first:
# `go test -list` prints a package's matching names, then its "ok <pkg>" line.
set -euo pipefail
fuzztime="${1:-30s}"
cd "$(dirname "$0")/.."

targets=()
names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg="$(awk '{print $2}' <<<"$line")"
		for name in "${names[@]+"${names[@]}"}"; do targets+=("$pkg $name"); done
		names=()
		;;
	*) names=() ;;
	esac
done < <(go test -list '^Fuzz' ./...)

for t in "${targets[@]+"${targets[@]}"}"; do
	read -r pkg name <<<"$t"
	echo "fuzz: $pkg $name for $fuzztime"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done
echo "fuzz: ran ${#targets[@]} targets"
