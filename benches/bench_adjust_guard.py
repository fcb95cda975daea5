"""The adjustment service's guard: how often it applies equal, worse and better candidates.

Not a test. Each case draws ``validation_repeats`` scores for the candidate and for the current
hyperparameters many times and counts how often ``ValidationPolicy.judge`` would apply the
candidate, for the earlier default (5 repeats, Welch's test alone at 0.05), the same with the
robust test, and today's default (8 repeats, Welch's and the rank-sum test must both give p
below 0.025):

    python benches/bench_adjust_guard.py --runs 20000

Noise is normal or heavy-tailed (Student's t with 2 degrees of freedom, scaled to the same
interquartile range); ``shift`` is the candidate's true advantage in units of the noise's
standard deviation (normal) or of the matching scale (t).
"""

from __future__ import annotations

import argparse
import math
import random

from hptune.adjust import ValidationPolicy

CASES = (
    ("equal", "normal", 0.0),
    ("equal", "t2", 0.0),
    ("worse", "t2", -0.2),
    ("worse", "t2", -0.5),
    ("better", "normal", 1.0),
    ("better", "t2", 1.0),
    ("better", "normal", 2.0),
)


def draw(rng: random.Random, noise: str) -> float:
    z = rng.gauss(0.0, 1.0)
    if noise == "normal":
        return z
    chi2 = rng.gauss(0.0, 1.0) ** 2 + rng.gauss(0.0, 1.0) ** 2
    return z / math.sqrt(chi2 / 2.0) * (0.6745 / 0.8165)  # t(2), normal's IQR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    policies = {
        "welch, 5, 0.05 (earlier default)": ValidationPolicy(
            validation_repeats=5, significance=0.05, validation_test="welch"
        ),
        "robust, 5, 0.05": ValidationPolicy(validation_repeats=5, significance=0.05),
        "robust, 8, 0.025 (default)": ValidationPolicy(),
    }
    print(f"{args.runs} runs per case; applied share per guard (test, repeats, significance)")
    print("| candidate | noise | shift | " + " | ".join(policies) + " |")
    print("|---|---|---|" + "---|" * len(policies))
    for label, noise, shift in CASES:
        applied = dict.fromkeys(policies, 0)
        for name, policy in policies.items():
            n = policy.validation_repeats
            rng = random.Random(f"{args.seed}-{label}-{noise}-{shift}")
            for _ in range(args.runs):
                cand = [shift + draw(rng, noise) for _ in range(n)]
                cur = [draw(rng, noise) for _ in range(n)]
                applied[name] += policy.judge(cand, cur)[2]
        rates = " | ".join(f"{100 * applied[n] / args.runs:.1f}%" for n in policies)
        print(f"| {label} | {noise} | {shift:+.1f} | {rates} |", flush=True)


if __name__ == "__main__":
    main()
