"""Backend ``cuda``: the kernels of ``kernels/`` on an NVIDIA GPU through CuPy (see backend.py).

Importing this package does not import CuPy; constructing ``CudaBackend`` does, and raises
``BackendUnavailableError`` when CuPy or a usable GPU is missing.
"""

from __future__ import annotations

from verifier.backends.cuda.backend import CudaBackend

__all__ = ["CudaBackend"]
