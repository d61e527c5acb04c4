#!/usr/bin/env bash
# Run HERE (with network) before a GPU session: download into .whl/ (git-ignored) the wheels the GPU
# machine lacks, for its Python (3.12 on this workplace's 'cuda' image; PYVER=3.13 etc. to change).
# The machine has no network: name .whl in the device tool's `carry`, then run scripts/gpu_run.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
pyver=${PYVER:-3.12}
abi="cp${pyver/./}"
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q -d .whl --only-binary=:all: --implementation cp --python-version "$pyver" --abi "$abi" \
  --abi abi3 --abi none --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_34_x86_64 --platform any \
  "grpcio==1.85.1" "grpcio-health-checking==1.85.1" "grpcio-reflection==1.85.1" "grpcio-tools==1.85.1" \
  "protobuf>=7.35.1,<8" "PyNaCl==1.6.2" "cryptography>=42" "cffi" "pycparser" "pytest-timeout>=2.3"
du -sh .whl && ls .whl
