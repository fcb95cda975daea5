"""What ``hptune tune`` reads: a search space file (JSON, TOML or YAML) and an objective given
as ``module:function``.

A space file maps each parameter name to its description::

    {"learning_rate": {"type": "float", "min": 0.001, "max": 0.1, "log": true},
     "layers": {"type": "int", "min": 1, "max": 6},
     "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]}}

The fields of :class:`~hptune.HyperparameterSpace` are accepted too (``param_type``,
``min_value``, ``max_value``, ``log_scale``, ``step``, ``choices``, ``default``), as is a list of
descriptions that each carry a ``name``. Without a ``type``, a description with ``choices`` is
categorical and any other is a float.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hptune._errors import InvalidArgumentError
from hptune.space import HyperparameterSpace, SearchSpace

__all__ = ["load_objective", "load_space_file", "space_from_mapping"]

# Short name -> HyperparameterSpace field; the field names themselves are accepted as well.
_ALIASES = {
    "type": "param_type",
    "min": "min_value",
    "low": "min_value",
    "max": "max_value",
    "high": "max_value",
    "log": "log_scale",
}
_FIELDS = ("param_type", "min_value", "max_value", "choices", "log_scale", "step", "default")


def _read(path: Path) -> Any:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save the space file as UTF-8"
        ) from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"{path}: not valid JSON ({exc})") from None
    if suffix == ".toml":
        return _read_toml(path, text)
    if suffix in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError:
            raise InvalidArgumentError(
                f"{path}: reading YAML needs PyYAML: pip install pyyaml (or use JSON or TOML)"
            ) from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidArgumentError(f"{path}: not valid YAML ({first})") from None
    raise InvalidArgumentError(
        f"{path}: unknown space file type {suffix or '(no suffix)'!r}; "
        "use .json, .toml, .yaml or .yml"
    )


def _read_toml(path: Path, text: str) -> Any:
    # tomllib is in the standard library from 3.11; hptune adds no dependency for older ones.
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidArgumentError(f"{path}: not valid TOML ({exc})") from None
    raise InvalidArgumentError(
        f"{path}: TOML space files need Python 3.11 or later (tomllib); use a JSON or YAML file"
    )


def _param(name: Any, spec: Any, where: str) -> HyperparameterSpace:
    if not isinstance(spec, Mapping):
        raise InvalidArgumentError(
            f"{where}: parameter {name!r} must be described by a mapping of fields, "
            f"got {type(spec).__name__}"
        )
    kwargs: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "name":
            if value != name:
                raise InvalidArgumentError(
                    f"{where}: parameter {name!r} has a different name field {value!r}"
                )
            continue
        field = _ALIASES.get(key, key)
        if field not in _FIELDS:
            allowed = ", ".join(sorted({*_ALIASES, *_FIELDS}))
            raise InvalidArgumentError(
                f"{where}: parameter {name!r} has an unknown field {key!r}; allowed: {allowed}"
            )
        if field in kwargs:
            raise InvalidArgumentError(f"{where}: parameter {name!r} gives {field} twice")
        kwargs[field] = value
    if "param_type" not in kwargs:
        kwargs["param_type"] = "categorical" if "choices" in kwargs else "float"
    try:
        return HyperparameterSpace(name=name, **kwargs)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{where}: {exc}") from None


def space_from_mapping(raw: Any, where: str = "search space") -> SearchSpace:
    """A search space from parsed file content (see the module notes for the format)."""
    if isinstance(raw, Mapping) and set(raw) == {"params"}:
        raw = raw["params"]
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = []
        for k, spec in enumerate(raw):
            if not isinstance(spec, Mapping) or "name" not in spec:
                raise InvalidArgumentError(f"{where}: list entry {k} needs a 'name' field")
            items.append((spec["name"], spec))
    else:
        raise InvalidArgumentError(
            f"{where}: expected a mapping of parameter name -> description, "
            f"got {type(raw).__name__}"
        )
    if not items:
        raise InvalidArgumentError(f"{where}: no parameters")
    return SearchSpace([_param(name, spec, where) for name, spec in items])


def load_space_file(path: str | os.PathLike[str]) -> SearchSpace:
    """The search space described by a ``.json``, ``.toml``, ``.yaml`` or ``.yml`` file."""
    p = Path(path)
    if not p.is_file():
        raise InvalidArgumentError(f"no such space file: {p}")
    return space_from_mapping(_read(p), str(p))


def load_objective(spec: str) -> Callable[..., Any]:
    """The callable named by ``module:function`` (``function`` may be dotted, ``Class.method``),
    imported with the current directory first on ``sys.path``."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgumentError(
            f"objective must be given as module:function (e.g. train:objective), got {spec!r}"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise InvalidArgumentError(
                f"cannot import module {module_name!r} for the objective: no such module "
                f"(looked in the current directory and sys.path)"
            ) from None
        raise InvalidArgumentError(f"importing module {module_name!r} failed: {exc}") from None
    except Exception as exc:
        # The user's module raised while importing: name it in one line.
        raise InvalidArgumentError(
            f"importing module {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InvalidArgumentError(
                f"module {module_name!r} has no attribute {attr!r} (the objective)"
            ) from None
    if not callable(obj):
        raise InvalidArgumentError(
            f"{spec} is a {type(obj).__name__}, not a function the objective can be"
        )
    return obj  # type: ignore[no-any-return]
