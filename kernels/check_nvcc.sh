#!/usr/bin/env bash
# CI compile check: every entry kernel (kernels/*.cu) and GPU test shim (tests/kernels/*_kernel.cu) built
# with nvcc for sm_80 and sm_90, failing on any error; prints registers, spills, stack and shared memory
# per kernel (ptxas -v). Exits 0 with "nvcc not found, skipping" where there is no nvcc.
# Usage: kernels/check_nvcc.sh [arch ...]   (default: 80 90); NVCC=/path/to/nvcc to pick one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
nvcc="${NVCC:-$(command -v nvcc || true)}"
if [[ -z "$nvcc" ]]; then
  echo "check_nvcc: nvcc not found, skipping"
  exit 0
fi
archs=("$@")
[[ ${#archs[@]} -gt 0 ]] || archs=(80 90)

shopt -s nullglob
sources=("$here"/*.cu "$root"/tests/kernels/*_kernel.cu)
[[ ${#sources[@]} -gt 0 ]] || { echo "check_nvcc: no .cu entry files under $here"; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "check_nvcc: $("$nvcc" --version | tail -1)"

jobs_max="$(nproc 2>/dev/null || echo 2)"
pids=()
logs=()
for src in "${sources[@]}"; do
  for arch in "${archs[@]}"; do
    log="$tmp/$(basename "$src" .cu).sm_$arch.log"
    logs+=("$log")
    ( set +e; "$nvcc" -arch="sm_$arch" -std=c++17 -I"$here" --cubin -Xptxas -v -o "$tmp/$(basename "$src" .cu).sm_$arch.cubin" \
        "$src" >"$log" 2>&1; echo $? >"$log.rc" ) &
    pids+=($!)
    while [[ $(jobs -rp | wc -l) -ge $jobs_max ]]; do sleep 1; done
  done
done
wait

status=0
for log in "${logs[@]}"; do
  name="$(basename "$log" .log)"
  rc="$(cat "$log.rc")"
  if [[ "$rc" != 0 ]]; then
    echo "check_nvcc: FAILED $name (exit $rc)"
    sed 's/^/    /' "$log"
    status=1
    continue
  fi
  # ptxas -v: "Compiling entry function 'k' for 'sm_90'", then "N bytes stack frame, S bytes spill stores,
  # L bytes spill loads" and "Used R registers, ... bytes smem".
  awk -v unit="$name" '
    /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); fn = substr($0, RSTART + 1, RLENGTH - 2) }
    /bytes stack frame/ { stack = $1; stores = $5; loads = $9 }
    /Used [0-9]+ registers/ {
      regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
      smem = "0"; if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
      printf "check_nvcc: %-28s %-30s %3s registers, %4s B spill stores, %4s B spill loads, %5s B stack, %6s B smem\n", unit, fn, regs, stores, loads, stack, smem
    }' "$log"
  if grep -iE "warning" "$log" >/dev/null; then
    echo "check_nvcc: warnings in $name:"
    grep -iE "warning" "$log" | sed 's/^/    /'
  fi
done
exit $status
