"""Storages for studies: in memory (default) or SQLite (``"sqlite:///path.db"``)."""

from __future__ import annotations

from hptune._errors import InvalidArgumentError
from hptune.storage._base import Storage, StudyMeta
from hptune.storage._memory import InMemoryStorage
from hptune.storage._sqlite import SQLiteStorage

__all__ = ["InMemoryStorage", "SQLiteStorage", "Storage", "StudyMeta", "get_storage"]


def get_storage(storage: Storage | str | None) -> Storage:
    """A storage from an instance, a URL, or None (a new in-memory storage)."""
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, Storage):
        return storage
    if isinstance(storage, str):
        if storage.startswith("sqlite://"):
            from hptune.storage._sqlite import SQLiteStorage

            sqlite: Storage = SQLiteStorage(storage)
            return sqlite
        scheme = storage.split("://", 1)[0] if "://" in storage else storage
        raise InvalidArgumentError(
            f"unknown storage URL scheme in {storage!r} ({scheme!r}); "
            "allowed: None (in memory), 'sqlite:///path/to/file.db', or a Storage instance"
        )
    raise InvalidArgumentError(
        f"storage must be None, a URL string or a Storage instance, got {type(storage).__name__}"
    )
