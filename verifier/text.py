"""A caller's value in an error message: cut, never echoed whole, and never raising.

Error messages name the field and show what was wrong with it, but a hostile request can carry an
integer of thousands of digits or a string of megabytes. ``quote`` shows a value as the CometBFT parser's
messages do (its repr, about 40 characters, ``1234567890...(4301 digits)``; ``str()`` of an int beyond
Python's digit limit would raise); ``cut`` shows it as plain text of about 64 characters (the request
fields' messages); ``cut_message`` bounds a whole message before it goes back to the caller.
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["cut", "cut_message", "digits", "quote"]

_MAX_CHARS = 40  # a value longer than this is cut
_HEAD = 10  # digits kept of a cut integer
_HEAD_CHARS = 24  # characters kept of a cut string
_LOG10_2 = 0.30103
# ``cut``: a value to about this many characters; ``cut_message``: a message to _MESSAGE_CHARS, and any
# run of more than _DIGITS_KEPT digits in it to its first _DIGITS_KEPT.
_VALUE_CHARS = 64
_MESSAGE_CHARS = 2048
_DIGITS_KEPT = 24
_LONG_DIGITS = re.compile(r"\d{" + str(_DIGITS_KEPT + 1) + ",}")


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


def cut(value: object, limit: int = _VALUE_CHARS) -> str:
    """``value`` as text of about ``limit`` characters at most: a longer one keeps its head and says how
    long it was (an integer too long to print says how many bits it has)."""
    if isinstance(value, int) and value.bit_length() > 4 * limit:  # str() of a huge int is slow, or raises
        return f"an integer of {value.bit_length()} bits"
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def cut_message(message: str) -> str:
    """An error message as it may go back to the caller: long digit runs and the whole cut."""
    message = _LONG_DIGITS.sub(lambda m: f"{m[0][:_DIGITS_KEPT]}...({len(m[0])} digits)", message)
    return cut(message, _MESSAGE_CHARS)
