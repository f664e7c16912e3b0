"""Experiments: sweeps over scenarios, paired comparisons, cost-effectiveness, sensitivity.

    from mensi_sim.experiments import load_experiment, run_experiment, paired_comparison
    exp = load_experiment("experiments/structures.toml")
    res = run_experiment(exp, executor="local", out="results/structures")
    paired_comparison(res.summary, baseline="none")

docs/EXPERIMENTS.md describes the experiment file, the executors, resuming and
the statistics.
"""

from mensi_sim.experiments.compare import (
    at_budget,
    comparison_table,
    cost_effectiveness,
    default_baseline,
    paired_comparison,
)
from mensi_sim.experiments.execution import ExecutorError, SerialExecutor, make_executor
from mensi_sim.experiments.runner import ExperimentResult, run_experiment
from mensi_sim.experiments.sensitivity import (
    analyse_sample,
    morris_indices,
    noise_share,
    sensitivity_analysis,
    sobol_indices,
)
from mensi_sim.experiments.spec import DesignPoint, Experiment, load_experiment

__all__ = [
    "DesignPoint",
    "Experiment",
    "ExecutorError",
    "ExperimentResult",
    "SerialExecutor",
    "analyse_sample",
    "at_budget",
    "comparison_table",
    "cost_effectiveness",
    "default_baseline",
    "load_experiment",
    "make_executor",
    "morris_indices",
    "noise_share",
    "paired_comparison",
    "run_experiment",
    "sensitivity_analysis",
    "sobol_indices",
]
