"""Optional numba compilation of hot loops: each kernel is written once and runs with or without it.

numba is not a dependency of neuro (the plugins' ``fast`` extra installs it). Kernels are written in
the numba-compatible subset of Python (loops and numpy array operations) and decorated with
:func:`maybe_njit`: compiled when numba imports, the same function run as plain Python otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast, overload

F = TypeVar("F", bound=Callable[..., Any])

numba: Any
try:
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None
    HAVE_NUMBA = False


ErrorModel = Literal["python", "numpy"]


@overload
def maybe_njit(function: F, *, error_model: ErrorModel = "python") -> F: ...


@overload
def maybe_njit(function: None = None, *, error_model: ErrorModel = "python") -> Callable[[F], F]: ...


def maybe_njit(function: F | None = None, *, error_model: ErrorModel = "python") -> F | Callable[[F], F]:
    """``numba.njit(cache=True, nogil=True)`` of ``function`` if numba imports, else ``function`` unchanged.

    Use bare (``@maybe_njit``) or with options (``@maybe_njit(error_model="numpy")``).
    ``error_model="numpy"`` makes a float division by zero give inf instead of raising, which removes
    a branch per division and lets LLVM vectorise element loops; keep the default ``"python"`` for
    integer kernels, where a division by zero must not pass silently.
    """

    def decorate(func: F) -> F:
        if numba is None:
            return func
        return cast(F, numba.njit(cache=True, nogil=True, error_model=error_model)(func))

    return decorate if function is None else decorate(function)
