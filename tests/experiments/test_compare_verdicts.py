"""The verdicts `compare` prints, checked by hand on real sweeps of the shipped budget
experiment (shortened to 52 weeks): the fixed budget's leader against its runner-up, the
scheme named as dominating, firmness with few replicates."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from mensi_sim import SweepOptions, sweep
from mensi_sim.analysis.verdicts import (
    MIN_FIRM_REPLICATES,
    VERDICT_PROBABILITY,
    budget_leading,
    distinct_resamples,
    firmness,
    leading_options,
)
from mensi_sim.cli import app
from mensi_sim.experiments import load_experiment
from mensi_sim.report import groups
from mensi_sim.results import Results

from .helpers import EXPERIMENTS, PILOT, write_experiment

WIDE = {"COLUMNS": "400"}  # one table per table: rows are read line by line


def _swept(folder: Path, replications: int) -> tuple[Results, str]:
    exp = load_experiment(EXPERIMENTS / "budget.toml").with_changes(steps=52)
    out = folder / f"budget-r{replications}"
    sweep(exp, SweepOptions(executor="serial", replications=replications, out=out))
    compared = CliRunner().invoke(app, ["compare", str(out)], env=WIDE)
    assert compared.exit_code == 0, compared.output
    return Results.load(out), compared.output


@pytest.fixture(scope="module")
def budget8(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, str]:
    """The budget experiment, 8 replicates: enough for firm verdicts."""
    return _swept(tmp_path_factory.mktemp("budget8"), 8)


@pytest.fixture(scope="module")
def budget3(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, str]:
    """The budget experiment, 3 replicates: 10 distinct bootstrap resamples."""
    return _swept(tmp_path_factory.mktemp("budget3"), 3)


def _ci(d: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% paired-t interval, by scipy."""
    if np.all(d == d[0]):
        return float(d[0]), float(d[0]), float(d[0])
    low, high = stats.t.interval(0.95, d.size - 1, loc=d.mean(), scale=stats.sem(d))
    return float(d.mean()), float(low), float(high)


def _values(summary: pd.DataFrame, name: str, column: str) -> pd.Series:
    return summary[summary["scenario"] == name].set_index("replicate")[column].sort_index()


def _line(output: str, start: str, after: str = "") -> str:
    """The first line starting with ``start`` (spaces aside), after the text ``after``."""
    text = output[output.index(after) :] if after else output
    return next(line for line in text.splitlines() if line.lstrip().startswith(start))


# --- 1. the fixed budget's verdict ---------------------------------------------------------


@pytest.mark.parametrize("fixture", ["budget8", "budget3"])
def test_the_fixed_budget_names_its_leader_against_the_runner_up(fixture, request) -> None:
    res, output = request.getfixturevalue(fixture)
    ab = res.tables["budget"]
    rows = ab[ab["outcome"] == "adopters_final"].sort_values("difference", ascending=False)
    top, second = rows.iloc[0], rows.iloc[1]
    s = res.summary

    def mix(r: pd.Series) -> pd.Series:  # the group's adopters at the budget, by replicate
        w = float(r["weight"])
        return (1 - w) * _values(s, r["lower"], "adopters_final") + w * _values(
            s, r["upper"], "adopters_final"
        )

    d, low, high = _ci((mix(top) - mix(second)).dropna().to_numpy(float))
    verdict = _line(output, "verdict: at a budget of €400,000, ")
    gap = f"{d:+.1f} [{low:+.1f}, {high:+.1f}]"
    if low > 0:
        assert (
            f"{top['group']} gives the most additional adopting schools, {gap} more than "
            f"{second['group']} (paired 95% CI" in verdict
        )
    else:
        assert f"{top['group']} and {second['group']} are not distinguishable" in verdict
        assert f"(difference {gap}, paired 95% CI includes 0): no winner can be named" in verdict
    for r in (top, second):  # a group that cannot spend the budget says what it spends
        if r["spent"] < 400_000:
            assert f"{r['group']} spends €{r['spent']:,.0f}, its largest size" in verdict
    # the verdict follows the budget table
    assert output.index("at a budget of €400,000 per run") < output.index(verdict)


def test_equal_mixes_at_a_budget_are_not_distinguishable(budget8) -> None:
    res, _ = budget8
    one = {"outcome": "adopters_final", "budget": 1.0, "spent": 1.0, "n_pairs": 8}
    same = {"lower": "virtual-k2", "upper": "virtual-k3", "weight": 0.25}
    table = pd.DataFrame(
        [
            {**one, **same, "group": "a", "difference": 1.0},
            {**one, **same, "group": "b", "difference": 1.0},
        ]
    )
    lead = budget_leading(res.summary, table)
    assert (lead.leader, lead.runner_up, lead.difference) == ("a", "b", 0.0)
    assert not lead.distinguishable and "not distinguishable" in lead.sentence()


def test_the_report_shows_the_fixed_budget_and_its_verdict(budget8) -> None:
    from mensi_sim.report import comparisons

    res, output = budget8
    html = comparisons.comparison(Results.load(res.path), "")
    assert "At a fixed budget of €400,000" in html
    verdict = _line(output, "verdict: at a budget of €400,000, ").removeprefix("verdict: ")
    plain = verdict.replace("€", "&euro;")
    assert verdict[:1].upper() + verdict[1:] in html or plain in html
    for group in res.tables["budget"]["group"].unique():
        assert f"<td>{group}</td>" in html


# --- 2. the scheme named as dominating, and firmness -----------------------------------------


def _significantly_dominates(s: pd.DataFrame, other: str, name: str) -> bool:
    """``other`` costs less and achieves more than ``name``, each difference that is not 0
    in every replicate with its 95% interval on its side (by hand)."""
    flags = []
    for column, sign in (("total_cost", +1), ("adopters_final", -1)):
        d = (_values(s, name, column) - _values(s, other, column)).dropna().to_numpy(float)
        if np.all(d == 0):
            continue
        _, low, high = _ci(d)
        flags.append(low > 0 if sign > 0 else high < 0)
    return bool(flags) and all(flags)


@pytest.mark.parametrize("fixture", ["budget8", "budget3"])
def test_a_dominated_scheme_names_a_significant_dominator_when_there_is_one(
    fixture, request
) -> None:
    res, output = request.getfixturevalue(fixture)
    s = res.summary
    t = res.tables["comparison"].set_index("scenario")
    means = s.groupby("scenario")[["total_cost", "adopters_final"]].mean()
    switched = 0
    for name, r in t[t["frontier"].str.startswith("dominated by ")].iterrows():
        c, e = means.loc[name]
        over = [
            m
            for m, (cm, em) in means.iterrows()
            if m != name and cm <= c and em >= e and (cm < c or em > e)
        ]
        named = r["frontier"].removeprefix("dominated by ")
        assert named in over
        significant = [m for m in over if _significantly_dominates(s, m, name)]
        assert bool(r["frontier_dominance_significant"]) == bool(significant)
        line = _line(output, f"{name} ", after="cost-effectiveness (")
        if significant:
            assert named in significant
            assert f"dominated by {named} (significant) (P " in line
        else:  # the probability is of "dominated", not of this pair
            assert f"dominated (P {r['p_status']:.2f}, " in line
            assert f"by {named} on the means, not significant" in line
        cheapest = min(
            over, key=lambda m: (means.loc[m, "total_cost"], -means.loc[m, "adopters_final"])
        )
        switched += bool(significant) and cheapest not in significant
    # what the audit found: the cheapest dominator on the means is not a significant one
    assert switched, "no scheme whose cheapest dominator is not significant: case not covered"


def test_few_replicates_are_never_firm(budget3, budget8) -> None:
    _, few = budget3
    header = _line(few, "cost-effectiveness (")
    assert (
        f"firm at >= 0.95 with at least {MIN_FIRM_REPLICATES} replicates; 3 replicates have "
        "only 10 distinct resamples" in header
    )
    table = few[few.index(header) : few.index("verdict: ")]
    assert "P 1.00, too few replicates" in table
    assert "firm)" not in table
    _, enough = budget8
    assert "P 1.00, firm)" in enough


def test_the_minimum_for_firm_comes_from_the_sign_of_every_resample() -> None:
    # distinct resamples of r replicates: the multisets of size r, C(2r - 1, r)
    for r in (1, 2, 3, 4, 6):
        multisets = set(itertools.combinations_with_replacement(range(r), r))
        assert distinct_resamples(r) == len(multisets) == math.comb(2 * r - 1, r)
    assert distinct_resamples(3) == 10
    # with no difference at all, all r differences share a sign (every resample agrees,
    # P = 1) with probability 2^(1 - r); firm needs that at most 1 - 0.95
    r = MIN_FIRM_REPLICATES
    assert 2.0 ** (1 - r) <= 1 - VERDICT_PROBABILITY < 2.0 ** (2 - r)
    assert r == 6
    assert firmness(1.0, 5) == "too few replicates" and firmness(1.0, 6) == "firm"
    assert firmness(1.0) == "firm"  # over parameter draws: no replicate rule
    assert firmness(0.7, 3) == "uncertain"


# --- 3. two leading arms identical in every replicate ----------------------------------------

# Virtual clusters with funding or with a reward per adopting school: both raise the
# engagement target by the same amount (docs/ASSUMPTIONS.md 6.4), so the runs are the same
# but for what is paid; "copy" repeats "virtual_reward" exactly, cost included.
IDENTICAL = f"""\
name = "identical"
replications = 5
root_seed = 3
steps = 40
executor = "serial"
baseline = "none"

[base]
scenario = "{PILOT}"
overrides = {{ "network.structure" = "virtual" }}

[[factors.policies]]
name = "none"
overrides = {{ "network.structure" = "none", incentives = [] }}

[[factors.policies]]
name = "virtual_funding"
[factors.policies.overrides]
incentives = [{{ type = "funding", target = "participants", max_effect = 0.2 }}]

[[factors.policies]]
name = "virtual_reward"
[factors.policies.overrides]
incentives = [{{ type = "adoption_reward", target = "participants", max_effect = 0.2 }}]
"""


@pytest.fixture(scope="module")
def identical(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, str]:
    folder = tmp_path_factory.mktemp("identical")
    path = write_experiment(folder, IDENTICAL)
    out = folder / "out"
    sweep(load_experiment(path), SweepOptions(out=out))
    compared = CliRunner().invoke(app, ["compare", str(out)], env=WIDE)
    assert compared.exit_code == 0, compared.output
    return Results.load(out), compared.output


def test_identical_leaders_say_so_and_the_cheaper_is_preferred_on_cost(identical) -> None:
    res, output = identical
    s = res.summary
    a, b = "virtual_funding", "virtual_reward"
    # by hand: every outcome that is not a cost is the same in every replicate
    for c in ("adopters_final", "final_adoption_share", "capacity_gain", "dropouts"):
        assert (_values(s, a, c) == _values(s, b, c)).all()
    d, low, high = _ci((_values(s, a, "total_cost") - _values(s, b, "total_cost")).to_numpy())
    assert low > 0  # funding pays every participant, the reward only those that adopt
    verdict = _line(output, "verdict: ")
    assert "not distinguishable" not in verdict and "+0.0 [+0.0, +0.0]" not in verdict
    assert f"{a} and {b}, have identical outcomes in every replicate (difference 0 in all 5)" in (
        verdict
    )
    assert (
        f"{b} costs €{d:,.0f} [€{low:,.0f}, €{high:,.0f}] less than {a} (paired 95% CI): "
        f"prefer {b} on cost" in verdict
    )


def test_identical_leaders_of_equal_cost_name_no_cheaper_one(tmp_path: Path) -> None:
    text = IDENTICAL.replace('name = "virtual_funding"', 'name = "virtual_copy"').replace(
        'type = "funding"', 'type = "adoption_reward"'
    )
    path = write_experiment(tmp_path, text.replace("replications = 5", "replications = 3"))
    res = sweep(load_experiment(path), SweepOptions(out=tmp_path / "out"))
    lead = leading_options(res.summary, "none")
    assert lead.identical == "outcomes" and lead.cost_difference == 0
    assert lead.sentence().endswith(
        "have identical outcomes in every replicate (difference 0 in all 3) and the same cost "
        "in every replicate: either will do; only 3 replicates: intervals are rough, add "
        "replicates"
    )
    assert "prefer" not in lead.sentence()


# --- 4. ICERs of schemes cheaper than the baseline ---------------------------------------------


@pytest.fixture(scope="module")
def structures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped structures experiment at 52 weeks, 6 replicates."""
    exp = load_experiment(EXPERIMENTS / "structures.toml").with_changes(steps=52)
    out = tmp_path_factory.mktemp("structures") / "out"
    sweep(exp, SweepOptions(executor="serial", replications=6, out=out))
    return out


def test_no_negative_icer_is_printed_and_a_saving_is_labelled(structures: Path) -> None:
    from mensi_sim.report import comparisons

    compared = CliRunner().invoke(app, ["compare", str(structures), "-b", "top_down"], env=WIDE)
    assert compared.exit_code == 0, compared.output
    t = Results.load(structures).tables["comparison"].set_index("scenario")
    s = Results.load(structures).summary
    header = "cost-effectiveness ("
    kinds = set()
    for name in t.index.drop("top_down"):
        dc = (_values(s, name, "total_cost") - _values(s, "top_down", "total_cost")).mean()
        de = (_values(s, name, "adopters_final") - _values(s, "top_down", "adopters_final")).mean()
        row = _line(compared.output, f"{name} ", after=header)
        if dc < 0 < de:  # cheaper and better: no ratio, no negative number
            kinds.add("dominant")
            assert re.search(r"   dominant +dominates", row) and "-€" not in row, row
        elif dc < 0 and de < 0:  # cheaper and worse: the ratio is a saving
            kinds.add("saving")
            assert f"saves €{dc / de:,.0f} " in row, row
            assert re.search(r"per adopting school forgone +cheaper and worse", row), row
    # virtual is cheaper and better than top_down, none and bottom_up cheaper and worse
    assert kinds == {"dominant", "saving"}
    html = comparisons.cost_effectiveness(Results.load(structures))
    assert "dominant (cheaper and better)" in html
    assert "per adopting school forgone" in html


# --- 5. a verdict without parameter draws says what it covers ----------------------------------


def test_a_verdict_without_draws_points_at_its_psa(structures: Path, identical) -> None:
    from mensi_sim.report import comparisons

    compared = CliRunner().invoke(app, ["compare", str(structures)], env=WIDE)
    lines = compared.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("verdict: "))
    assert lines[at + 1] == (
        "caveat: these verdicts cover replicate noise only, with the parameters fixed; whether "
        "they hold across the uncertain parameters is what the PSA "
        "experiments/structures_psa.toml asks (mensi-sim sweep structures_psa, then compare)"
    )
    assert (EXPERIMENTS / "structures_psa.toml").is_file()
    html = comparisons.comparison(Results.load(structures), "")
    assert "the PSA experiments/structures_psa.toml asks" in html
    # an experiment without a PSA of its own: how to make one
    _, output = identical
    assert _line(output, "caveat: ").endswith(
        "an [uncertainty] table makes the experiment a PSA that asks whether they hold across "
        "the uncertain parameters (docs/EXPERIMENTS.md 4.9)"
    )


def test_the_caveat_follows_the_last_verdict(budget8) -> None:
    _, output = budget8
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("verdict: at a budget of "))
    assert lines[at + 1].startswith("caveat: these verdicts cover replicate noise only")
    assert lines[at + 1].endswith(
        "the PSA experiments/budget_psa.toml asks (mensi-sim sweep budget_psa, then compare)"
    )
    assert sum(line.startswith("caveat: ") for line in lines) == 1


# --- 6. the report's ranking keeps compare's marks ---------------------------------------------


@pytest.mark.parametrize("fixture", ["budget8", "budget3"])
def test_the_reports_ranking_marks_what_compare_marks(fixture, request) -> None:
    from mensi_sim.report import comparisons

    res, output = request.getfixturevalue(fixture)
    html = comparisons.cost_effectiveness(Results.load(res.path))
    t = res.tables["comparison"]
    marked = 0
    for _, r in t[t["frontier"].str.startswith("dominated by ")].iterrows():
        line = _line(output, f"{r['scenario']} ", after="cost-effectiveness (")
        if r["frontier_dominance_significant"]:
            assert f"{r['frontier']} (significant) (P " in line
            assert f"{r['frontier']} (significant)</span> (P {r['p_status']:.2f}, " in html
            marked += 1
        else:
            other = r["frontier"].removeprefix("dominated by ")
            assert f">dominated</span> (P {r['p_status']:.2f}, " in html
            assert f"; by {other} on the means, not significant" in html
    assert marked
    if fixture == "budget3":
        assert "too few replicates" in html and ", firm)" not in html


# --- 7. no negative ICER by country either -------------------------------------------------
# compare --by country and the report's cross-country comparison read each country's ICER as
# compare's main table does (cost_effectiveness.icer_text), checked by hand on the country's
# own rows of the structures sweep against top_down

BY_COUNTRY_BASE = "top_down"


def _by_hand(res: Results) -> pd.DataFrame:
    """Per country and scenario: the mean paired differences of total cost and adopters
    against top_down, from the country's own rows."""
    gs = res.group_summary
    rows = gs[gs["by"] == "country"]
    wide = rows.pivot_table(
        index=["group", "replicate"], columns="scenario", values=["total_cost", "adopters_final"]
    )
    out = []
    for name in [s for s in res.scenarios if s != BY_COUNTRY_BASE]:
        d = (wide.xs(name, axis=1, level=1) - wide.xs(BY_COUNTRY_BASE, axis=1, level=1)).groupby(
            "group"
        )
        means = d.mean()
        for country, r in means.iterrows():
            out.append((country, name, r["total_cost"], r["adopters_final"]))
    return pd.DataFrame(out, columns=["country", "scenario", "dc", "de"])


def _kind(dc: float, de: float) -> str:
    """How the ICER reads: cheaper (or as dear) and better (or as good) is dominant, and so on
    (docs/EXPERIMENTS.md 4.2; ``cost_effectiveness._dominance``)."""
    if dc == de == 0:
        return "undefined"
    if dc <= 0 <= de:
        return "dominant"
    if dc >= 0 >= de:
        return "dominated"
    return "saving" if dc < 0 else "cost"


def test_compare_by_country_prints_no_negative_icer(structures: Path) -> None:
    args = ["compare", str(structures), "--by", "country", "-b", BY_COUNTRY_BASE]
    compared = CliRunner().invoke(app, args, env=WIDE)
    assert compared.exit_code == 0, compared.output
    table = compared.output[compared.output.index("by country: ") :]
    assert "ICER = extra EUR of total cost (cash + staff time)" in table
    res = Results.load(structures)
    significant = (
        pd.read_parquet(structures / "group_comparison.parquet")
        .set_index(["group", "scenario"])["dominance_significant"]
        .to_dict()
    )
    kinds = set()
    for r in _by_hand(res).itertuples():
        row = next(
            line for line in table.splitlines() if re.match(rf" {r.country} +{r.scenario} ", line)
        )
        icer = row.split("]", 4)[4].strip()  # after the four differences' intervals
        kind = _kind(r.dc, r.de)
        kinds.add(kind)
        assert not icer.startswith("-"), row  # no negative ratio
        if kind in ("dominant", "dominated"):
            sure = significant[(r.country, r.scenario)]
            said = "significant" if sure else "on the means, not significant"
            assert icer == f"{kind} ({said})", row
        elif kind == "saving":
            assert icer.startswith(f"saves €{r.dc / r.de:,.0f} "), row
            assert icer.endswith(" per adopting school forgone"), row
        elif kind == "undefined":
            assert icer == "undefined (no difference in adopters)", row
        else:
            assert re.match(rf"€{r.dc / r.de:,.0f} [\[(]", icer), row
    assert {"dominant", "saving"} <= kinds  # virtual is cheaper and better; none cheaper and worse


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").split())


def test_the_reports_cross_country_comparison_reads_the_icer_the_same_way(
    structures: Path,
) -> None:
    args = ["compare", str(structures), "-b", BY_COUNTRY_BASE]  # the report's baseline is compare's
    assert CliRunner().invoke(app, args, env=WIDE).exit_code == 0
    res = Results.load(structures)
    sections = {
        _plain(part.split("</h3>")[0]).removesuffix(f" against {BY_COUNTRY_BASE}"): part
        for part in groups.exchange(res).split("<h3>")[1:]
    }
    basis = "total cost (cash + staff time)"
    kinds = set()
    for r in _by_hand(res).itertuples():
        html = sections[r.scenario]
        cells = next(
            re.findall(r"<td[^>]*>(.*?)</td>", row)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)
            if f"<td>{r.country}</td>" in row
        )
        icer = _plain(cells[-1])
        item = _plain(next(li for li in html.split("<li>")[1:] if li.startswith(f"<b>{r.country}")))
        kind = _kind(r.dc, r.de)
        kinds.add(kind)
        assert not icer.startswith("-"), icer  # no negative ratio
        if kind == "dominant":
            assert icer.startswith("dominant (")
            assert (
                f"Dominant: less {basis} and more adopting schools than {BY_COUNTRY_BASE}" in item
            )
        elif kind == "dominated":
            assert icer.startswith("dominated (")
            assert (
                f"Dominated: more {basis} and fewer adopting schools than {BY_COUNTRY_BASE}" in item
            )
        elif kind == "saving":
            assert icer.startswith(f"saves €{r.dc / r.de:,.0f} ")
            assert f"Saves €{r.dc / r.de:,.0f} of {basis} per adopting school forgone" in item
        elif kind == "undefined":
            assert icer.startswith("undefined") and "No additional adopting school" in item
        else:
            assert icer.startswith(f"€{r.dc / r.de:,.0f}"), icer
    assert {"dominant", "saving"} <= kinds
