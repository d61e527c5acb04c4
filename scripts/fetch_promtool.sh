#!/usr/bin/env bash
# Best effort: put Prometheus' promtool at .venv/tools/promtool, for the test that runs
# `promtool check metrics` on the server's /metrics. Takes it from Debian's `prometheus` package
# (apt-get download + dpkg-deb -x: no root, nothing installed system-wide). Where that is not possible
# (no apt, no network) it says so and exits 0: the test then skips with the reason printed.
set -uo pipefail
cd "$(dirname "$0")/.."
dest=.venv/tools
if command -v promtool >/dev/null 2>&1 || [ -x "$dest/promtool" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "fetch_promtool: no apt-get/dpkg-deb here; the promtool test will skip" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1) && dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"; then
  mkdir -p "$dest" && cp "$tmp/x/usr/bin/promtool" "$dest/promtool"
  "$dest/promtool" --version 2>&1 | head -1 >&2
else
  echo "fetch_promtool: could not download Debian's prometheus package; the promtool test will skip" >&2
fi
exit 0
