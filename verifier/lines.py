"""Readers for the fields of ``verifier verify``'s JSON lines, shared by every scheme's ``LineFormat``."""

from __future__ import annotations

from typing import Any

from verifier.ints import UINT64_MAX

__all__ = ["LineError", "hex_field", "hex_value", "uint64_field"]


class LineError(ValueError):
    """A JSON line that cannot become an item; its text goes into the output line's ``error``."""


def hex_field(obj: dict[str, Any], field: str, size: int | None = None) -> bytes:
    return hex_value(obj.get(field), field, size)


def hex_value(value: Any, field: str, size: int | None = None) -> bytes:
    """``value`` as bytes; ``size``: the length it must have."""
    if not isinstance(value, str):
        raise LineError(f"{field}: missing or not a hex string")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise LineError(f"{field}: not valid hex") from None
    if size is not None and len(data) != size:
        raise LineError(f"{field}: {len(data)} bytes, expected {size}")
    return data


def uint64_field(obj: dict[str, Any], field: str) -> int:
    value = obj.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= UINT64_MAX:
        raise LineError(f"{field}: missing or not an integer in [0, 2^64)")
    return value
