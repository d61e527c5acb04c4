# verifier: gRPC batch verification service. CUDA runtime base so the same image runs on a GPU node
# (backend auto takes CUDA through CuPy) or on a CPU-only node (auto falls back to the CPU).
#   docker build -t verifier .
#   docker run --gpus all -p 50051:50051 -p 9464:9464 verifier
FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VERIFIER_HOST=0.0.0.0 \
    VERIFIER_PORT=50051 \
    VERIFIER_METRICS_PORT=9464 \
    VERIFIER_KERNELS_DIR=/opt/verifier/kernels \
    VERIFIER_CACHE_DIR=/var/cache/verifier

# g++ builds the host kernels (policy zip215 on the CPU backend, and the emu test backend); the CUDA path
# compiles with NVRTC, which CuPy's wheel carries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/verifier
COPY pyproject.toml README.md ./
COPY verifier ./verifier
COPY protos ./protos
COPY kernels ./kernels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir ".[cuda12]" \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin verifier \
 && mkdir -p /var/cache/verifier \
 && /opt/venv/bin/python -c "from verifier.backends._native import build_emu_library as b; b('ed25519_verify.cu'); b('merkle_verify.cu')" \
 && chown -R verifier /var/cache/verifier

ENV PATH=/opt/venv/bin:$PATH
USER verifier
EXPOSE 50051 9464

# Healthy only once the backend has warmed up and passed its self-test (grpc.health.v1 SERVING).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import grpc, sys; from grpc_health.v1 import health_pb2 as h, health_pb2_grpc as g; c = grpc.insecure_channel('127.0.0.1:50051'); r = g.HealthStub(c).Check(h.HealthCheckRequest(service='verifier.v1.Verifier'), timeout=4); sys.exit(r.status != h.HealthCheckResponse.SERVING)"]

# SIGTERM drains accepted requests (up to VERIFIER_GRACE_SECONDS, default 30) before exiting.
STOPSIGNAL SIGTERM
ENTRYPOINT ["verifier", "serve"]
