"""Storages for studies: in memory (default), SQLite (``"sqlite:///path.db"``) or PostgreSQL
(``"postgresql://user@host/dbname"``, needs ``hptune[postgres]``)."""

from __future__ import annotations

from hptune._errors import InvalidArgumentError
from hptune.storage._base import Storage, StudyMeta
from hptune.storage._memory import InMemoryStorage
from hptune.storage._postgres import PostgresStorage
from hptune.storage._sqlite import SQLiteStorage

__all__ = [
    "InMemoryStorage",
    "PostgresStorage",
    "SQLiteStorage",
    "Storage",
    "StudyMeta",
    "get_storage",
]


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
        if storage.startswith(("postgresql://", "postgres://")):
            postgres: Storage = PostgresStorage(storage)
            return postgres
        scheme = storage.split("://", 1)[0] if "://" in storage else storage
        raise InvalidArgumentError(
            f"unknown storage URL scheme in {storage!r} ({scheme!r}); "
            "allowed: None (in memory), 'sqlite:///path/to/file.db', "
            "'postgresql://user@host/dbname', or a Storage instance"
        )
    raise InvalidArgumentError(
        f"storage must be None, a URL string or a Storage instance, got {type(storage).__name__}"
    )
