"""Search spaces: :class:`HyperparameterSpace` (one parameter) and :class:`SearchSpace` (several).

A search space is encoded once into flat arrays for the Rust core, which works on the unit cube
``[0, 1]^d``: log-scale dimensions are log-transformed before scaling, ints and stepped floats own
equal cells with half-step margins, categoricals are indices of their choices.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

from hptune import _core
from hptune._checks import check_flag
from hptune._errors import InvalidArgumentError

__all__ = [
    "AtMost",
    "Constraint",
    "HyperparameterSpace",
    "LessThan",
    "ParamValue",
    "SearchSpace",
    "SearchSpaceLike",
]

ParamValue: TypeAlias = Any
"""A parameter value: ``float``, ``int`` or one of a categorical's choices."""

ParamType = Literal["float", "int", "categorical"]
_TYPES = ("float", "int", "categorical")
_KIND_CODE = {"float": 0, "int": 1, "categorical": 2}
_MAX_EXACT_INT = 2**52


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


@dataclass(frozen=True)
class HyperparameterSpace:
    """One tunable parameter.

    >>> HyperparameterSpace(name="lr", param_type="float", min_value=1e-3, max_value=0.1,
    ...                     log_scale=True)
    HyperparameterSpace(name='lr', param_type='float', min_value=0.001, max_value=0.1, ...)

    ``param_type`` is ``"float"``, ``"int"`` or ``"categorical"``. Floats and ints need
    ``min_value < max_value`` (both included) and may set ``log_scale`` (then ``min_value > 0``)
    or a ``step`` that divides the range (not both). Categoricals need distinct ``choices`` and no
    bounds. Invalid input raises :class:`hptune.InvalidArgumentError` (a ``ValueError``) naming
    the parameter.
    """

    name: str
    param_type: ParamType = "float"
    min_value: float | int | None = None
    max_value: float | int | None = None
    choices: Sequence[Any] | None = None
    log_scale: bool = False
    step: float | int | None = None
    default: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"parameter name must be a non-empty string, got {name!r}")
        where = f"parameter {name!r}"
        object.__setattr__(self, "log_scale", check_flag(f"{where}: log_scale", self.log_scale))
        if self.param_type not in _TYPES:
            raise InvalidArgumentError(
                f"{where}: unknown param_type {self.param_type!r}; "
                "allowed: 'float', 'int', 'categorical'"
            )
        if self.param_type == "categorical":
            self._check_categorical(where)
        else:
            self._check_numeric(where)
        if self.default is not None and not self.contains(self.default):
            raise InvalidArgumentError(
                f"{where}: default {self.default!r} is not a value of this parameter"
            )

    def _check_categorical(self, where: str) -> None:
        if self.min_value is not None or self.max_value is not None:
            raise InvalidArgumentError(
                f"{where}: a categorical parameter takes choices, not min_value/max_value"
            )
        if self.log_scale or self.step is not None:
            raise InvalidArgumentError(
                f"{where}: log_scale and step apply to float and int parameters only"
            )
        if self.choices is None or isinstance(self.choices, (str, bytes)):
            raise InvalidArgumentError(
                f"{where}: a categorical parameter needs a list of choices, got {self.choices!r}"
            )
        choices = tuple(self.choices)
        if not choices:
            raise InvalidArgumentError(f"{where}: choices must not be empty")
        seen: list[Any] = []
        for c in choices:
            if any(type(c) is type(s) and c == s for s in seen):
                raise InvalidArgumentError(f"{where}: duplicate choice {c!r} in {list(choices)!r}")
            seen.append(c)
        object.__setattr__(self, "choices", choices)

    def _check_numeric(self, where: str) -> None:
        if self.choices is not None:
            raise InvalidArgumentError(
                f"{where}: choices apply to categorical parameters only "
                f"(param_type is {self.param_type!r})"
            )
        lo, hi = self.min_value, self.max_value
        if lo is None or hi is None:
            raise InvalidArgumentError(
                f"{where}: a {self.param_type} parameter needs both min_value and max_value"
            )
        if not _is_number(lo) or not _is_number(hi):
            raise InvalidArgumentError(
                f"{where}: min_value and max_value must be numbers, got {lo!r} and {hi!r}"
            )
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InvalidArgumentError(
                f"{where}: bounds must be finite, got min_value={lo!r}, max_value={hi!r}"
            )
        if self.param_type == "int":
            if float(lo) != int(lo) or float(hi) != int(hi):
                raise InvalidArgumentError(
                    f"{where}: int bounds must be whole numbers, got {lo!r} and {hi!r}"
                )
            if abs(lo) > _MAX_EXACT_INT or abs(hi) > _MAX_EXACT_INT:
                raise InvalidArgumentError(f"{where}: int bounds must lie within +-2**52")
            lo, hi = int(lo), int(hi)
        else:
            lo, hi = float(lo), float(hi)
        if lo >= hi:
            raise InvalidArgumentError(
                f"{where}: min_value ({lo!r}) must be less than max_value ({hi!r})"
            )
        if self.log_scale and lo <= 0:
            raise InvalidArgumentError(f"{where}: log_scale needs min_value > 0, got {lo!r}")
        step = self.step
        if step is not None:
            if not _is_number(step) or not math.isfinite(step) or step <= 0:
                raise InvalidArgumentError(f"{where}: step must be a positive number, got {step!r}")
            if self.log_scale:
                raise InvalidArgumentError(f"{where}: step cannot be combined with log_scale")
            if self.param_type == "int":
                if float(step) != int(step):
                    raise InvalidArgumentError(f"{where}: an int step must be whole, got {step!r}")
                step = int(step)
            else:
                step = float(step)
            k = (hi - lo) / step
            if abs(k - round(k)) > 1e-9 * max(1.0, abs(k)):
                raise InvalidArgumentError(
                    f"{where}: step {step!r} does not divide the range [{lo!r}, {hi!r}]"
                )
        object.__setattr__(self, "min_value", lo)
        object.__setattr__(self, "max_value", hi)
        object.__setattr__(self, "step", step)

    @property
    def is_discrete(self) -> bool:
        """True when the parameter takes finitely many values."""
        return self.param_type != "float" or self.step is not None

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this parameter."""
        if self.param_type == "categorical":
            assert self.choices is not None
            return any(bool(value == c) for c in self.choices)
        if not _is_number(value) or not math.isfinite(value):
            return False
        assert self.min_value is not None
        assert self.max_value is not None
        if self.param_type == "int" and float(value) != int(value):
            return False
        if not self.min_value <= value <= self.max_value:
            return False
        if self.step is not None:
            k = float((value - self.min_value) / self.step)
            return abs(k - round(k)) <= 1e-9 * max(1.0, abs(k))
        return True


@dataclass(frozen=True)
class LessThan:
    """Constraint ``params[lower] < params[upper]``, respected by every sampler.

    The sampler draws ``lower`` over its whole range as usual; the space then maps that draw
    monotonically onto the part of the range below ``upper`` (``[min, min(max, upper - margin)]``).
    So no suggestion ever violates the constraint, nothing is rejected or retried, and
    model-based samplers still see one fixed unit cube. ``lower`` must be a plain float
    parameter (no step, no log scale); ``upper`` any float or int parameter whose minimum lies
    above ``lower``'s minimum.
    """

    lower: str
    upper: str
    margin: float = 1e-6


@dataclass(frozen=True)
class AtMost:
    """Constraint ``params[lower] <= factor * params[upper]``, respected by every sampler.

    Made for ratios such as SB3's ``batch_size <= n_steps * n_envs``. As with
    :class:`LessThan`, the sampler draws ``lower`` over its whole range and the space maps the
    draw monotonically onto the feasible part (in the parameter's own scale, so a log-scale int
    stays log-uniform over what is allowed): nothing is rejected or retried. ``lower`` must be an
    int or float parameter without a step; ``upper`` numeric, with ``factor * min(upper)`` at
    least ``min(lower)`` so that some value is always feasible.

    >>> AtMost("batch_size", "n_steps", factor=4).factor
    4.0
    """

    lower: str
    upper: str
    factor: float = 1.0

    def __post_init__(self) -> None:
        f = self.factor
        if not _is_number(f) or not math.isfinite(f) or f <= 0:
            raise InvalidArgumentError(
                f"constraint {self.lower!r} <= factor * {self.upper!r}: factor must be a "
                f"positive number, got {f!r}"
            )
        object.__setattr__(self, "factor", float(f))


Constraint: TypeAlias = "LessThan | AtMost"


def constraint_from_dict(d: Mapping[str, Any]) -> LessThan | AtMost:
    """A constraint from its stored form (``dataclasses.asdict`` of it)."""
    return AtMost(**d) if "factor" in d else LessThan(**d)


class _Scale:
    """The scale a numeric parameter is drawn on: its transform ``t`` and the edges of the
    range in ``t`` (ints own ``[v - 0.5, v + 0.5]``, as in the core's encoding)."""

    def __init__(self, p: HyperparameterSpace) -> None:
        assert p.min_value is not None and p.max_value is not None
        self.is_int = p.param_type == "int"
        self.log = bool(p.log_scale)
        self.lo, self.hi = p.min_value, p.max_value
        half = 0.5 if self.is_int else 0.0
        self.t0 = self.t(self.lo - half)
        self.t1 = self.t(self.hi + half)

    def t(self, v: float) -> float:
        return math.log(v) if self.log else float(v)

    def edge(self, top: float) -> float:
        """The upper edge in ``t`` of the feasible part ``[lo, top]``."""
        return self.t(top + 0.5) if self.is_int else self.t(top)

    def centre(self, v: float) -> float:
        if self.is_int:
            return 0.5 * (self.t(v - 0.5) + self.t(v + 0.5))
        return self.t(v)

    def value(self, t: float, top: float) -> float:
        v = math.exp(t) if self.log else t
        if self.is_int:
            return float(min(max(round(v), self.lo), top))
        return min(max(v, float(self.lo)), top)

    def shrink(self, v: float, top: float) -> float:
        """Map a draw ``v`` over the whole range onto ``[lo, top]``, monotonically."""
        ratio = (self.edge(top) - self.t0) / (self.t1 - self.t0)
        return self.value(self.t0 + (self.centre(v) - self.t0) * ratio, top)


SearchSpaceLike: TypeAlias = (
    "SearchSpace | Mapping[str, HyperparameterSpace] | Iterable[HyperparameterSpace]"
)


class SearchSpace:
    """An ordered set of :class:`HyperparameterSpace`, encoded once for the Rust core.

    Build it from a dict ``name -> HyperparameterSpace`` (the key must equal the name) or from a
    list. ``decode`` turns a matrix of core values (categoricals as indices) into param dicts;
    ``encode`` turns param dicts into unit-cube rows.
    """

    __slots__ = ("_choices", "_core", "_index", "constraints", "names", "params")

    def __init__(self, params: SearchSpaceLike, constraints: Iterable[Constraint] = ()) -> None:
        constraints = tuple(constraints)
        if isinstance(params, SearchSpace):
            items: list[HyperparameterSpace] = list(params.params)
            constraints = params.constraints + constraints
        elif isinstance(params, Mapping):
            items = []
            for key, p in params.items():
                if not isinstance(p, HyperparameterSpace):
                    raise InvalidArgumentError(
                        f"search space entry {key!r} must be a HyperparameterSpace, "
                        f"got {type(p).__name__}"
                    )
                if key != p.name:
                    raise InvalidArgumentError(
                        f"search space key {key!r} differs from the parameter's name {p.name!r}"
                    )
                items.append(p)
        elif isinstance(params, Iterable) and not isinstance(params, (str, bytes)):
            items = list(params)
            for p in items:
                if not isinstance(p, HyperparameterSpace):
                    raise InvalidArgumentError(
                        f"search space entries must be HyperparameterSpace, got {type(p).__name__}"
                    )
        else:
            raise InvalidArgumentError(
                "search_space must be a dict of name -> HyperparameterSpace or a list of them, "
                f"got {type(params).__name__}"
            )
        if not items:
            raise InvalidArgumentError("search space is empty: give at least one parameter")
        names = [p.name for p in items]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InvalidArgumentError(f"duplicate parameter names in search space: {dupes}")
        self.params: tuple[HyperparameterSpace, ...] = tuple(items)
        self.names: tuple[str, ...] = tuple(names)
        self._index = {n: i for i, n in enumerate(names)}
        for c in constraints:
            self._check_constraint(c)
        self.constraints: tuple[Constraint, ...] = constraints
        self._choices: tuple[tuple[Any, ...] | None, ...] = tuple(
            tuple(p.choices) if p.choices is not None else None for p in items
        )
        kinds = np.array([_KIND_CODE[p.param_type] for p in items], dtype=np.int64)
        low = np.array([float(p.min_value or 0.0) for p in items], dtype=np.float64)
        high = np.array([float(p.max_value or 0.0) for p in items], dtype=np.float64)
        log = [bool(p.log_scale) for p in items]
        step = np.array([float(p.step or 0.0) for p in items], dtype=np.float64)
        n_choices = np.array([len(c) if c is not None else 0 for c in self._choices], np.uint64)
        self._core = _core.Space(
            kinds,
            low,
            high,
            log,
            step,
            n_choices,
            list(self.names),
            [list(c) if c is not None else None for c in self._choices],
        )

    def _check_constraint(self, c: Constraint) -> None:
        if isinstance(c, AtMost):
            self._check_at_most(c)
            return
        if not isinstance(c, LessThan):
            raise InvalidArgumentError(
                f"constraints must be LessThan or AtMost, got {type(c).__name__}"
            )
        for n in (c.lower, c.upper):
            if n not in self._index:
                raise InvalidArgumentError(
                    f"constraint {c.lower!r} < {c.upper!r}: no parameter named {n!r}"
                )
        lo, up = self[c.lower], self[c.upper]
        if lo.param_type != "float" or lo.log_scale or lo.step is not None:
            raise InvalidArgumentError(
                f"constraint {c.lower!r} < {c.upper!r}: {c.lower!r} must be a float parameter "
                "without step or log scale"
            )
        if up.param_type == "categorical":
            raise InvalidArgumentError(
                f"constraint {c.lower!r} < {c.upper!r}: {c.upper!r} must be numeric"
            )
        assert lo.min_value is not None
        assert up.min_value is not None
        if not up.min_value > lo.min_value + c.margin:
            raise InvalidArgumentError(
                f"constraint {c.lower!r} < {c.upper!r} cannot always hold: min_value of "
                f"{c.upper!r} ({up.min_value!r}) must exceed min_value of {c.lower!r} "
                f"({lo.min_value!r})"
            )

    def _check_at_most(self, c: AtMost) -> None:
        where = f"constraint {c.lower!r} <= {c.factor:g} * {c.upper!r}"
        for n in (c.lower, c.upper):
            if n not in self._index:
                raise InvalidArgumentError(f"{where}: no parameter named {n!r}")
        lo, up = self[c.lower], self[c.upper]
        if lo.param_type == "categorical" or lo.step is not None:
            raise InvalidArgumentError(
                f"{where}: {c.lower!r} must be an int or float parameter without step"
            )
        if up.param_type == "categorical":
            raise InvalidArgumentError(f"{where}: {c.upper!r} must be numeric")
        assert lo.min_value is not None and up.min_value is not None
        if c.factor * up.min_value < lo.min_value:
            raise InvalidArgumentError(
                f"{where} cannot always hold: {c.factor:g} * min_value of {c.upper!r} "
                f"({up.min_value!r}) is below min_value of {c.lower!r} ({lo.min_value!r})"
            )

    def _at_most_top(self, c: AtMost, upper_value: float) -> tuple[_Scale, float]:
        scale = _Scale(self[c.lower])
        top = min(float(scale.hi), c.factor * float(upper_value))
        return scale, float(math.floor(top + 1e-9)) if scale.is_int else top

    def _feasible_high(self, c: LessThan, upper_value: float) -> tuple[float, float, float]:
        lo = self[c.lower]
        assert lo.min_value is not None
        assert lo.max_value is not None
        low, high = float(lo.min_value), float(lo.max_value)
        return low, high, min(high, float(upper_value) - c.margin)

    def constrain(self, dicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Map sampler draws onto the feasible region of the constraints (in place)."""
        for c in self.constraints:
            if isinstance(c, AtMost):
                for d in dicts:
                    scale, top = self._at_most_top(c, d[c.upper])
                    v = scale.shrink(d[c.lower], top)
                    d[c.lower] = int(v) if scale.is_int else v
                continue
            for d in dicts:
                low, high, top = self._feasible_high(c, d[c.upper])
                x = low + (d[c.lower] - low) * (top - low) / (high - low)
                d[c.lower] = min(top, max(low, x))
        return dicts

    def _unshrink(self, c: AtMost, out: dict[str, Any]) -> None:
        """Replace ``out[c.lower]`` by a draw that :meth:`constrain` maps back to it."""
        v, up = out[c.lower], out[c.upper]
        if not (_is_number(v) and _is_number(up) and v <= c.factor * up):
            raise InvalidArgumentError(
                f"params violate the constraint {c.lower!r} <= {c.factor:g} * {c.upper!r}: "
                f"{c.lower}={v!r}, {c.upper}={up!r}"
            )
        scale, top = self._at_most_top(c, up)
        if not scale.lo <= v <= top:
            return  # out of range: params_to_row names the parameter and its range
        if not scale.is_int:
            ratio = (scale.edge(top) - scale.t0) / (scale.t1 - scale.t0)
            t = scale.t0 + (scale.t(v) - scale.t0) / ratio
            x = math.exp(t) if scale.log else t
            out[c.lower] = min(float(scale.hi), max(float(scale.lo), x))
            return
        # The map is monotone in the draw: the smallest draw that reaches v maps onto it.
        a, b = int(scale.lo), int(scale.hi)
        while a < b:
            mid = (a + b) // 2
            if scale.shrink(mid, top) < v:
                a = mid + 1
            else:
                b = mid
        out[c.lower] = a

    def _unconstrain(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """The draw that :meth:`constrain` maps to ``params`` (checking the constraints)."""
        if not self.constraints:
            return params
        out = dict(params)
        for c in self.constraints:
            if c.lower not in out or c.upper not in out:
                continue
            if isinstance(c, AtMost):
                self._unshrink(c, out)
                continue
            x, up = out[c.lower], out[c.upper]
            if not (_is_number(x) and _is_number(up) and x < up):
                raise InvalidArgumentError(
                    f"params violate the constraint {c.lower!r} < {c.upper!r}: "
                    f"{c.lower}={x!r}, {c.upper}={up!r}"
                )
            low, high, top = self._feasible_high(c, up)
            if x <= top:
                out[c.lower] = min(high, max(low, low + (x - low) * (high - low) / (top - low)))
        return out

    @property
    def core(self) -> _core.Space:
        """The encoded space used by the Rust core."""
        return self._core

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[HyperparameterSpace]:
        return iter(self.params)

    def __getitem__(self, name: str) -> HyperparameterSpace:
        return self.params[self._index[name]]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __repr__(self) -> str:
        return f"SearchSpace({list(self.params)!r})"

    @property
    def is_discrete(self) -> bool:
        """True when every parameter takes finitely many values."""
        return all(p.is_discrete for p in self.params)

    def rows_to_params(self, rows: NDArray[np.float64]) -> list[dict[str, Any]]:
        """Core value rows (``n x d``, categoricals as indices) to param dicts."""
        dicts = self._core.values_to_dicts(np.ascontiguousarray(rows, dtype=np.float64))
        return self.constrain(dicts) if self.constraints else dicts

    def params_to_row(self, params: Mapping[str, Any]) -> list[float]:
        """A param dict to a core value row, validating every value and constraint."""
        params = self._unconstrain(params)
        missing = [n for n in self.names if n not in params]
        if missing:
            raise InvalidArgumentError(f"params are missing {missing}; expected {list(self.names)}")
        extra = [k for k in params if k not in self._index]
        if extra:
            raise InvalidArgumentError(
                f"params have unknown names {extra}; expected {list(self.names)}"
            )
        row: list[float] = []
        for p, choices in zip(self.params, self._choices, strict=True):
            v = params[p.name]
            if not p.contains(v):
                raise InvalidArgumentError(
                    f"parameter {p.name!r}: {v!r} is not an allowed value ({_describe(p)})"
                )
            if choices is not None:
                row.append(float(_choice_index(choices, v)))
            else:
                row.append(float(v))
        return row

    def encode(self, params: Sequence[Mapping[str, Any]]) -> NDArray[np.float64]:
        """Param dicts to unit-cube rows (``n x d``)."""
        values = np.array([self.params_to_row(p) for p in params], dtype=np.float64)
        return self._core.encode(values.reshape(len(params), len(self)))

    def decode(self, unit: NDArray[np.float64]) -> list[dict[str, Any]]:
        """Unit-cube rows (``n x d``) to param dicts."""
        unit = np.ascontiguousarray(unit, dtype=np.float64).reshape(-1, len(self))
        dicts = self._core.decode_dicts(unit)
        return self.constrain(dicts) if self.constraints else dicts

    def sample_random(self, seed: int, first: int, n: int) -> list[dict[str, Any]]:
        """Params of random trials ``first .. first + n`` of a study seeded ``seed``."""
        dicts = self._core.sample_random_dicts(seed, first, n)
        return self.constrain(dicts) if self.constraints else dicts

    def defaults(self) -> dict[str, Any] | None:
        """The params of every parameter's ``default``, or None when any has none."""
        if any(p.default is None for p in self.params):
            return None
        return {p.name: p.default for p in self.params}


def _choice_index(choices: tuple[Any, ...], value: Any) -> int:
    for i, c in enumerate(choices):
        if type(c) is type(value) and c == value:
            return i
    for i, c in enumerate(choices):
        if c == value:
            return i
    raise InvalidArgumentError(f"{value!r} is not one of {list(choices)!r}")


def _describe(p: HyperparameterSpace) -> str:
    if p.param_type == "categorical":
        return f"one of {list(p.choices or ())!r}"
    text = f"{p.param_type} in [{p.min_value!r}, {p.max_value!r}]"
    if p.step is not None:
        text += f" with step {p.step!r}"
    return text
