#!/usr/bin/env bash
# CI compile check: every entry kernel (kernels/*.cu) and GPU test shim (tests/kernels/*_kernel.cu) built
# with nvcc for sm_80 and sm_90, failing on any error; prints registers, spills, stack, shared memory
# (ptxas -v) and SASS size (instructions: the kernel's .text bytes / 16) per kernel. The Ed25519 entry is
# built in every build-time variant of kernels/common/arith.cuh (ptx: PTX carry-chain products; wide:
# 64-bit products; -loop: the main loop's doublings not unrolled, built for the last architecture only);
# the others in the default one.
# Exits 0 with "nvcc not found, skipping" where there is no nvcc.
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
# Entry files for the GPU; kernels/host/ holds host-only ones (std::vector, 128-bit products), not built here.
sources=("$here"/*.cu "$root"/tests/kernels/*_kernel.cu)
[[ ${#sources[@]} -gt 0 ]] || { echo "check_nvcc: no .cu entry files under $here"; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "check_nvcc: $("$nvcc" --version | tail -1)"

# name=defines; the first is the default (verifier/backends/cuda/_module.py DEFAULT_ARITH, DEFAULT_DBL_LOOP).
variants=("wide=-DVERIFIER_ARITH_MUL=2 -DVERIFIER_DBL_LOOP=0"
          "ptx=-DVERIFIER_ARITH_MUL=1 -DVERIFIER_DBL_LOOP=0"
          "ptx-loop=-DVERIFIER_ARITH_MUL=1 -DVERIFIER_DBL_LOOP=1"
          "wide-loop=-DVERIFIER_ARITH_MUL=2 -DVERIFIER_DBL_LOOP=1")

jobs_max="$(nproc 2>/dev/null || echo 2)"
logs=()
for src in "${sources[@]}"; do
  mine=("${variants[0]}")
  [[ "$(basename "$src")" == ed25519_verify.cu ]] && mine=("${variants[@]}")
  for variant in "${mine[@]}"; do
    vname="${variant%%=*}"
    read -r -a defs <<<"${variant#*=}"
    my_archs=("${archs[@]}")
    [[ $vname == *-loop ]] && my_archs=("${archs[-1]}")  # the loop variants: the newest architecture only
    for arch in "${my_archs[@]}"; do
      unit="$(basename "$src" .cu).$vname.sm_$arch"
      log="$tmp/$unit.log"
      logs+=("$log")
      ( set +e; "$nvcc" -arch="sm_$arch" -std=c++17 -I"$here" "${defs[@]}" --cubin -Xptxas -v -o "$tmp/$unit.cubin" \
          "$src" >"$log" 2>&1; echo $? >"$log.rc" ) &
      while [[ $(jobs -rp | wc -l) -ge $jobs_max ]]; do sleep 1; done
    done
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
    function hex(s,   i, v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); fn = substr($0, RSTART + 1, RLENGTH - 2) }
    /bytes stack frame/ { stack = $1; stores = $5; loads = $9 }
    /Used [0-9]+ registers/ {
      regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
      smem = "0"; if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
      sass = "?"
      cmd = "readelf -S -W \"" cubin "\" 2>/dev/null"
      while ((cmd | getline line) > 0) {
        if (index(line, ".text." fn " ")) { split(substr(line, index(line, ".text." fn " ")), f, " "); sass = sprintf("%d", hex(f[5]) / 16) }
      }
      close(cmd)
      printf "check_nvcc: %-34s %-28s %3s registers, %4s B spill stores, %4s B spill loads, %5s B stack, %6s B smem, %6s SASS\n", unit, fn, regs, stores, loads, stack, smem, sass
    }' cubin="${log%.log}.cubin" "$log"
  if grep -iE "warning" "$log" >/dev/null; then
    echo "check_nvcc: warnings in $name:"
    grep -iE "warning" "$log" | sed 's/^/    /'
  fi
done
# The bar for the default variant: the Ed25519 kernel on sm_90 spills nothing.
default="${variants[0]%%=*}"
for log in "${logs[@]}"; do
  [[ "$(basename "$log")" == "ed25519_verify.$default.sm_90.log" ]] || continue
  if grep -A2 "Compiling entry function 'ed25519_verify_kernel'" "$log" | grep -qE " [1-9][0-9]* bytes spill stores"; then
    echo "check_nvcc: FAILED the default variant ($default) spills on sm_90"
    status=1
  fi
done
exit $status
