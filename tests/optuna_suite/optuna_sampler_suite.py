"""Optuna's own sampler tests, run against hptune's Optuna plug-in samplers.

    python tests/optuna_suite/optuna_sampler_suite.py [--optuna-tests DIR] [pytest args...]

Downloads the sdist of the *installed* Optuna version from PyPI (``pip download --no-binary``),
extracts its ``tests/`` directory and ``pyproject.toml`` (Optuna's pytest configuration), and runs
Optuna's generic sampler tests with hptune's ``GPSampler`` and ``TPESampler`` added to the sampler
parametrisations. Optuna's files are not edited: a pytest plug-in (:class:`_InjectSamplers`)
extends their module-level sampler lists after pytest imports a test module and before pytest
collects it, then deselects every test that does not run one of our samplers. The exit status is
pytest's: non-zero on any failure, when no test ran, and when a newer Optuna's test module no
longer takes our samplers where listed below (a usage error naming the tests).

With ``--optuna-tests DIR`` an already extracted tree is used (``DIR`` holds ``tests/``). Other
arguments go to pytest. Run it with the hptune under test installed (CI: the built wheel), and
pip able to reach PyPI. Optuna's ``pyproject.toml`` is the pytest configuration, as in Optuna's CI.

What runs, per Optuna test module (only tests parametrised by a sampler apply to a sampler):

``tests/samplers_tests/test_samplers.py``
    - ``TestBasicSampler``, ``TestRelativeSampler`` and ``TestSingleOnlySampler``: subclassed
      with our samplers as the ``sampler`` fixture (every test method Optuna defines on them or on
      their bases in ``optuna.testing.pytest_samplers`` runs);
    - ``test_sampler_reseed_rng``: our samplers hold no ``LazyRandomState`` of their own (their
      points depend on the seed and the trial number) and one other sampler (the independent
      sampler), whose generator ``reseed_rng`` must reseed: parametrised as
      ``(sampler, expected_has_rng=False, expected_has_another_sampler=True)``;
    - ``test_reseed_rng_change_sampling``, ``test_reproducible`` and
      ``test_reproducible_in_other_process``: our samplers added to ``sampler_class_with_seed``.
``tests/samplers_tests/test_partial_fixed.py``
    - ``test_fixed_sampling``: our samplers added to its ``parametrize_sampler``.

Excluded, with the reason:

- ``TestMultiObjectiveSampler`` (``MultiObjectiveSamplerTestCase``): our samplers refuse
  multi-objective studies by design (``ValueError``; the trial is told FAIL). The refusal itself
  is Optuna's ``TestSingleOnlySampler`` contract, which runs.
- ``test_pickle_random_sampler``, ``test_sample_relative`` (test_samplers.py) and the other
  tests of test_partial_fixed.py: they test ``RandomSampler``, Optuna's ``FixedSampler`` test
  double or ``PartialFixedSampler`` over ``RandomSampler``; no sampler parameter to add ours to.
- the other files of ``tests/samplers_tests`` (``test_brute_force``, ``test_cmaes``,
  ``test_gp``, ``test_grid``, ``test_nsgaii``, ``test_nsgaiii``, ``test_qmc``,
  ``test_base_gasampler``, ``tpe_tests/``, ``test_lazy_random_state``): each tests one Optuna
  sampler's (or helper's) own internals and options; the one sampler list among them
  (``test_nsgaii.py``'s ``parametrize_nsga2_sampler``) holds NSGA-II crossover variants.

``test_reproducible_in_other_process`` runs its objective in ``spawn``-ed processes that import
Optuna's test module afresh and look our samplers up by name: such a process runs this file as
``__mp_main__``, which adds our samplers to the modules named in ``HPTUNE_OPTUNA_SUITE_MODULES``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hptune.integrations.optuna import GPSampler, TPESampler

# The Optuna test files that take a sampler parameter (see the module docstring).
TEST_FILES = ("tests/samplers_tests/test_samplers.py", "tests/samplers_tests/test_partial_fixed.py")
MARKER = "hptune_sampler"
_MODULES_ENV = "HPTUNE_OPTUNA_SUITE_MODULES"

# Our samplers as Optuna builds its own in these tests, the model taking over from the first
# observation (n_startup_trials=0, as Optuna's TPE and GP entries), and with the default
# start-up trials (Sobol' points for GPSampler, random ones for TPESampler).
SAMPLERS: dict[str, Callable[[], Any]] = {
    "hptune-GPSampler": lambda: GPSampler(n_startup_trials=0),
    "hptune-TPESampler": lambda: TPESampler(n_startup_trials=0),
    "hptune-GPSampler-default": lambda: GPSampler(),
    "hptune-TPESampler-default": lambda: TPESampler(),
}
SAMPLERS_WITH_SEED: dict[str, Callable[[int], Any]] = {
    "hptune-GPSampler": lambda seed: GPSampler(seed=seed, n_startup_trials=0),
    "hptune-TPESampler": lambda seed: TPESampler(seed=seed, n_startup_trials=0),
    "hptune-GPSampler-default": lambda seed: GPSampler(seed=seed),
    "hptune-TPESampler-default": lambda seed: TPESampler(seed=seed),
}


def _params(values: dict[str, Any]) -> list[Any]:
    return [
        pytest.param(v, id=name, marks=getattr(pytest.mark, MARKER)) for name, v in values.items()
    ]


def _parametrize_args(function: Any, argnames: str) -> list[Any]:
    """The argvalues list of ``function``'s ``@pytest.mark.parametrize(argnames, [...])``."""
    for mark in getattr(function, "pytestmark", []):
        if mark.name == "parametrize" and mark.args[0] == argnames:
            values = mark.args[1]
            if not isinstance(values, list):
                raise TypeError(f"{function.__name__}: {argnames!r} values are not a list")
            return values
    raise LookupError(f"{function.__name__} is not parametrised by {argnames!r}")


def _subclass_with_our_samplers(base: type) -> type:
    @pytest.fixture(params=list(SAMPLERS.values()), ids=list(SAMPLERS))
    def sampler(self: Any, request: pytest.FixtureRequest) -> Any:
        return request.param

    name = "TestHptune" + base.__name__.removeprefix("Test")
    cls = type(name, (base,), {"sampler": sampler, "__module__": base.__module__})
    marked: type = getattr(pytest.mark, MARKER)(cls)
    return marked


def inject(module: ModuleType) -> None:
    """Add our samplers to the sampler parametrisations of one Optuna test module."""
    stem = module.__name__.rsplit(".", 1)[-1]
    ours = getattr(pytest.mark, MARKER)
    if stem == "test_samplers":
        m: Any = module
        for name, factory in SAMPLERS_WITH_SEED.items():
            m.sampler_class_with_seed[name] = factory
            m.param_sampler_with_seed.append(pytest.param(factory, id=name, marks=ours))
            m.param_sampler_name_with_seed.append(pytest.param(name, marks=ours))
        reseed = _parametrize_args(
            m.test_sampler_reseed_rng,
            "sampler_class_reseed_rng,expected_has_rng,expected_has_another_sampler",
        )
        for name, make in SAMPLERS.items():
            reseed.append(pytest.param(make, False, True, id=name, marks=ours))
        for base in ("TestBasicSampler", "TestRelativeSampler", "TestSingleOnlySampler"):
            cls = _subclass_with_our_samplers(getattr(m, base))
            setattr(m, cls.__name__, cls)
    elif stem == "test_partial_fixed":
        _parametrize_args(module.test_fixed_sampling, "sampler_class").extend(_params(SAMPLERS))
    else:
        raise ValueError(f"no samplers to add to {module.__name__}")
    names = [n for n in os.environ.get(_MODULES_ENV, "").split(",") if n]
    if module.__name__ not in names:
        os.environ[_MODULES_ENV] = ",".join([*names, module.__name__])


def _ours(item: pytest.Item) -> bool:
    return item.get_closest_marker(MARKER) is not None


# Where our samplers must show up: a newer Optuna that builds one of these lists differently
# fails the run here instead of quietly running fewer tests.
EXPECTED = {
    "TestHptuneBasicSampler",
    "TestHptuneRelativeSampler",
    "TestHptuneSingleOnlySampler",
    "test_sampler_reseed_rng",
    "test_reseed_rng_change_sampling",
    "test_reproducible",
    "test_reproducible_in_other_process",
    "test_fixed_sampling",
}


def _where(item: pytest.Item) -> str:
    cls = getattr(item, "cls", None)
    return cls.__name__ if cls is not None else getattr(item, "originalname", item.name)


class _InjectSamplers:
    """The pytest plug-in: extend a test module's sampler lists before pytest collects it."""

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", f"{MARKER}: runs one of hptune's Optuna samplers")

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Iterator[None]:
        if isinstance(collector, pytest.Module) and any(
            collector.path.as_posix().endswith(f) for f in TEST_FILES
        ):
            try:
                module = collector.obj  # pytest imports the module here, once
            except Exception:
                return (yield)  # pytest reports the import error as that module's
            inject(module)
        return (yield)

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        keep = [item for item in items if _ours(item)]
        drop = [item for item in items if not _ours(item)]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        missing = EXPECTED - {_where(item) for item in keep}
        if missing and not (config.option.keyword or config.option.markexpr):
            raise pytest.UsageError(
                f"hptune's samplers were not added to {sorted(missing)}: Optuna's tests changed"
            )


def download_optuna_tests(dest: Path) -> Path:
    """Extract ``tests/`` and ``pyproject.toml`` of the installed Optuna's sdist into ``dest``."""
    version = importlib.metadata.version("optuna")
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        sdist_only = ["--no-binary", ":all:", "--dest", tmp]
        subprocess.run([*pip, *sdist_only, f"optuna=={version}"], check=True)
        (sdist,) = Path(tmp).glob("optuna-*.tar.gz")
        with tarfile.open(sdist) as tar:
            top = f"optuna-{version}/"
            wanted = [
                m
                for m in tar.getmembers()
                if m.name.startswith(top + "tests/") or m.name == top + "pyproject.toml"
            ]
            if not any(m.name.startswith(top + "tests/samplers_tests/") for m in wanted):
                raise SystemExit(f"{sdist.name} has no tests/samplers_tests")
            # Only the tests: Optuna's own sources stay out of the tree pytest puts on sys.path,
            # so the installed Optuna is the one under test.
            # The "data" filter refuses links and paths out of dest (Python >= 3.10.12).
            safe: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(dest, members=wanted, **safe)
    return dest / f"optuna-{version}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optuna-tests", type=Path, help="an extracted Optuna tree with tests/")
    args, pytest_args = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="optuna-tests-") as tmp:
        root = args.optuna_tests or download_optuna_tests(Path(tmp))
        files = [str(root / f) for f in TEST_FILES]
        config = ["-c", str(root / "pyproject.toml")] if (root / "pyproject.toml").exists() else []
        options = [*config, "--rootdir", str(root), "-p", "no:cacheprovider", "-ra"]
        return int(pytest.main([*options, *files, *pytest_args], plugins=[_InjectSamplers()]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
elif __name__ == "__mp_main__":
    # A process spawned by one of Optuna's tests: its modules get our samplers as well.
    for _name in filter(None, os.environ.get(_MODULES_ENV, "").split(",")):
        inject(importlib.import_module(_name))
