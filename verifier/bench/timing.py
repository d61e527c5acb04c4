"""Timing: warm-up excluded, several repetitions, median and spread; a progress bar on stderr."""

from __future__ import annotations

import dataclasses
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

import numpy as np

__all__ = ["Progress", "Sample", "VerdictMismatchError", "measure", "measure_concurrent"]


class VerdictMismatchError(RuntimeError):
    """A backend or peer counted other verdicts than the items hold: its figures would be meaningless."""


@dataclasses.dataclass
class Sample:
    """Items/s of each repetition and the latency of each call (one call verifies one batch)."""

    rates: list[float]
    latencies: list[float]
    calls: int
    valid: int  # items the calls found valid (every call found the same number)

    def summary(self) -> dict[str, float | int]:
        rates = sorted(self.rates)
        q1, q3 = (
            statistics.quantiles(rates, n=4, method="inclusive")[::2] if len(rates) > 1 else (rates[0],) * 2
        )
        out: dict[str, float | int] = {
            "items_per_second": statistics.median(rates),
            "items_per_second_min": rates[0],
            "items_per_second_max": rates[-1],
            "items_per_second_q1": q1,
            "items_per_second_q3": q3,
            "repetitions": len(rates),
            "calls": self.calls,
        }
        if self.latencies:
            lat = np.asarray(self.latencies) * 1e3
            out["latency_p50_ms"] = float(np.percentile(lat, 50))
            out["latency_p99_ms"] = float(np.percentile(lat, 99))
        return out


def _check(got: int, want: int, what: str) -> None:
    if got != want:
        raise VerdictMismatchError(f"{what}: {got} items valid, the workload holds {want} valid items")


def measure(
    call: Callable[[], int],
    items: int,
    expected_valid: int,
    *,
    what: str,
    warmup: int = 1,
    repeats: int = 5,
    min_time: float = 0.2,
) -> Sample:
    """Time ``call`` (which verifies ``items`` items and returns how many were valid).

    ``warmup`` calls first, not timed. Then ``repeats`` repetitions, each calling until ``min_time``
    seconds have passed (at least once): a repetition's rate is items x calls / elapsed, and each call's
    duration is one latency sample.
    """
    for _ in range(warmup):
        _check(call(), expected_valid, what)
    rates: list[float] = []
    latencies: list[float] = []
    calls = 0
    valid = -1
    for _ in range(max(1, repeats)):
        done = 0
        start = time.perf_counter()
        now = start
        while done == 0 or now - start < min_time:
            t = time.perf_counter()
            valid = call()
            now = time.perf_counter()
            latencies.append(now - t)
            _check(valid, expected_valid, what)
            done += 1
        rates.append(items * done / (now - start))
        calls += done
    return Sample(rates, latencies, calls, valid)


def measure_concurrent(
    calls: list[Callable[[], int]],
    items: int,
    expected_valid: int,
    *,
    what: str,
    warmup: int = 1,
    repeats: int = 5,
    min_time: float = 0.2,
) -> Sample:
    """Like ``measure`` with one thread per entry of ``calls`` (one client each), all running at once.

    A repetition starts every thread together; each calls until ``min_time`` has passed (at least once);
    the rate is all items verified over the time until the last thread finished.
    """
    warm = [_Worker(c, expected_valid, what, calls=warmup) for c in calls]
    _run_together(warm)
    rates: list[float] = []
    latencies: list[float] = []
    total_calls = 0
    valid = -1
    for _ in range(max(1, repeats)):
        workers = [_Worker(c, expected_valid, what, min_time=min_time) for c in calls]
        elapsed = _run_together(workers)
        done = sum(len(wk.latencies) for wk in workers)
        rates.append(items * done / elapsed)
        latencies.extend(x for wk in workers for x in wk.latencies)
        total_calls += done
        valid = workers[-1].valid
    return Sample(rates, latencies, total_calls, valid)


class _Worker:
    """One client thread's loop: ``calls`` calls, or calls until ``min_time`` has passed (at least one)."""

    def __init__(
        self,
        call: Callable[[], int],
        expected_valid: int,
        what: str,
        *,
        calls: int = 0,
        min_time: float | None = None,
    ) -> None:
        self.call, self.expected_valid, self.what = call, expected_valid, what
        self.calls, self.min_time = calls, min_time
        self.latencies: list[float] = []
        self.valid = -1
        self.error: BaseException | None = None

    def run(self, barrier: threading.Barrier) -> None:
        barrier.wait()
        begin = time.perf_counter()
        try:
            while (
                len(self.latencies) < self.calls
                if self.min_time is None
                else not self.latencies or time.perf_counter() - begin < self.min_time
            ):
                t = time.perf_counter()
                self.valid = self.call()
                self.latencies.append(time.perf_counter() - t)
                _check(self.valid, self.expected_valid, self.what)
        except BaseException as exc:  # noqa: BLE001  re-raised on the calling thread
            self.error = exc


def _run_together(workers: list[_Worker]) -> float:
    """Start every worker on its own thread at once; seconds until the last one finished."""
    barrier = threading.Barrier(len(workers) + 1)
    threads = [threading.Thread(target=wk.run, args=(barrier,), daemon=True) for wk in workers]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for wk in workers:
        if wk.error is not None:
            raise wk.error
    return elapsed


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal, every tenth elsewhere)."""

    def __init__(
        self, total: int, *, stream: TextIO | None = None, width: int = 30, enabled: bool = True
    ) -> None:
        self.total = max(1, total)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self._last_decile = -1

    def _line(self, label: str) -> str:
        frac = min(1.0, self.done / self.total)
        filled = round(frac * self.width)
        elapsed = time.perf_counter() - self.start
        return f"bench [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {elapsed:5.0f}s {label}"

    def step(self, label: str) -> None:
        """Call before each measurement with what it measures; the bar counts finished ones."""
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r\033[K" + self._line(label)[:160])
            self.stream.flush()
        else:
            decile = 10 * self.done // self.total
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(self._line(label) + "\n")
                self.stream.flush()

    def advance(self) -> None:
        self.done += 1

    def close(self) -> None:
        if not self.enabled:
            return
        self.done = min(self.done, self.total)
        if self.tty:
            self.stream.write("\r\033[K" + self._line("done") + "\n")
        else:
            self.stream.write(self._line("done") + "\n")
        self.stream.flush()
