#!/usr/bin/env bash
# The whole first GPU run in ONE command of at most 7 minutes (an H100/H200 with 16 cores, CuPy and nvcc
# preinstalled, no network; wheels it lacks carried as .whl/ from scripts/gpu_wheels.sh). Stages, in
# order, each under its own timeout and the overall budget, each merging what it measured into the
# results file before the next starts (so a kill keeps it):
#   1 env       GPU, driver, clocks, CuPy, NVRTC; every build-time variant and each ECDSA curve's module
#               compiled once, in parallel, timed
#   2 correct   Ed25519 differential suite on the device against the CPU reference, both policies, >= 1M
#               items with planted faults, reason by reason; Merkle suite; PTX primitives against their
#               portable twins; the key store (pytest -m gpu; JUnit XML kept)
#   3 ecdsa     ECDSA kernel-only throughput, both curves, batches 64k and 1M
#   4 kernel    Ed25519 kernel-only throughput (CUDA events after warm-up), batch 1M, messages 32 and 128 B, blocks
#               128 and 256, for each variant; Merkle depths 8, 20, 32; the IMAD / IMAD.HI / IADD3.X /
#               IMAD.WIDE micro-benchmark
#   5 engine    engine scope (copies included) and a short gRPC load
#   6 ncu       if time is left and ncu is there: one launch, SpeedOfLight, Occupancy, WarpStateStats,
#               InstructionStats (--clock-control none)
# Everything printed goes through tee into $OUT/log.txt. $OUT (default ./gpu-out) holds at most 8 files:
# log.txt, gpu-check-<device>.json (the benchmarks/results form: device, commit, date, results), pytest.xml,
# ncu.txt. Copy the JSON into benchmarks/results/ and commit it (README: GPU runbook).
#
#   bash scripts/gpu_check.sh            # on the GPU machine
#   bash scripts/gpu_check.sh --dry-run  # here and in CI: every stage against backend emu, tiny sizes
# Exit status: 0 when every stage that ran succeeded (a skipped stage is not a failure), 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dry=0
[[ "${1:-}" == "--dry-run" ]] && dry=1
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
log=$out/log.txt
: >"$log"
parts=$(mktemp -d /tmp/gpu-check-parts.XXXXXX)
budget=${GPU_CHECK_BUDGET_S:-420}
t0=$SECONDS
py=${PYTHON:-python3}
[[ -x .venv/bin/python && $dry == 1 ]] && py=.venv/bin/python

if [[ $dry == 0 && -d .whl && ! -e /tmp/verifier-deps/.installed ]]; then
  "$py" -m pip install -q --no-index --target /tmp/verifier-deps --no-deps .whl/*.whl 2>&1 \
    | grep -v "as the 'root' user" || true
  touch /tmp/verifier-deps/.installed
fi
[[ $dry == 0 ]] && export PYTHONPATH=/tmp/verifier-deps:$root VERIFIER_CACHE_DIR=/tmp/verifier-cache
export VERIFIER_RESULTS_DIR=$parts
# CuPy caches each compiled module by source, options and architecture: stage 1 fills it for every
# variant, the later stages load from it.
export CUPY_CACHE_DIR=${CUPY_CACHE_DIR:-/tmp/verifier-cache/cupy}

if [[ $dry == 1 ]]; then
  backend=emu; items=2000; kbatch=256; mbatch=2000; tests=(tests/backends/test_ed25519.py
    tests/backends/test_merkle.py tests/backends/test_emu_ed25519.py tests/backends/test_emu_merkle.py
    tests/backends/test_ecdsa.py tests/kernels/test_arith_ptx_sim.py -m "not gpu" -k "emu or arith")
else
  backend=cuda; items=1048576; kbatch=1048576; mbatch=1048576; tests=(-m gpu)
fi

say() { echo "$@" | tee -a "$log"; }
left() { echo $(( budget - (SECONDS - t0) )); }
# stage NAME CAP_SECONDS COMMAND...: run under min(cap, time left - 5 s), output through tee.
stage() {
  local name=$1 cap=$2; shift 2
  local limit=$(( $(left) - 5 )); (( limit > cap )) && limit=$cap
  if (( limit < 10 )); then say "== $name: skipped, $(left) s left of $budget"; return 0; fi
  say "== $name (limit ${limit} s, $(( SECONDS - t0 )) s in)"
  timeout --kill-after=5 "$limit" "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  (( rc == 124 || rc == 137 )) && say "== $name: TIMED OUT after ${limit} s"
  (( rc != 0 && rc != 124 && rc != 137 )) && say "== $name: exit $rc"
  (( rc != 0 )) && failed+=("$name")
  return 0
}
failed=()
stages_done=()
merge() {
  stages_done+=("$1")
  "$py" benchmarks/gpu_check.py merge "$parts" "$out/gpu-check-$backend.json" --stages "${stages_done[@]}" 2>&1 \
    | tee -a "$log"
}

say "== gpu_check $([[ $dry == 1 ]] && echo '--dry-run ')$(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), budget ${budget} s"

stage env 20 "$py" benchmarks/gpu_check.py env --backend "$backend"
stage compile 150 "$py" benchmarks/gpu_check.py compile --backend "$backend"
merge env

stage correct 150 env VERIFIER_ED25519_ITEMS=$items "$py" -m pytest -q -p no:cacheprovider -x \
  --junitxml "$out/pytest.xml" "${tests[@]}"
merge correct

# ECDSA first among the throughput stages: its figures are the ones no run has yet (issue 15). Its
# modules were built by the compile stage, so this loads them from CuPy's cache.
mkdir -p "$parts/ecdsa"
if [[ $dry == 1 ]]; then ecdsa=(--backends emu --scopes engine --batches 64); else
  ecdsa=(--backends cuda --scopes kernel --cuda-batches 65536 1048576 --repeats 3); fi
stage "ecdsa kernel" 90 "$py" -m verifier bench --kinds ecdsa-secp256k1 ecdsa-p256 "${ecdsa[@]}" --quick --no-plots \
  --no-progress --out "$parts/ecdsa" --crossover-out "$parts/ecdsa/crossover.json.txt"
merge ecdsa

if [[ $dry == 1 ]]; then variants=(ptx); else variants=(ptx wide ptx-loop wide-loop); fi
for v in "${variants[@]}"; do
  arith=${v%-loop}; loop=0; [[ $v == *-loop ]] && loop=1
  mkdir -p "$parts/kernel-$v"
  stage "kernel $v" 60 env VERIFIER_CUDA_ARITH="$arith" VERIFIER_CUDA_DBL_LOOP=$loop \
    VERIFIER_RESULTS_DIR="$parts/kernel-$v" "$py" benchmarks/bench_ed25519_kernel.py --backend "$backend" \
    --batch "$kbatch" --message-bytes 32 128 $([[ $dry == 0 ]] && echo "--block-dim 128 256 --repeat 5")
  merge "kernel-$v"
done
for depth in 8 20 32; do
  mkdir -p "$parts/merkle-$depth"
  stage "merkle depth $depth" 40 env VERIFIER_RESULTS_DIR="$parts/merkle-$depth" "$py" benchmarks/bench_merkle_kernel.py \
    --depth "$depth" --batches "$mbatch" $([[ $dry == 1 ]] && echo "--emu" || echo "--blocks 128 256 --reps 5")
done
stage imad 30 "$py" benchmarks/gpu_check.py imad
merge kernel

stage engine 60 "$py" -m verifier bench --backends "$backend" --scopes engine grpc --quick --no-plots --no-progress \
  --out "$parts/suite" --crossover-out "$parts/suite/crossover.json.txt"
stage grpc 30 "$py" benchmarks/loadgen.py --backend "$backend" --clients 4 --seconds $([[ $dry == 1 ]] && echo 2 || echo 10) \
  --batch-sizes $([[ $dry == 1 ]] && echo 64 || echo 1024,16384)
merge engine

if command -v ncu >/dev/null && [[ $dry == 0 ]]; then
  stage ncu 90 sh -c "ncu --clock-control none --launch-count 1 --kernel-name ed25519_verify_kernel \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section InstructionStats \
    $py benchmarks/bench_ed25519_kernel.py --batch 262144 --message-bytes 64 --repeat 1 --no-save >'$out/ncu.txt' 2>&1; \
    tail -40 '$out/ncu.txt'"
else
  say "== ncu: skipped ($([[ $dry == 1 ]] && echo 'dry run' || echo 'ncu not found'))"
  [[ $dry == 1 ]] && echo "ncu: not run in the dry run" >"$out/ncu.txt"
fi
merge ncu

rm -rf "$parts"
say "== done in $(( SECONDS - t0 )) s; failed: ${failed[*]:-none}; files in $out:"
find "$out" -maxdepth 1 -type f | sort | tee -a "$log"
[[ ${#failed[@]} == 0 ]]
