"""Adaptive replications: stop when every CI half-width is under the target, respect the cap."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mensi_sim import sweep
from mensi_sim.experiments import load_experiment
from mensi_sim.experiments.adaptive import adaptive_round, half_width, next_target

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
    precision = 0.004  # share of 120 schools; 1 school = 0.0083
    result = sweep(
        small, executor="serial", out=tmp_path / "res", precision=precision, max_replications=200
    )
    for name, status in result.adaptive.items():
        values = result.summary.loc[result.summary["scenario"] == name, "final_adoption_share"]
        assert len(values) == status.replications
        assert half_width(values.to_numpy()) <= precision
        assert status.reached
    counts = result.manifest["replications_per_scenario"]
    assert all(n > 3 for n in counts.values())  # more than the initial 3 were needed
    saved = result.manifest["adaptive"]["scenarios"]
    assert {k: v["replications"] for k, v in saved.items()} == counts


def test_adaptive_respects_the_cap(small) -> None:
    result = sweep(small, executor="serial", precision=1e-6, max_replications=7)
    assert result.summary.groupby("scenario").size().to_dict() == {"fast": 7, "slow": 7}
    assert all(s.capped and not s.reached for s in result.adaptive.values())
