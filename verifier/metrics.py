"""Every Prometheus metric of the service, in one place. Callers only record.

Names follow prometheus.io/docs/practices/naming: a ``verifier_`` prefix, ``_total`` counters (the
suffix is added by prometheus-client), ``_seconds`` histograms, base units; labels stay low-cardinality.
The registry is injectable so that tests (and several servers in one process) do not collide.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from verifier.verdict import Verdict

__all__ = ["Metrics"]

# Request latency buckets: 100 us to 30 s (a single signature on the CPU up to a 1M-item batch).
_DURATION_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
# Queue wait and device compute: 10 us to 10 s.
_WAIT_BUCKETS = (
    1e-5,
    5e-5,
    1e-4,
    2.5e-4,
    5e-4,
    1e-3,
    2.5e-3,
    5e-3,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
# Device batch sizes: powers of four from 1 to 2^20 items.
_BATCH_BUCKETS = tuple(float(4**i) for i in range(11))
_VERDICT_NAMES = {int(v): v.name.lower() for v in Verdict}


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "verifier_requests",
            "gRPC calls answered (every service; a stream once, when it ends), by service, method and status code.",
            ["grpc_service", "grpc_method", "grpc_code"],
            registry=r,
        )
        self.request_duration = Histogram(
            "verifier_request_duration_seconds",
            "Time from receiving a gRPC request to answering it.",
            ["grpc_service", "grpc_method"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.items = Counter(
            "verifier_items",
            "Items verified (signatures or proofs), by scheme, backend and verdict.",
            ["scheme", "backend", "verdict"],
            registry=r,
        )
        self.fallbacks = Counter(
            "verifier_fallbacks",
            "Batches re-run on another backend after the first one failed.",
            ["scheme", "from_backend", "to_backend"],
            registry=r,
        )
        self.backend_info = Gauge(
            "verifier_backend_info",
            "The active backend (value 1 on its label set).",
            ["backend"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "verifier_queue_depth_items", "Items waiting in the scheduler's queues.", registry=r
        )
        self.queue_wait = Histogram(
            "verifier_queue_wait_seconds",
            "Time an item's request waited in the queue before its device batch started.",
            ["scheme"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.batch_items = Histogram(
            "verifier_batch_items",
            "Items per device batch after merging callers.",
            ["scheme"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.compute_seconds = Histogram(
            "verifier_compute_seconds",
            "Time one device batch took on its backend, copies included.",
            ["scheme", "backend"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.backend_healthy = Gauge(
            "verifier_backend_healthy",
            "1 while the backend takes work, 0 while it is out after a failure (work goes to the CPU).",
            ["backend"],
            registry=r,
        )
        self.device_healthy = Gauge(
            "verifier_device_healthy",
            "Per device of a multi-device backend (--devices): 1 while it takes work, 0 while it is out after a failure.",
            ["backend", "device"],
            registry=r,
        )
        self.device_items = Counter(
            "verifier_device_items",
            "Items run per device of a multi-device backend (--devices).",
            ["backend", "device"],
            registry=r,
        )
        self.crossover_batch = Gauge(
            "verifier_crossover_batch_items",
            "Device batches smaller than this run on the CPU (0: no routing), by scheme and policy.",
            ["scheme", "policy"],
            registry=r,
        )
        self.config = Info("verifier_config", "The scheduler's configured knobs.", registry=r)
        self.device_memory_used = Gauge(
            "verifier_device_memory_used_bytes",
            "Device (GPU) memory the active backend holds, read at scrape time (0 on the CPU backends).",
            registry=r,
        )
        self.device_memory_total = Gauge(
            "verifier_device_memory_total_bytes",
            "Memory of the active backend's device (0 on the CPU backends).",
            registry=r,
        )
        self.commits = Counter(
            "verifier_commits",
            "CometBFT commits answered, by mode and result (valid, or the first error's code).",
            ["mode", "result"],
            registry=r,
        )
        self.items_dropped = Counter(
            "verifier_items_dropped",
            "Items dropped unverified because their caller cancelled (cancelled), its deadline passed "
            "(deadline), the measured rate said it could not be met (deadline_unmeetable), or a unit of the "
            "request failed (failed).",
            ["scheme", "reason"],
            registry=r,
        )
        self.items_unclaimed = Counter(
            "verifier_items_unclaimed",
            "Items verified whose caller had left (cancelled, deadline passed) by the time their unit finished: "
            "the unit started before the caller left (before_caller_left; at most the units in flight), or "
            "after (after_caller_left; the scheduler never starts such a unit, so this stays 0).",
            ["scheme", "started"],
            registry=r,
        )
        self.validator_sets = Gauge(
            "verifier_validator_sets",
            "Validator sets registered (RegisterValidatorSet) and held.",
            registry=r,
        )
        self.requests_in_flight = Gauge(
            "verifier_requests_in_flight",
            "gRPC calls accepted and not yet answered (a stream counts until it ends), by service and method.",
            ["grpc_service", "grpc_method"],
            registry=r,
        )
        self.stream_messages = Counter(
            "verifier_stream_messages",
            "Messages of streaming gRPC calls (VerifyStream, health Watch, reflection), by service, method and "
            "direction (received from the caller, sent to it); the call itself is in verifier_requests_total "
            "when it ends.",
            ["grpc_service", "grpc_method", "direction"],
            registry=r,
        )
        self.inflight_bytes = Gauge(
            "verifier_inflight_request_bytes",
            "Wire bytes of requests accepted and not yet answered (the --max-inflight-bytes budget in use).",
            registry=r,
        )
        self.requests_refused = Counter(
            "verifier_requests_refused",
            "Requests (or stream batches) refused before they were decoded, by method and reason: commit_bytes "
            "(over --max-commit-bytes), inflight_bytes (the in-flight budget), commit_lane (too many big commits "
            "waiting), permission (consensus priority or RegisterValidatorSet not allowed for the caller).",
            ["grpc_method", "reason"],
            registry=r,
        )
        self.malformed_requests = Counter(
            "verifier_malformed_requests",
            "Requests (or stream batches) whose bytes are not the method's protobuf message (INVALID_ARGUMENT).",
            ["grpc_method"],
            registry=r,
        )
        self.priority_demoted = Counter(
            "verifier_priority_demoted",
            "Requests whose default consensus priority was demoted to bulk: the caller may not claim consensus.",
            ["grpc_method"],
            registry=r,
        )

    def observe_request(self, service: str, method: str, code: str, seconds: float) -> None:
        self.requests.labels(service, method, code).inc()
        self.request_duration.labels(service, method).observe(seconds)

    def observe_verdicts(self, scheme: str, backend: str, verdicts: npt.NDArray[np.uint8]) -> None:
        counts = np.bincount(verdicts, minlength=len(_VERDICT_NAMES))
        for code in np.flatnonzero(counts):
            name = _VERDICT_NAMES.get(int(code), f"code_{int(code)}")
            self.items.labels(scheme, backend, name).inc(int(counts[code]))

    def observe_fallback(self, scheme: str, from_backend: str, to_backend: str) -> None:
        self.fallbacks.labels(scheme, from_backend, to_backend).inc()

    def set_backend(self, backend: str) -> None:
        self.backend_info.clear()
        self.backend_info.labels(backend).set(1)
        self.backend_healthy.labels(backend).set(1)

    def set_health(self, backend: str, healthy: bool) -> None:
        self.backend_healthy.labels(backend).set(1 if healthy else 0)

    def set_devices(self, backend: str, devices: list[str]) -> None:
        for d in devices:
            self.device_healthy.labels(backend, d).set(1)
            self.device_items.labels(backend, d)

    def set_device_health(self, backend: str, device: str, healthy: bool) -> None:
        self.device_healthy.labels(backend, device).set(1 if healthy else 0)

    def observe_device_items(self, backend: str, device: str, items: int) -> None:
        self.device_items.labels(backend, device).inc(items)

    def watch_device_memory(self, used: Callable[[], int], total: int) -> None:
        self.device_memory_used.set_function(used)
        self.device_memory_total.set(total)

    def observe_commit(self, mode: str, error_code: str | None) -> None:
        self.commits.labels(mode, error_code.lower() if error_code else "valid").inc()

    def set_config(self, knobs: dict[str, object], crossovers: dict[tuple[str, str], int]) -> None:
        self.config.info({k: str(v) for k, v in knobs.items()})
        for (scheme, policy), items in crossovers.items():
            self.crossover_batch.labels(scheme, policy or "none").set(items)
