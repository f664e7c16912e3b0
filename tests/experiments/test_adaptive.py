"""Adaptive replications: stop when every CI half-width is under the target, respect the cap."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mensi_sim import sweep
from mensi_sim.experiments import load_experiment
from mensi_sim.experiments.adaptive import (
    MIN_START,
    adaptive_round,
    half_width,
    next_target,
    paired_round,
)

from .helpers import SMALL, write_experiment


def test_half_width_is_the_student_t_half_width() -> None:
    from scipy import stats

    x = np.array([1.0, 2.0, 4.0, 7.0])
    expected = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert half_width(x) == pytest.approx(expected)
    assert math.isinf(half_width([1.0]))


def test_next_target_rule() -> None:
    assert next_target(10, 0.005, 0.01, 1000) == 10  # done
    assert next_target(10, 0.02, 0.01, 1000) == 20  # projection 40, at most doubling
    assert next_target(10, 0.0105, 0.01, 1000) == 12  # projection ceil(10 * 1.1025) = 12
    assert next_target(10, 0.01001, 0.01, 1000) == 11  # at least one more
    assert next_target(600, 0.02, 0.01, 1000) == 1000  # capped


def test_round_ignores_scenarios_without_spread_estimate() -> None:
    new, status = adaptive_round({"a": [0.1], "b": [0.1, 0.3]}, {"a": 2, "b": 2}, 0.01, 100)
    assert new == {"a": 2, "b": 4}
    assert not status["b"].reached


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    return load_experiment(write_experiment(tmp_path_factory.mktemp("a"), SMALL))


def test_adaptive_stops_under_the_target(small, tmp_path: Path) -> None:
    # the precision is that of the paired difference from the baseline ("slow"); its sd
    # is about 0.01 (a school or so), so 0.002 needs about 100 pairs, far more than 10
    precision = 0.002  # share of 120 schools; 1 school = 0.0083
    result = sweep(
        small, executor="serial", out=tmp_path / "res", precision=precision, max_replications=200
    )
    s = result.summary.pivot(index="replicate", columns="scenario", values="final_adoption_share")
    d = (s["fast"] - s["slow"]).dropna().to_numpy()
    assert half_width(d) <= precision
    assert result.adaptive["fast"].reached and result.adaptive["slow"].reached
    counts = result.manifest["replications_per_scenario"]
    assert counts["slow"] == counts["fast"] > MIN_START  # the baseline keeps up
    assert result.manifest["adaptive"]["target"] == "paired difference from slow"
    saved = result.manifest["adaptive"]["scenarios"]
    assert {k: v["replications"] for k, v in saved.items()} == counts


def test_adaptive_starts_from_ten(small) -> None:
    result = sweep(small, executor="serial", precision=10.0, replications=2)
    assert result.summary.groupby("scenario").size().to_dict() == {"fast": 10, "slow": 10}


def _adaptive_coverage(rng: np.random.Generator, n0: int, precision: float, skewed: bool):
    """Run the paired rule on a synthetic pair: baseline y_b, scenario y_b + d with d
    lognormal(0.5, 1) (skewed; mean e^1) or normal with the same mean and sd. Returns
    whether the final 95% paired-t interval covers the true mean difference, and the
    relative error of the final mean."""
    cap = 4000
    mu = math.exp(1.0)
    sd = math.sqrt((math.exp(1.0) - 1) * math.exp(2.0))
    base = rng.normal(0, 1, cap)
    d = rng.lognormal(0.5, 1.0, cap) if skewed else rng.normal(mu, sd, cap)
    targets = {"b": n0, "s": n0}
    while True:
        values = {
            "b": {r: base[r] for r in range(targets["b"])},
            "s": {r: base[r] + d[r] for r in range(targets["s"])},
        }
        new, _ = paired_round(values, targets, precision, cap, "b")
        if new == targets:
            break
        targets = new
    x = d[: targets["s"]]
    return abs(x.mean() - mu) <= half_width(x), x.mean() / mu - 1


def test_adaptive_coverage_on_a_skewed_outcome() -> None:
    """The final interval's coverage after adaptive stopping (precision 1.0: about 38
    replicates), 1,500 repetitions each. Measured: lognormal(0.5, 1) differences give
    0.80 from 10 replicates and 0.68 from 2 (mean biased 12% and 19% low); a fixed-size
    t interval of 36 such values covers 0.89 (the skew alone); a normal outcome gives
    about 0.94. Tolerances: 3 binomial standard errors (0.010-0.012 at 1,500) below the
    measured values; the start from 10 must beat the start from 2 by at least 0.05."""
    rng = np.random.default_rng(2026)
    runs = 1500
    skew10 = [_adaptive_coverage(rng, MIN_START, 1.0, True) for _ in range(runs)]
    skew2 = [_adaptive_coverage(rng, 2, 1.0, True) for _ in range(runs)]
    normal = [_adaptive_coverage(rng, MIN_START, 1.0, False) for _ in range(runs)]
    cov10, cov2 = np.mean([c for c, _ in skew10]), np.mean([c for c, _ in skew2])
    cov_normal = np.mean([c for c, _ in normal])
    print(
        f"ADAPTIVE COVERAGE lognormal: {cov10:.3f} from 10, {cov2:.3f} from 2; "
        f"normal {cov_normal:.3f}"
    )
    assert cov10 >= 0.80 - 3 * math.sqrt(0.8 * 0.2 / runs)
    assert cov10 >= cov2 + 0.05
    assert cov_normal >= 0.94 - 3 * math.sqrt(0.94 * 0.06 / runs)
    assert abs(np.mean([b for _, b in skew10])) < abs(np.mean([b for _, b in skew2]))


def test_adaptive_respects_the_cap(small) -> None:
    result = sweep(small, executor="serial", precision=1e-6, max_replications=7)
    assert result.summary.groupby("scenario").size().to_dict() == {"fast": 7, "slow": 7}
    assert all(s.capped and not s.reached for s in result.adaptive.values())
