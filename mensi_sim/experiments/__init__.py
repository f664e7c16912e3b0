"""Experiments: designs, the runner, executors, the run store, adaptive replications.

    from mensi_sim.experiments import load_experiment, run_experiment
    exp = load_experiment("experiments/structures.toml")
    out = run_experiment(exp, executor="local", out="results/structures")

``mensi_sim.sweep`` does the same and returns a ``Results``; the analyses of its
tables are in ``mensi_sim.analysis``. docs/EXPERIMENTS.md describes the experiment
file, the executors, resuming and the adaptive rule.
"""

from mensi_sim.experiments.design import DesignPoint, SampleDesign
from mensi_sim.experiments.execution import ExecutorError, SerialExecutor, make_executor
from mensi_sim.experiments.replicate import replicate_model, run_once
from mensi_sim.experiments.runner import SweepOptions, SweepOutput, run_experiment
from mensi_sim.experiments.spec import (
    Experiment,
    default_baseline,
    load_experiment,
    resolve_baseline,
)

__all__ = [
    "DesignPoint",
    "ExecutorError",
    "Experiment",
    "SampleDesign",
    "SerialExecutor",
    "SweepOptions",
    "SweepOutput",
    "default_baseline",
    "load_experiment",
    "make_executor",
    "replicate_model",
    "resolve_baseline",
    "run_experiment",
    "run_once",
]
