"""Probabilistic sensitivity analysis: the value-of-information code against closed forms,
acceptability curves, and a PSA experiment end to end (draws paired across options)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from mensi_sim import Results, sweep
from mensi_sim.analysis.psa import (
    ceac,
    evppi,
    psa_at_budget,
    psa_sensitivity,
    psa_summary,
    ranking_changes,
)
from mensi_sim.cli import app
from mensi_sim.errors import ResultsError, ScenarioError
from mensi_sim.experiments import load_experiment
from mensi_sim.experiments.uncertainty import Prior, PSADraws
from mensi_sim.report import build_report

from .helpers import PILOT, write_experiment


def expected_max0(mu: float, sigma: float) -> float:
    """E[max(X, 0)] - max(mu, 0) for X ~ N(mu, sigma^2): the value of learning X before
    choosing between an option of net benefit X and one of 0."""
    z = mu / sigma
    return sigma * stats.norm.pdf(z) + mu * stats.norm.cdf(z) - max(mu, 0.0)


def two_option_case(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """INB of option a over the baseline = mu + b X + c Y + noise; X, Y ~ N(0, 1).

    Closed forms: EVPPI(X) = expected_max0(mu, b), EVPPI(Y) = expected_max0(mu, c),
    EVPPI(X, Y) = expected_max0(mu, sqrt(b^2 + c^2)); EVPI over the draws with the noise
    (sd s) is expected_max0(mu, sqrt(b^2 + c^2 + s^2)).
    """
    mu, b, c, s = 0.2, 1.0, 0.5, 0.5
    rng = np.random.default_rng(seed)
    x, y, eps = rng.normal(size=(3, n))
    inb = mu + b * x + c * y + s * eps
    frame = pd.DataFrame(
        {
            "option": ["none"] * n + ["a"] * n,
            "draw": np.tile(np.arange(n), 2),
            "cost": 0.0,
            "effect": np.r_[np.zeros(n), inb],
            "replicates": 1,
        }
    )
    draws = pd.DataFrame({"draw": np.arange(n), "x": x, "y": y})
    truth = {
        "x": expected_max0(mu, b),
        "y": expected_max0(mu, c),
        "all": expected_max0(mu, math.hypot(b, c)),
        "evpi": expected_max0(mu, math.sqrt(b * b + c * c + s * s)),
        "inb": inb,
    }
    return frame, draws, truth


@pytest.mark.parametrize("seed", [0, 1])
def test_evpi_and_evppi_match_the_closed_form(seed: int) -> None:
    # Tolerance: each estimate is a mean over n draws of max(g_d, 0) (g the fitted or raw
    # INB), whose standard error is at most sd(INB) / sqrt(n) = 1.2 / sqrt(4000) = 0.019;
    # 4 standard errors (two-sided false alarm 6e-5) is 0.076. The regression's own bias on
    # a linear truth is far smaller (checked: < 0.01 at n = 3000).
    n = 4000
    frame, draws, truth = two_option_case(n, seed)
    tol = 4 * float(np.std(truth["inb"])) / math.sqrt(n)
    vi = evppi(frame, draws, {"x": ["x"], "y": ["y"]}, "none", wtp=1.0).set_index("group")
    assert vi.loc["x", "evppi"] == pytest.approx(truth["x"], abs=tol)
    assert vi.loc["y", "evppi"] == pytest.approx(truth["y"], abs=tol)
    assert vi.loc["all", "evppi"] == pytest.approx(truth["all"], abs=tol)
    assert vi.loc["x", "evppi"] > vi.loc["y", "evppi"] + tol  # the larger driver is worth more
    curve = ceac(frame, [1.0])
    assert curve["evpi"].iloc[0] == pytest.approx(truth["evpi"], abs=tol)
    assert vi.loc["all", "evpi_draws"] == pytest.approx(truth["evpi"], abs=tol)


def test_ceac_and_summary_by_hand() -> None:
    # three draws, two options besides the baseline; costs and effects chosen by hand
    frame = pd.DataFrame(
        {
            "option": ["none"] * 3 + ["a"] * 3 + ["b"] * 3,
            "draw": [0, 1, 2] * 3,
            "cost": [0, 0, 0, 100, 100, 100, 300, 300, 300],
            "effect": [0, 0, 0, 2, 1, 3, 5, 1, 4],
            "replicates": 1,
        }
    ).astype({"cost": float, "effect": float})
    # at wtp 100: NB none 0; a = 100, 0, 200; b = 200, -200, 100 -> best: b, a/none tie, a
    curve = ceac(frame, [100.0]).set_index("option")
    assert curve.loc["a", "p_best"] == pytest.approx((0 + 0.5 + 1) / 3)
    assert curve.loc["none", "p_best"] == pytest.approx(0.5 / 3)
    assert curve.loc["b", "p_best"] == pytest.approx(1 / 3)
    assert curve.loc["a", "on_frontier"] and not curve.loc["b", "on_frontier"]  # E[NB] 100 vs 33
    # EVPI = E[max NB] - max E[NB] = (200 + 0 + 200) / 3 - 100
    assert curve["evpi"].iloc[0] == pytest.approx(400 / 3 - 100)
    table = psa_summary(frame, "none", 100.0).set_index("option")
    assert table.loc["a", "verdict"] == "probably best"  # P(best) 0.5 < 0.95
    assert table.loc["a", "inb"] == pytest.approx(100.0)
    assert table.loc["a", "p_inb_positive"] == pytest.approx(2 / 3)


def test_prior_errors_are_one_line() -> None:
    with pytest.raises(ValueError, match="uniform needs low, high"):
        Prior(dist="uniform", low=1.0)
    with pytest.raises(ValueError, match="mode"):
        Prior(dist="triangular", low=0.0, mode=2.0, high=1.0)
    d = PSADraws.from_priors({"p": Prior(dist="beta", a=2.0, b=5.0)}, 500, seed=3)
    again = PSADraws.from_priors({"p": Prior(dist="beta", a=2.0, b=5.0)}, 500, seed=3)
    assert np.array_equal(d.values, again.values)  # seeded
    sd = math.sqrt(2 * 5 / (7**2 * 8))  # Beta(2, 5): var = ab / ((a + b)^2 (a + b + 1))
    assert d.values.mean() == pytest.approx(2 / 7, abs=4 * sd / math.sqrt(500))  # 4 SE


PSA = f"""\
name = "psa_small"
replications = 1
root_seed = 8
steps = 20
executor = "serial"
baseline = "none"

[base]
scenario = "{PILOT}"

[[factors.scenarios]]
name = "none"
overrides = {{ "network.structure" = "none" }}

[[factors.scenarios]]
name = "placebo"
[factors.scenarios.overrides]
"network.structure" = "top_down"
"contacts.rate_in_person" = 0.0
"contacts.rate_peer" = 0.0
"training.courses" = []

[[factors.scenarios]]
name = "virtual"
overrides = {{ "network.structure" = "virtual" }}

[uncertainty]
draws = 5
wtp = 50000

[uncertainty.priors]
"adoption.exposure" = {{ dist = "uniform", low = 0.05, high = 0.3 }}
"contacts.rate_online" = {{ dist = "triangular", low = 0.1, mode = 0.25, high = 0.4 }}
"""


@pytest.fixture(scope="module")
def psa_results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    folder = tmp_path_factory.mktemp("psa")
    path = write_experiment(folder, PSA)
    return sweep(load_experiment(path), out=folder / "out")


def test_psa_points_are_paired_by_draw(psa_results: Results) -> None:
    exp = psa_results.experiment
    assert exp.options == ["none", "placebo", "virtual"] and len(exp.points) == 15
    s = psa_results.summary.merge(psa_results.psa_design(), on="scenario")
    seeds = s.pivot(index="draw", columns="option", values="seed")
    assert (seeds.nunique(axis=1) == 1).all()  # every option of a draw: the same seed
    assert seeds["none"].nunique() == 5  # draws: independent streams
    # the placebo is a top-down programme whose clusters never meet and that runs no course
    # (its ties exist, its members are compulsory, its mentors have their load): exactly
    # zero difference from the baseline in every draw
    for outcome in ("adopters_final", "capacity_gain"):
        y = s.pivot(index="draw", columns="option", values=outcome)
        assert (y["placebo"] == y["none"]).all(), outcome
    draws = psa_results.psa_draws()
    # the drawn parameters, then the dummy (drawn from its own stream, applied to nothing)
    assert list(draws.columns) == ["draw", "adoption.exposure", "contacts.rate_online", "dummy"]
    assert np.array_equal(draws.drop(columns=["draw", "dummy"]).to_numpy(), exp.draws.values)
    assert np.array_equal(draws["dummy"].to_numpy(), exp.draws.dummy)


def test_psa_compare_writes_its_tables(psa_results: Results) -> None:
    out = CliRunner().invoke(app, ["compare", str(psa_results.path)])
    assert out.exit_code == 0, out.output
    assert "P(best)" in out.output and "EVPPI" in out.output and "verdict:" in out.output
    # each EVPPI group whole in its table (80 columns), its parameters on a line of their own
    vi = out.output.split("value of information", 1)[1].split("verdict:", 1)[0]
    assert "wider than" not in vi
    evppi = pd.read_parquet(psa_results.path / "evppi.parquet")
    for group, parameters in zip(evppi["group"], evppi["parameters"], strict=True):
        assert any(line.startswith(f" {group} ") for line in vi.splitlines()), group
        if group != "all":
            assert f"  {group}: {parameters}" in vi
    back = Results.load(psa_results.path)
    assert back.is_psa and {"psa", "ceac", "evppi"} <= set(back.tables)
    table = back.tables["psa"].set_index("option")
    # the placebo adopts exactly as the baseline and pays its coordinators: a net loss in
    # every draw
    assert table.loc["placebo", "inb"] < 0.0 and table.loc["placebo", "p_inb_positive"] == 0.0
    assert back.try_comparison() is None  # no per-point comparison of 15 "scenarios"
    for name in ("ceac.png", "ceac.svg"):  # the acceptability curves and their frontier
        assert (psa_results.path / name).stat().st_size > 0


def test_psa_spec_errors(tmp_path: Path) -> None:
    clash = PSA.replace(
        '{ "network.structure" = "virtual" }',
        '{ "network.structure" = "virtual", "adoption.exposure" = 0.2 }',
    )
    path = write_experiment(tmp_path, clash)
    with pytest.raises(ScenarioError, match="also drawn in \\[uncertainty\\]"):
        load_experiment(path)
    unknown = PSA.replace('"contacts.rate_online" = {', '"contacts.nope" = {')
    path = write_experiment(tmp_path, unknown, "u.toml")
    with pytest.raises(ScenarioError, match="unknown parameter 'contacts.nope'"):
        load_experiment(path)


def _frame(effects: dict[str, list[float]], costs: dict[str, float]) -> pd.DataFrame:
    """A psa_frame by hand: per option, its effect in each draw and a constant cost."""
    rows = [
        {"option": o, "draw": d, "cost": float(costs[o]), "effect": float(e), "replicates": 1}
        for o, values in effects.items()
        for d, e in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_ranking_changes_by_hand() -> None:
    # means a 2.5 > b 1.75 > c 1.0; draw 2: b leads (a, b swapped); draw 3: b and c swapped
    frame = _frame(
        {"none": [0, 0, 0, 0], "a": [3, 3, 1, 3], "b": [2, 2, 2, 1], "c": [1, 1, 0, 2]},
        {"none": 0, "a": 1, "b": 1, "c": 1},
    )
    r = ranking_changes(frame, "none").set_index("option")
    assert list(r.index) == ["a", "b", "c"]  # the baseline is not ranked
    assert r["expected_rank"].to_dict() == {"a": 1, "b": 2, "c": 3}
    assert r["p_first"].to_dict() == {"a": 0.75, "b": 0.25, "c": 0.0}
    assert r["p_rank_as_expected"].to_dict() == {"a": 0.75, "b": 0.5, "c": 0.75}
    assert (r["p_leader_changes"] == 0.25).all() and (r["p_ranking_changes"] == 0.5).all()


def test_psa_sensitivity_finds_the_driver_and_not_the_others() -> None:
    # option a's difference = 3 x + noise (sd 0.5), x ~ U(0, 1): S1(x) = 0.75 / (0.75 + 0.25)
    # = 0.75. Tolerance: the sd of an R^2 near 0.75 from n = 400 draws is about
    # 2 R (1 - R^2) / sqrt(n) = 0.019 (normal approximation); 4 of them is 0.075.
    # z and the dummy are never read: their indices are noise, not above the floor.
    n = 400
    rng = np.random.default_rng(12)
    x, z, dummy = rng.uniform(size=(3, n))
    a = 3 * x + rng.normal(0, 0.5, n)
    frame = _frame({"none": [0.0] * n, "a": list(a)}, {"none": 0, "a": 1})
    draws = pd.DataFrame({"draw": np.arange(n), "x": x, "z": z, "dummy": dummy})
    s = psa_sensitivity(frame, draws, "none", seed=1).set_index("parameter")
    assert set(s["option"]) == {"a"} and set(s.index) == {"x", "z", "dummy"}
    assert s.loc["x", "S1"] == pytest.approx(0.75, abs=0.075)
    assert s.loc["x", "above_dummy"]
    assert not s.loc["z", "above_dummy"] and not s.loc["dummy", "above_dummy"]
    assert s.loc["z", "S1"] < 0.05 and s.loc["x", "dummy"] == s.loc["dummy", "S1"]


def test_psa_at_budget_by_hand() -> None:
    # group a: sizes a1 (cost 100, effect 1) and a2 (300, 3): a budget of 200 mixes half of
    # each (effect 2 in every draw); group b: one size b1 (150) below the budget, bought whole
    frame = _frame(
        {
            "none": [0, 0, 0, 0],
            "a1": [1, 1, 1, 1],
            "a2": [3, 3, 3, 3],
            "b1": [1, 3, 1, 1.5],
        },
        {"none": 0, "a1": 100, "a2": 300, "b1": 150},
    )
    t = psa_at_budget(frame, {"a1": "a", "a2": "a", "b1": "b"}, 200.0, "none")
    t = t.set_index("group")
    assert (t.loc["a", "lower"], t.loc["a", "upper"]) == ("a1", "a2")
    assert t.loc["a", "weight"] == pytest.approx(0.5) and t.loc["a", "spent"] == 200.0
    assert t.loc["a", "difference"] == pytest.approx(2.0)
    assert t.loc["b", "lower"] == t.loc["b", "upper"] == "b1" and t.loc["b", "spent"] == 150.0
    assert t.loc["b", "difference"] == pytest.approx(6.5 / 4)
    # a achieves the most in draws 0, 2, 3; b in draw 1: neither reaches 0.95
    assert t["p_most"].to_dict() == {"a": 0.75, "b": 0.25}
    assert t["verdict"].to_dict() == {"a": "uncertain", "b": "unlikely"}  # no "most"


def test_psa_report_and_sensitivity_commands(psa_results: Results, tmp_path: Path) -> None:
    # compare, then the report: the PSA's In brief and its Decision under uncertainty section
    out = CliRunner().invoke(app, ["compare", str(psa_results.path)])
    assert out.exit_code == 0, out.output
    html = build_report(psa_results.path, network=False)
    assert "Decision under uncertainty" in html and "P(best)" in html
    assert "Over 5 draws of the uncertain parameters" in html
    table = Results.load(psa_results.path).tables["psa"]
    best = table[table["verdict"] != ""].iloc[0]
    if best["p_best"] < 0.95:  # no firm verdict from 5 draws unless every draw agrees
        assert "below the 95% needed to call it better" in html
    assert "Expected value of partial perfect information" in html
    # sensitivity of a PSA design: indices per option against the dummy, the ranking table
    path = write_experiment(tmp_path, PSA)
    res = CliRunner().invoke(app, ["sensitivity", str(path), "--out", str(tmp_path / "sens")])
    assert res.exit_code == 0, res.output
    assert "above the dummy" in res.output and "the whole ranking in" in res.output
    back = Results.load(tmp_path / "sens")
    assert {"sensitivity", "ranking"} <= set(back.tables)
    assert set(back.tables["ranking"]["option"]) == {"placebo", "virtual"}


def test_psa_python_api(psa_results: Results) -> None:
    # Results.psa: the tables at another willingness to pay and the cash perspective
    tables = psa_results.psa(wtp=1000.0, perspective="cash")
    assert {"psa", "ceac", "evppi"} <= set(tables)
    t = tables["psa"].set_index("option")
    assert (t["perspective"] == "cash").all() and (t["wtp"] == 1000.0).all()
    assert t.loc["placebo", "inb"] < 0.0  # the same adopters as the baseline, at a cost
    frame = pd.DataFrame(psa_results.summary)
    cash = frame.groupby("scenario")["total_cash"].mean()
    total = frame.groupby("scenario")["total_cost"].mean()
    assert (cash <= total + 1e-9).all()  # cash is a part of the total cost
    with pytest.raises(ResultsError, match="no option 'nope'"):
        psa_results.psa(baseline="nope")


def test_psa_of_a_plain_sweep_is_refused(tmp_path: Path) -> None:
    plain = PSA.split("[uncertainty]")[0].replace("steps = 20", "steps = 3")
    res = sweep(load_experiment(write_experiment(tmp_path, plain)))
    assert not res.is_psa
    with pytest.raises(ResultsError, match="not a PSA"):
        res.psa()
