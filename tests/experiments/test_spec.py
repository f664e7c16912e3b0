"""Experiment files: one-line validation errors, the shipped files, and a smoke run of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from mensi_sim import sweep
from mensi_sim.errors import ScenarioError
from mensi_sim.experiments import load_experiment

from .helpers import EXPERIMENTS, PILOT, SMALL, write_experiment

SHIPPED = sorted(EXPERIMENTS.glob("*.toml"))


def error_of(tmp_path: Path, text: str) -> str:
    path = write_experiment(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(str(path)), message
    return message


def test_small_experiment_expands_in_order(tmp_path: Path) -> None:
    exp = load_experiment(write_experiment(tmp_path, SMALL))
    assert [p.name for p in exp.points] == ["slow", "fast"]
    assert exp.points[1].scenario.adoption.p == 0.004
    assert exp.steps == 10
    assert all(p.scenario.name == p.name for p in exp.points)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "replicates = 4\n" + SMALL)
    assert ": replicates: unknown key" in msg


def test_bad_range_names_field_and_range(tmp_path: Path) -> None:
    msg = error_of(tmp_path, SMALL.replace("replications = 3", "replications = 0"))
    assert "replications" in msg and "1 <= value" in msg


def test_override_out_of_range_names_parameter_and_range(tmp_path: Path) -> None:
    msg = error_of(tmp_path, SMALL.replace('"adoption.p" = 0.004', '"adoption.p" = 2.5'))
    assert "factors.policies.fast.overrides" in msg  # scenarios is the old name of policies
    assert "adoption.p" in msg and "0 <= value <= 1" in msg


def test_unknown_override_parameter(tmp_path: Path) -> None:
    msg = error_of(tmp_path, SMALL.replace('"adoption.p" = 0.004', '"adoption.pp" = 0.1'))
    assert "unknown parameter 'adoption.pp'" in msg


def test_missing_base_scenario_file(tmp_path: Path) -> None:
    msg = error_of(tmp_path, SMALL.replace(str(PILOT), "nowhere.toml"))
    assert "base.scenario" in msg and "not found" in msg


def test_missing_base_table(tmp_path: Path) -> None:
    text = SMALL.replace(f'[base]\nscenario = "{PILOT}"\n', "")
    msg = error_of(tmp_path, text)
    assert "base: required key missing" in msg


def test_bad_sample_range_and_sobol_size(tmp_path: Path) -> None:
    head = SMALL.split("[[factors.scenarios]]")[0]
    ranges = '[factors.ranges]\n"adoption.p" = [0.0, 3.0]\n'
    sample = '[[factors.samples]]\nmethod = "sobol"\nn = 8\n'
    msg = error_of(tmp_path, head + ranges + sample)
    assert "factors.uncertainties: adoption.p" in msg and "0 <= value <= 1" in msg
    msg = error_of(tmp_path, head + ranges.replace("3.0", "0.1") + sample.replace("8", "6"))
    assert "factors.samples.0: Value error, n: 6 is not a power of 2" in msg


def test_unknown_outcome_and_executor(tmp_path: Path) -> None:
    msg = error_of(tmp_path, 'outcomes = ["adoption"]\n' + SMALL)
    assert "outcomes: Value error, unknown outcome 'adoption'" in msg
    msg = error_of(tmp_path, SMALL.replace('"serial"', '"threads"'))
    assert "executor" in msg and "tcp://host:port" in msg


def test_grid_crossed_with_named_scenarios(tmp_path: Path) -> None:
    head = SMALL.split("[[factors.scenarios]]")[0]
    grid = '[factors.grid]\n"network.structure" = ["none", "virtual"]\n"learning.rate" = [0.1]\n'
    exp = load_experiment(
        write_experiment(
            tmp_path,
            head + grid + "[[factors.scenarios]]" + SMALL.split("[[factors.scenarios]]", 1)[1],
        )
    )
    assert [p.name for p in exp.points] == [
        "none/rate=0.1/slow",
        "none/rate=0.1/fast",
        "virtual/rate=0.1/slow",
        "virtual/rate=0.1/fast",
    ]
    assert exp.points[2].scenario.network.structure == "virtual"


def test_ema_names_and_first_names_give_the_same_design(tmp_path: Path) -> None:
    """[factors] takes EMA Workbench's words -- levers (decided, a full factorial),
    policies (named settings), uncertainties (not controlled, sampled) -- or the names
    they had first (grid, scenarios, ranges): the same design either way."""
    head = SMALL.split("[[factors.scenarios]]")[0]
    named = "[[factors.scenarios]]" + SMALL.split("[[factors.scenarios]]", 1)[1]
    grid = '[factors.grid]\n"network.structure" = ["none", "virtual"]\n'
    first = load_experiment(write_experiment(tmp_path, head + grid + named, "first.toml"))
    ema_text = (
        head + grid.replace(".grid]", ".levers]") + named.replace(".scenarios]", ".policies]")
    )
    ema = load_experiment(write_experiment(tmp_path, ema_text, "ema.toml"))
    assert [p.name for p in ema.points] == [p.name for p in first.points]
    assert ema.hash == first.hash and len(ema.points) == 4

    sample = '[[factors.samples]]\nmethod = "lhs"\nn = 3\n'
    ranges = '[factors.ranges]\n"adoption.p" = [0.001, 0.01]\n'
    old = load_experiment(write_experiment(tmp_path, head + ranges + sample, "old.toml"))
    text = head + ranges.replace(".ranges]", ".uncertainties]") + sample
    new = load_experiment(write_experiment(tmp_path, text, "new.toml"))
    assert new.hash == old.hash and len(new.points) == 3
    assert new.spec.factors.ranges == {"adoption.p": [0.001, 0.01]}

    both = head + ranges + ranges.replace(".ranges]", ".uncertainties]") + sample
    msg = error_of(tmp_path, both)
    assert "factors: Value error, uncertainties and ranges are one key" in msg
    msg = error_of(tmp_path, head + grid + named.replace(".scenarios]", ".policies]", 1) + named)
    assert "policies and scenarios are one key" in msg


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_experiment_validates(path: Path) -> None:
    exp = load_experiment(path)
    assert exp.points and len({p.name for p in exp.points}) == len(exp.points)


def test_the_four_required_experiments_are_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"structures", "incentives", "budget", "sensitivity"} <= names
    assert {"structures_psa", "budget_psa"} <= names
    # the sensitivity experiment: every structure, on draws of the ranking parameters
    sens = load_experiment(EXPERIMENTS / "sensitivity.toml")
    assert set(sens.options) == {"none", "top_down", "bottom_up", "virtual", "hybrid"}
    ranking = {
        "contacts.rate_online",
        "contacts.strength_online",
        "contacts.rate_in_person",
        "contacts.hours_in_person",
        "contacts.hours_online",
        "adoption.exposure",
        "adoption.readiness_midpoint",
        "adoption.readiness_slope",
        "programme.sustain_prob",
        "contacts.rate_community",
        "contacts.strength_community",
        "learning.rate",
        "learning.gamma",
        "engagement.target_voluntary",
        "engagement.target_compulsory",
        "adoption.initial_share",
    }  # the numeric parameters docs/ASSUMPTIONS.md tables as "(ranking)" that can move
    # adopters, and the meeting hours (cost only, a check at the noise floor)
    assert set(sens.draws.names) == ranking
    # the PSAs draw the same and the coordination prices (cost only: sensitivity reads
    # adopters, which they cannot move)
    coordination = {f"costs.coordination_{s}" for s in ("top_down", "bottom_up", "virtual")}
    for name in ("structures_psa", "budget_psa"):
        psa = load_experiment(EXPERIMENTS / f"{name}.toml")
        assert set(psa.draws.names) == ranking | coordination, name


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_experiment_runs_shrunk(path: Path) -> None:
    """Every shipped experiment, 3 weeks x 2 replications (samples of size 4), runs cleanly."""
    exp = load_experiment(path)
    small = exp.with_changes(
        steps=3,
        replications=2,
        sample_n=4 if exp.spec.factors.samples else None,
        draws=2 if exp.spec.uncertainty is not None else None,
    )
    result = sweep(small, executor="serial")
    assert result.failures.empty, result.failures["error"].iloc[0] if len(result.failures) else ""
    assert len(result.summary) == 2 * len(small.points)
    assert set(result.summary["scenario"]) == {p.name for p in small.points}
