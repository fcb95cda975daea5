"""The exception hierarchy of hptune, rooted at :class:`HptuneError`.

The Rust extension raises these classes too (it looks them up here by name), so every error a
user sees from hptune can be caught with ``except hptune.HptuneError``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AllTrialsFailedError",
    "HptuneError",
    "InvalidArgumentError",
    "NumericalError",
    "OutOfRangeError",
    "StorageError",
    "TrialPruned",
]


class HptuneError(Exception):
    """Base class of every error raised by hptune."""


class InvalidArgumentError(HptuneError, ValueError):
    """An argument is outside its allowed values; the message names it and what is allowed."""


class OutOfRangeError(HptuneError, IndexError):
    """An index is past the end (of a grid, say) or a count does not fit in 64 bits."""


class NumericalError(HptuneError, ArithmeticError):
    """A numerical routine could not produce a result."""


class StorageError(HptuneError):
    """A storage could not be opened, read or written."""


class AllTrialsFailedError(HptuneError, RuntimeError):
    """Every trial of a tuning run failed; ``first_failure`` holds the first trial's record."""

    def __init__(self, message: str, first_failure: Any = None) -> None:
        super().__init__(message)
        self.first_failure = first_failure


class TrialPruned(HptuneError):
    """Raised inside an objective to stop a trial that a pruner judged hopeless."""
