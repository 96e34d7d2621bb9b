"""lumen's errors as Python exceptions.

Every lumen::Error reaches Python as a :class:`LumenError` (a ``ValueError``) or its subclass for
the error's code, with lumen's message, the code's name (``code``) and, for an invalid option, the
option field it is about (``field``, e.g. ``"ReconOptions.iterations"``; docs/errors.md).
"""

from __future__ import annotations

from typing import Optional


class LumenError(ValueError):
    """An error reported by lumen: ``code`` names its kind, ``field`` the option field (or None)."""

    code: str = "internal"

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.field = field


class BadInputError(LumenError):
    """An unreadable or invalid file, dataset, shape or value in the data."""

    code = "bad_input"


class InvalidOptionError(LumenError):
    """An option out of range, inconsistent with another, or an unknown name; ``field`` names it."""

    code = "invalid_option"


class UsageError(LumenError):
    code = "usage"


class NoGpuError(LumenError):
    """CUDA asked for but not built in, or no GPU present."""

    code = "no_gpu"


class ReconstructionError(LumenError):
    """The reconstruction itself failed (diverged, non-finite values)."""

    code = "failure"


class LumenMemoryError(LumenError, MemoryError):
    """A host or device allocation failed."""

    code = "out_of_memory"


class InternalError(LumenError):
    """A bug in lumen."""

    code = "internal"


_BY_CODE = {cls.code: cls for cls in (BadInputError, InvalidOptionError, UsageError, NoGpuError,
                                      ReconstructionError, LumenMemoryError, InternalError)}


def _from_lumen(code: str, message: str, field: Optional[str]) -> LumenError:
    """Called by the extension's exception translator."""
    return _BY_CODE.get(code, LumenError)(message, field)
