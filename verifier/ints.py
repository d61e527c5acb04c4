"""Integer ranges of the wire formats: protobuf's and Go's int64 and uint64 (CometBFT's heights, powers,
timestamps; the settings' upper bound)."""

from __future__ import annotations

__all__ = ["INT64_MAX", "INT64_MIN", "UINT64_MAX"]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
