#!/usr/bin/env bash
# Run ON the GPU machine (device tool, with `carry: [".whl"]` from scripts/gpu_wheels.sh). Installs the
# carried wheels offline with `pip --target` into /tmp/verifier-deps, first on PYTHONPATH, so the image's
# own python3 (itself a venv holding CuPy, numpy, pytest) is used unchanged; then runs one stage.
# Stages, each under the device tool's 10-minute call limit:
#   tests   the GPU tests (pytest -m gpu) and the kernel-only benchmarks (Ed25519, Merkle)
#   suite   verifier bench --backends cpu cuda (all scopes), commits and gRPC load on cuda
# $OUT (default ./gpu-out) gets at most 8 files, as the tool returns: log.txt, results/ (the JSON the
# benchmark scripts wrote in this run) and, for suite, suite/ (JSON, Markdown, 2 PNGs, crossover.json).
# Copy them into benchmarks/results/ here and commit them.
# Usage: bash scripts/gpu_run.sh tests|suite
set -uo pipefail
cd "$(dirname "$0")/.."
stage=${1:?usage: gpu_run.sh tests|suite}
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out/results"
log=$out/log.txt
py=${PYTHON:-python3}
deps=/tmp/verifier-deps
if [ ! -e "$deps/.installed" ]; then
  "$py" -m pip install -q --no-index --target "$deps" --no-deps .whl/*.whl 2>&1 | grep -v "as the 'root' user" \
    || true
  touch "$deps/.installed"
fi
export PYTHONPATH=$deps:$PWD VERIFIER_CACHE_DIR=/tmp/verifier-cache
start=$(mktemp)
{
  echo "== $stage, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$py" -c "import cupy, nacl, grpc; print('cupy', cupy.__version__, 'cuda runtime', cupy.cuda.runtime.runtimeGetVersion(), 'grpc', grpc.__version__)"
} 2>&1 | tee -a "$log"
rc=0
case "$stage" in
  tests)
    timeout 420 "$py" -m pytest -m gpu -q -p no:cacheprovider --timeout 400 2>&1 | tail -60 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    timeout 60 "$py" benchmarks/bench_ed25519_kernel.py 2>&1 | tail -30 | tee -a "$log"
    timeout 60 "$py" benchmarks/bench_merkle_kernel.py 2>&1 | tail -30 | tee -a "$log"
    ;;
  suite)
    timeout 400 "$py" -m verifier bench --backends cpu cuda --threads 1 16 --no-progress --out "$out/suite" \
      --repeats 3 2>&1 | tail -40 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    timeout 90 "$py" benchmarks/bench_commit.py --validators 150 --backends cpu,cuda --grpc --save 2>&1 | tail -20 | tee -a "$log"
    timeout 60 "$py" benchmarks/loadgen.py --backend cuda --clients 8 --seconds 20 --batch-sizes 1024,16384 2>&1 | tail -12 | tee -a "$log"
    ;;
  *) echo "unknown stage $stage"; exit 2 ;;
esac
find benchmarks/results -maxdepth 1 -name '*.json' -newer "$start" -exec cp {} "$out/results/" \;
find "$out" -type f | sort | tee -a "$log"
exit $rc
