# verifier: gRPC batch verification service. Two targets (docs/DOCKER.md has the details):
#   cuda, the default (last stage): the CUDA runtime base; on a node without a GPU, backend auto uses the CPU
#     docker build -t verifier . && docker run --gpus all -p 50051:50051 -p 9464:9464 verifier
#   cpu: a slim CPU-only image, no CUDA libraries
#     docker build --target cpu -t verifier:cpu . && docker run -p 50051:50051 -p 9464:9464 verifier:cpu
# Both install the exact versions of constraints.txt (scripts/lock writes it from pyproject.toml) with
# Python 3.12, run as uid 10001, and report healthy through `verifier health`, which reads the same
# VERIFIER_* settings as `verifier serve` (port, TLS). Pin the bases by digest for production:
#   --build-arg CPU_BASE=python:3.12-slim-trixie@sha256:... --build-arg CUDA_BASE=nvidia/cuda:...@sha256:...
ARG CPU_BASE=python:3.12-slim-trixie
ARG CUDA_BASE=nvidia/cuda:12.6.3-runtime-ubuntu24.04

# ---------------------------------------------------------------------------------------------- cpu
FROM ${CPU_BASE} AS cpu

# Distribution packages come from the base image's release, not pinned one by one: the archive drops a
# version when its security update lands, so an exact pin would stop the image building.
# g++ builds the host kernels (policy zip215 on the CPU backend, and the emu test backend).
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VERIFIER_BACKEND=cpu \
    VERIFIER_HOST=0.0.0.0 \
    VERIFIER_PORT=50051 \
    VERIFIER_METRICS_HOST=0.0.0.0 \
    VERIFIER_METRICS_PORT=9464 \
    VERIFIER_KERNELS_DIR=/opt/verifier/kernels \
    VERIFIER_CACHE_DIR=/var/cache/verifier

WORKDIR /opt/verifier
COPY constraints.txt pyproject.toml README.md LICENSE ./
COPY verifier ./verifier
COPY protos ./protos
COPY kernels ./kernels
# Every version comes from constraints.txt: pip itself and the build requirements first, so the project
# builds without an isolated environment (whose installs -c would not pin), then the project. The kernels
# are built for the host here, so the backend starts without compiling; the cache stays writable by the
# service (group 0 too, for platforms that run images under an arbitrary uid).
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt pip setuptools wheel \
 && /opt/venv/bin/pip install --no-cache-dir --no-build-isolation -c constraints.txt . \
 && /opt/venv/bin/pip check \
 && groupadd --system --gid 10001 verifier \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin verifier \
 && mkdir -p /var/cache/verifier \
 && /opt/venv/bin/python -c "from verifier.backends import cpu, emu; cpu.CpuBackend(workers=1).close(); emu.EmuBackend(workers=1).close()" \
 && chown -R 10001:0 /var/cache/verifier \
 && chmod -R g=u /var/cache/verifier

ENV PATH=/opt/venv/bin:$PATH
USER 10001:10001
EXPOSE 50051 9464

# Healthy once the backend has warmed up and passed its self-test (grpc.health.v1 SERVING).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["verifier", "health"]

# SIGTERM: health goes NOT_SERVING, accepted requests finish within the grace period (verifier serve
# --grace), then the process exits. Give `docker stop -t` / terminationGracePeriodSeconds a few seconds more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["verifier", "serve"]

# --------------------------------------------------------------------------------------------- cuda
FROM ${CUDA_BASE} AS cuda

# Ubuntu 24.04's python3 is 3.12, the version constraints.txt is resolved for. The runtime image carries
# the CUDA libraries CuPy loads (NVRTC included: kernels compile at startup, not on the first request).
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv g++ \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VERIFIER_HOST=0.0.0.0 \
    VERIFIER_PORT=50051 \
    VERIFIER_METRICS_HOST=0.0.0.0 \
    VERIFIER_METRICS_PORT=9464 \
    VERIFIER_KERNELS_DIR=/opt/verifier/kernels \
    VERIFIER_CACHE_DIR=/var/cache/verifier \
    CUPY_CACHE_DIR=/var/cache/verifier/cupy

WORKDIR /opt/verifier
COPY constraints.txt pyproject.toml README.md LICENSE ./
COPY verifier ./verifier
COPY protos ./protos
COPY kernels ./kernels
# CuPy keeps what NVRTC compiled under CUPY_CACHE_DIR (by default under $HOME, which uid 10001 lacks).
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt pip setuptools wheel \
 && /opt/venv/bin/pip install --no-cache-dir --no-build-isolation -c constraints.txt ".[cuda12]" \
 && /opt/venv/bin/pip check \
 && groupadd --system --gid 10001 verifier \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin verifier \
 && mkdir -p /var/cache/verifier \
 && /opt/venv/bin/python -c "from verifier.backends import cpu, emu; cpu.CpuBackend(workers=1).close(); emu.EmuBackend(workers=1).close()" \
 && chown -R 10001:0 /var/cache/verifier \
 && chmod -R g=u /var/cache/verifier

ENV PATH=/opt/venv/bin:$PATH
USER 10001:10001
EXPOSE 50051 9464

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["verifier", "health"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["verifier", "serve"]
