"""Who goes first: the priority classes a request carries (wire: verifier.v1.Priority), shared by the
scheduler, the request conversion and admission without either importing the other."""

from __future__ import annotations

import enum

__all__ = ["Priority"]


class Priority(enum.IntEnum):
    BULK = 1
    CONSENSUS = 2  # quorum certificates: ahead of bulk in every queue, with slots of their own
