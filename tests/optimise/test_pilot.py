"""The issue's acceptance check on the 120-school pilot (the shipped design file).

With a cash budget equal to today's top-down cash per programme year, does a design beat
every shipped structure on adoption at the horizon at no higher cash cost, out of sample?
The search is shrunk (12 designs x 3 generations on 4 common replicates, the front on 10
fresh replicates) so that it takes a minute or two serially; the warm start puts today's
top-down hubs and the virtual-like plan in the first generation. Every claim of the
verdict is recomputed here from the raw out-of-sample runs (the per-replicate summary rows),
with scipy's t quantile, not read back from the optimiser's own tables.

Seed record (measured when the test was written): at these settings and seeds the verdict
names a design that beats all five shipped programmes; with 8 designs x 2 generations it
found none, and the verdict said why (the best, the virtual-like warm start, is not shown
to exceed ``virtual``): a small search is a lower bound. A change of the model that removes
every winner at these settings fails the first assertion; the verdict must then say why
(``test_budget_and_verdict`` covers that sentence).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from mensi_sim.analysis.optimise import OptimiseOptions, optimise
from mensi_sim.analysis.optimise_spec import load_design

REPO = Path(__file__).resolve().parents[2]
ADOPTION, CASH = "final_adoption_share", "total_cash"


def paired_ci(diff: np.ndarray) -> tuple[float, float]:
    """Student-t 95% interval of the mean of paired differences."""
    half = stats.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size)
    return diff.mean() - half, diff.mean() + half


@pytest.mark.slow
def test_on_the_pilot_a_design_beats_every_shipped_structure_within_top_down_cash():
    design = load_design(REPO / "designs" / "mensi_pilot.toml")
    options = OptimiseOptions(
        executor="serial",
        population=12,
        generations=3,
        replications=4,
        max_replications=4,
        holdout_replications=10,
    )
    result = optimise(design, options)
    front = result.front
    winners = front[front["beats_all"]]
    assert not winners.empty, result.verdict
    best = winners.sort_values(f"{ADOPTION}_mean", ascending=False).iloc[0]
    assert result.verdict.startswith(f"design {best['scenario']} beats every shipped programme")

    held = result.evaluations[result.evaluations["phase"] == "holdout"]
    searched = result.evaluations[result.evaluations["phase"] == "search"]
    # out of sample: fresh seeds, the same ones for the design and every shipped programme
    assert set(held["seed"]) == {design.spec.root_seed + 1}
    assert set(searched["seed"]) == {design.spec.root_seed}
    by = {name: g.set_index("replicate").sort_index() for name, g in held.groupby("scenario")}
    mine = by[best["scenario"]]
    shipped = list(front.loc[front["kind"] == "shipped", "scenario"])
    assert set(shipped) == {"none", "top_down", "bottom_up", "virtual", "hybrid"}
    for programme in shipped:
        theirs = by[programme]
        assert list(theirs.index) == list(mine.index) == list(range(10))
        low, _ = paired_ci((mine[ADOPTION] - theirs[ADOPTION]).to_numpy())
        assert low > 0, programme  # beats it on adoption at the horizon
    # at no higher cash cost than today's top-down programme, with the evidence to say so
    _, high = paired_ci((mine[CASH] - by["top_down"][CASH]).to_numpy())
    assert high <= 0
    assert result.budget == pytest.approx(
        searched[searched["scenario"] == "top_down"].sort_values("replicate")[CASH].iloc[:4].mean()
    )  # the pilot's programme lasts one year: cash per programme year is the whole cash
