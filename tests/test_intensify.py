"""Intensification during a search: challengers earn seeds, the lucky ones are found out."""

from __future__ import annotations

import random
from typing import Any

import pytest

import hptune
from hptune import HyperparameterSpace, RLHyperparameterTuner, create_study
from hptune.intensify import INTENSIFY_ATTR, Intensifier

# Truly: "good" is best, "lucky" is as bad as the baseline but scores high on the search's seed.
TRUTH = {"base": 0.0, "lucky": 0.0, "good": 1.0, "dud": -1.0}
SPACE = [HyperparameterSpace("c", "categorical", choices=list(TRUTH))]
SEARCH_SEED = 0


class Coin:
    """A run 'learns' (1 + truth) or not (truth) by its seed; 'lucky' learns on the search's
    seed only, 'good' on every seed, the rest on none."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, params: dict[str, Any], seed: int = SEARCH_SEED) -> float:
        c = params["c"]
        self.calls.append((c, seed))
        learned = c == "good" or (c == "lucky" and seed == SEARCH_SEED)
        return TRUTH[c] + 5.0 * learned


def run(order: list[str], objective: Any, **kwargs: Any) -> tuple[Intensifier, Any]:
    study = create_study(SPACE, "random", maximize=True, seed=0)
    for c in order:
        study.enqueue({"c": c})
    intensifier = Intensifier(objective, seed=1, **kwargs)
    study.optimize(objective, n_trials=len(order), callbacks=[intensifier])
    return intensifier, study


def test_a_lucky_challenger_is_found_out_and_a_good_one_crowned() -> None:
    objective = Coin()
    order = ["base", "lucky", "dud", "good"]
    intensifier, study = run(order, objective, max_seeds=4, baseline={"c": "base"})
    inc = intensifier.incumbent
    assert inc is not None
    assert inc.params == {"c": "good"}
    assert inc.scores == (6.0, 6.0, 6.0)
    assert inc.mean == 6.0
    # "lucky" beat the baseline on the search's seed, then tied it on the fresh ones: a tie
    # races on, and with every seed run a tie keeps the incumbent.
    assert any("trial 1 dropped after 2 fresh seeds" in n for n in intensifier.notes)
    # "dud" was not better on the search's seed: it cost nothing.
    assert not [s for c, s in objective.calls if c == "dud" and s != SEARCH_SEED]
    # The baseline earned two fresh seeds at the first challenger and one at the next; each
    # challenger ran the baseline's fresh seeds until it fell behind or had them all.
    extra = [(c, s) for c, s in objective.calls if s != SEARCH_SEED]
    assert [c for c, _ in extra] == [
        "base",
        "base",
        "lucky",
        "lucky",
        "base",
        "good",
        "good",
        "good",
    ]
    assert intensifier.n_evaluations == len(extra) == 8
    # The same seed sequence for every config: paired comparisons.
    assert {s for c, s in extra if c == "good"} == {s for c, s in extra if c == "base"}
    # Each re-evaluation is a trial of the study, so the sampler models it.
    again = [t for t in study.trials if INTENSIFY_ATTR in t.user_attrs]
    assert [(t.params["c"], t.user_attrs[INTENSIFY_ATTR]) for t in again] == [
        ("base", 1),
        ("base", 2),
        ("lucky", 1),
        ("lucky", 2),
        ("base", 3),
        ("good", 1),
        ("good", 2),
        ("good", 3),
    ]
    report = intensifier.report(maximize=True)
    assert report.robust is not None
    assert report.robust.params == {"c": "good"}
    assert report.n_evaluations == 8
    assert "good" in report.table()


def test_the_search_observation_only_admits_a_challenger() -> None:
    # "lucky"'s 5 on the search's seed is why it was picked; counted in its mean, (5 + 0) / 2
    # would beat the incumbent's (0 + 0) / 2. On the fresh seed alone it ties, and is dropped.
    objective = Coin()
    intensifier, _ = run(["base", "lucky", "good"], objective, max_seeds=4)
    assert any("trial 1 dropped after 1 fresh seeds" in n for n in intensifier.notes)
    inc = intensifier.incumbent
    assert inc is not None
    assert inc.params == {"c": "good"}
    assert inc.scores == (6.0, 6.0)
    # With one seed in all there are no fresh ones: the search's observations decide.
    single, _ = run(["base", "lucky"], Coin(), max_seeds=1)
    assert single.n_evaluations == 0
    assert single.incumbent is not None
    assert single.incumbent.params == {"c": "lucky"}
    assert single.incumbent.scores == (5.0,)


def run_table(
    values: dict[str, tuple[float, ...]], maximize: bool = True, **kwargs: Any
) -> Intensifier:
    """Each config of ``values`` once, in order, intensified: ``values[c][i]`` is config
    ``c``'s score on seed index ``i`` (0: the search's seed)."""
    probe = Intensifier(Coin(), seed=1)
    index = {probe.seed_of(i): i for i in range(1, max(map(len, values.values())))}
    space = [HyperparameterSpace("c", "categorical", choices=list(values))]

    def objective(params: dict[str, Any], seed: int = SEARCH_SEED) -> float:
        return values[params["c"]][index.get(seed, 0)]

    study = create_study(space, "random", maximize=maximize, seed=0)
    for c in values:
        study.enqueue({"c": c})
    intensifier = Intensifier(objective, seed=1, **kwargs)
    study.optimize(objective, n_trials=len(values), callbacks=[intensifier])
    return intensifier


def test_the_bar_is_the_incumbents_fresh_mean_not_its_lucky_draw() -> None:
    # "streak" was crowned on a search observation (10) above what it scores on fresh seeds
    # (3); "steady" scores 5 on the search's seed and 6 on fresh ones. Measured against the
    # crowned incumbent's own 10 it would never be admitted; against its fresh mean it is, and
    # it wins.
    table = {"base": (0.0, 0.0, 0.0), "streak": (10.0, 3.0, 3.0), "steady": (5.0, 6.0, 6.0)}
    intensifier = run_table(table, max_seeds=3)
    assert any("trial 1 is the incumbent" in n for n in intensifier.notes), intensifier.notes
    inc = intensifier.incumbent
    assert inc is not None
    assert inc.params == {"c": "steady"}
    assert inc.scores == (6.0, 6.0)
    # Minimising, the bar falls the other way: a crowned incumbent's lucky low draw is not it.
    flipped = {c: tuple(-v for v in row) for c, row in table.items()}
    intensifier = run_table(flipped, maximize=False, max_seeds=3)
    assert intensifier.incumbent is not None
    assert intensifier.incumbent.params == {"c": "steady"}


def test_a_tie_races_on_and_a_final_tie_keeps_the_incumbent() -> None:
    # Returns with a floor tie often. "flat" ties the incumbent on every fresh seed: it is not
    # crowned (no plateau walk). "late" ties on the first fresh seed and leads on the second:
    # crowned; dropped at the tie, it would never have run the second.
    table = {"base": (0.0, 0.0, 0.0), "flat": (5.0, 0.0, 0.0), "late": (5.0, 0.0, 4.0)}
    intensifier = run_table(table, max_seeds=4)
    assert "trial 1 dropped after 1 fresh seeds (0 vs 0)" in intensifier.notes
    inc = intensifier.incumbent
    assert inc is not None
    assert inc.params == {"c": "late"}
    assert inc.scores == (0.0, 4.0)


@pytest.mark.parametrize(("third", "crowned"), [(4.0, True), (-1.0, False)])
def test_a_lead_within_the_noise_earns_one_more_seed(third: float, crowned: bool) -> None:
    # Against the baseline, "wobbly" leads by 4 and -1 on its first two fresh seeds: a gain of
    # 1.5 within a standard error of 2.5. It races on to the third seed (the baseline runs it
    # too) instead of being kept out: with 4 there, the gain (2.33) clears its standard error
    # (1.67) and it is crowned; with -1, it is kept out after three.
    table = {"base": (0.0, 0.0, 0.0, 0.0), "wobbly": (5.0, 4.0, -1.0, third)}
    intensifier = run_table(table, max_seeds=4, baseline={"c": "base"})
    assert intensifier.n_evaluations == 6
    inc = intensifier.incumbent
    assert inc is not None
    assert (inc.params == {"c": "wobbly"}) is crowned
    assert len(inc.scores) == 3
    if not crowned:
        assert intensifier.notes[-1].startswith("trial 1 kept out after 3 fresh seeds")


def test_the_baseline_stays_without_evidence() -> None:
    # Every config truly equals the baseline; noise makes challengers look better.
    def flat(params: dict[str, Any], seed: int = SEARCH_SEED) -> float:
        bonus = 3.0 if params["c"] != "base" and seed == SEARCH_SEED else 0.0
        return bonus + random.Random(f"{params['c']}-{seed}").gauss(0.0, 1.0)

    kept = {1.0: 0, 0.0: 0}
    for s in range(40):
        for z in kept:
            study = create_study(SPACE, "random", maximize=True, seed=s)
            for c in ["base", "lucky", "good", "dud"]:
                study.enqueue({"c": c})
            intensifier = Intensifier(
                flat, seed=s, max_seeds=4, baseline={"c": "base"}, baseline_z=z
            )
            study.optimize(flat, n_trials=4, callbacks=[intensifier])
            assert intensifier.incumbent is not None
            kept[z] += intensifier.incumbent.label == "baseline"
    # Over 200 seeds the baseline stays 59% of the time with the guard, 37% on plain means.
    assert kept[1.0] >= 18, kept
    assert kept[0.0] <= 20, kept
    assert kept[1.0] > kept[0.0] + 4, kept
    intensifier, _ = run(["base", "good"], Coin(), max_seeds=4, baseline={"c": "base"})
    assert intensifier.incumbent is not None
    assert intensifier.incumbent.params == {"c": "good"}


def test_stop_when_ends_the_re_evaluations() -> None:
    objective = Coin()
    budget = {"left": 2}

    def spent() -> bool:
        budget["left"] -= 1
        return budget["left"] < 0

    intensifier, _ = run(["base", "good"], objective, max_seeds=4, stop_when=spent)
    # Two re-evaluations (the incumbent's first fresh seed, then good's), then the budget is
    # out: "good" has the incumbent's fresh seed and leads on it, so it is crowned.
    assert intensifier.n_evaluations == 2
    assert intensifier.incumbent is not None
    assert intensifier.incumbent.params == {"c": "good"}
    budget["left"] = 0
    late, _ = run(["base", "lucky"], Coin(), max_seeds=4, stop_when=spent)
    assert late.incumbent is not None
    assert late.incumbent.label == "trial 0"
    assert late.n_evaluations == 0
    assert late.notes == ["trial 1 left undecided: budget spent"]


@pytest.mark.parametrize("limit", [6, 7])
def test_a_challenger_caught_by_the_budget_is_decided_on_two_fresh_seeds_or_more(
    limit: int,
) -> None:
    # Re-evaluations in order: base 1, base 2, lucky 1 and 2 (ties, then dropped), base 3,
    # good 1, good 2, good 3. A budget of 7 stops "good" with 2 of the baseline's 3 fresh
    # seeds, on which it leads by 6 every time: crowned. A budget of 6 leaves it 1: one seed
    # decides nothing. ("good" is trial 6: the re-evaluations before it are trials too.)
    objective = Coin()

    def spent() -> bool:
        return sum(s != SEARCH_SEED for _, s in objective.calls) >= limit

    intensifier, _ = run(
        ["base", "lucky", "good"], objective, max_seeds=4, baseline={"c": "base"}, stop_when=spent
    )
    assert intensifier.n_evaluations == limit
    inc = intensifier.incumbent
    assert inc is not None
    if limit == 7:
        assert inc.params == {"c": "good"}
        assert inc.scores == (6.0, 6.0)
        assert intensifier.notes[-1].startswith(
            "trial 6 is the incumbent after 2 fresh seeds of 3 (budget spent)"
        )
    else:
        assert inc.label == "baseline"
        assert intensifier.notes[-1] == "trial 6 left undecided: budget spent"


def test_a_failing_re_evaluation_counts_as_the_worst_score_and_is_recorded() -> None:
    def breaks(params: dict[str, Any], seed: int = SEARCH_SEED) -> float:
        if params["c"] == "lucky" and seed != SEARCH_SEED:
            raise RuntimeError("diverged")
        return {"base": 0.0, "lucky": 2.0}.get(params["c"], -1.0)

    intensifier, study = run(["base", "lucky"], breaks, max_seeds=2)
    assert intensifier.incumbent is not None
    assert intensifier.incumbent.params == {"c": "base"}
    failed = [t for t in study.trials if t.state is hptune.TrialState.FAILED]
    assert len(failed) == 1
    assert "diverged" in failed[0].user_attrs["error"]
    # The failed run scored the worst value the study had seen (the baseline's 0), not nothing.
    report = intensifier.report(maximize=True)
    lucky = next(e for e in report.entries if e.params == {"c": "lucky"})
    assert lucky.scores == (0.0,)
    assert any("trial 1 dropped after 1 fresh seeds" in n for n in intensifier.notes)


def test_bad_arguments_name_the_parameter() -> None:
    with pytest.raises(hptune.InvalidArgumentError, match="max_seeds must be a positive int"):
        Intensifier(Coin(), max_seeds=0)
    with pytest.raises(hptune.InvalidArgumentError, match="seed must be an int"):
        Intensifier(Coin(), seed=-1)
    with pytest.raises(hptune.InvalidArgumentError, match="baseline must be a dict"):
        Intensifier(Coin(), baseline=[1])  # type: ignore[arg-type]
    with pytest.raises(hptune.InvalidArgumentError, match="baseline_z must be a finite"):
        Intensifier(Coin(), baseline_z=float("inf"))
    with pytest.raises(hptune.InvalidArgumentError, match="objective_function must be callable"):
        Intensifier(3)  # type: ignore[arg-type]
    with pytest.raises(hptune.InvalidArgumentError, match="stop_when must be callable"):
        Intensifier(Coin(), stop_when=5)  # type: ignore[arg-type]


class NoisyPPO:
    """A noisy RL-like objective over the ppo preset: a smooth score plus seed noise."""

    noisy = True

    def __init__(self) -> None:
        self.timesteps_used = 0

    def __call__(self, params: dict[str, Any], seed: int | None = None) -> float:
        self.timesteps_used += 1_000
        score = -abs(float(params["learning_rate"]) - 3e-4) * 1e3
        return score + random.Random(f"{sorted(params.items())}-{seed}").gauss(0.0, 0.5)


def test_tune_rl_model_intensifies_within_the_timestep_budget() -> None:
    objective = NoisyPPO()
    result = RLHyperparameterTuner("intensify").tune_rl_model(
        "ppo",
        objective,
        method="tpe",
        n_trials=200,
        max_timesteps=30_000,
        selection="intensify",
        selection_seeds=3,
        seed=4,
        show_progress=False,
    )
    # Re-evaluations count towards the budget: the search stops within one trial of it.
    assert 30_000 <= objective.timesteps_used <= 31_000
    report = result.metadata["selection"]
    assert report.n_evaluations > 0
    again = [t for t in result.trials if INTENSIFY_ATTR in t.user_attrs]
    assert len(again) == report.n_evaluations
    # The chosen config is the incumbent, scored by its mean over its seeds.
    assert report.robust is not None
    assert result.best_config.params == report.robust.params
    assert result.best_config.score == pytest.approx(report.robust.mean)
    assert "best_observed" in result.metadata
    with pytest.raises(hptune.InvalidArgumentError, match="intensify"):
        RLHyperparameterTuner("x").tune_rl_model("ppo", objective, n_trials=1, selection="smac")


@pytest.mark.parametrize(
    ("selection", "chosen_by", "fresh_seeds"),
    [("auto", "intensification", 3), ("race", "best mean after racing", 6)],
)
def test_a_noisy_objective_is_intensified_by_default(
    selection: str, chosen_by: str, fresh_seeds: int
) -> None:
    # "auto" intensifies on up to 4 seeds per config (the search's and 3 fresh ones); the race
    # is still there by name, on 6 fresh seeds.
    result = RLHyperparameterTuner("default").tune_rl_model(
        "ppo",
        NoisyPPO(),
        method="random",
        n_trials=12,
        selection=selection,
        seed=1,
        show_progress=False,
    )
    report = result.metadata["selection"]
    assert report.chosen_by.startswith(chosen_by)
    assert len(report.seeds) == fresh_seeds
    # Without the noisy flag "auto" keeps the best observation: no selection at all.
    plain = RLHyperparameterTuner("plain").tune_rl_model(
        "ppo",
        lambda p: -abs(p["gamma"] - 0.97),
        method="random",
        n_trials=5,
        seed=1,
        show_progress=False,
    )
    assert "selection" not in plain.metadata
