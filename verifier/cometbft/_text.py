"""A caller's value as an error message quotes it: cut to about 40 characters, never echoed whole.

Error messages name the field and show what was wrong with it, but a hostile request can carry an
integer of thousands of digits or a string of megabytes; ``quote`` keeps the message short
(``1234567890...(4301 digits)``) and never raises (``str()`` of an int beyond Python's digit limit would).
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["quote", "digits"]

_MAX_CHARS = 40  # a value longer than this is cut
_HEAD = 10  # digits kept of a cut integer
_HEAD_CHARS = 24  # characters kept of a cut string
_LOG10_2 = 0.30103


def quote(value: object) -> str:
    """``value`` for an error message: an int in decimal, a str or bytes as its repr, a Fraction as
    ``num/den``; at most about 40 characters, with the full size said when cut."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return _integer(value)
    if isinstance(value, Fraction):
        return f"{_integer(value.numerator)}/{_integer(value.denominator)}"
    if isinstance(value, (str, bytes, bytearray)):
        if len(value) <= _MAX_CHARS:
            return repr(value)
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{value[:_HEAD_CHARS]!r}...({len(value)} {unit})"
    if isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    return text if len(text) <= _MAX_CHARS else f"{text[:_HEAD_CHARS]}...({len(text)} characters)"


def digits(text: str) -> str:
    """A decimal string (optionally signed), cut as ``quote`` cuts an integer."""
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-")
    if len(text) <= _MAX_CHARS:
        return text
    return f"{sign}{body[:_HEAD]}...({len(body)} digits)"


def _integer(value: int) -> str:
    try:
        text = str(value)
    except ValueError:  # beyond sys.get_int_max_str_digits(): no decimal form to cut
        sign = "-" if value < 0 else ""
        return f"{sign}<an integer of about {int(abs(value).bit_length() * _LOG10_2) + 1} digits>"
    return digits(text)
