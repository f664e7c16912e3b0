"""Analysis of results tables: paired comparisons, cost-effectiveness, sensitivity, and the
optimiser of a programme's design (``optimise``; docs/EXPERIMENTS.md 7).

Every function here is a pure function of tables (a summary, an experiment's design):

    from mensi_sim import sweep
    from mensi_sim.analysis import paired_comparison, cost_effectiveness
    res = sweep("experiments/structures.toml", executor="serial")
    paired_comparison(res.summary, baseline="none")     # one row per (scenario, outcome)
    cost_effectiveness(res.summary, baseline="none")    # one row per scheme

``Results.comparison()`` and ``Results.sensitivity()`` call them on a Results object.
docs/EXPERIMENTS.md describes the statistics.
"""

from mensi_sim.analysis.comparison import comparison_table
from mensi_sim.analysis.cost_effectiveness import (
    at_budget,
    cost_effectiveness,
    dominance_significant,
    fieller_interval,
    frontier,
)
from mensi_sim.analysis.optimise import OptimiseOptions, OptimiseResult, optimise
from mensi_sim.analysis.optimise_spec import Design, load_design
from mensi_sim.analysis.paired import COMPARE_OUTCOMES, paired, paired_comparison, t_interval
from mensi_sim.analysis.sensitivity import (
    NOISE_WARNING,
    SensitivityResult,
    analyse_sample,
    experiment_sensitivity,
    long_table,
    morris_indices,
    noise_share,
    sensitivity_analysis,
    sobol_indices,
)

__all__ = [
    "COMPARE_OUTCOMES",
    "Design",
    "NOISE_WARNING",
    "OptimiseOptions",
    "OptimiseResult",
    "SensitivityResult",
    "analyse_sample",
    "at_budget",
    "comparison_table",
    "cost_effectiveness",
    "dominance_significant",
    "experiment_sensitivity",
    "fieller_interval",
    "frontier",
    "load_design",
    "long_table",
    "morris_indices",
    "noise_share",
    "optimise",
    "paired",
    "paired_comparison",
    "sensitivity_analysis",
    "sobol_indices",
    "t_interval",
]
