"""MentoringModel in the Mesa ecosystem (issue 12): ``model.datacollector`` is a real Mesa
``DataCollector`` and the real ``mesa.batch_run`` runs the model, with the numbers of the
model's own record (``timeseries()``, the fast path every run of the package uses)."""

from __future__ import annotations

import multiprocessing
import tomllib

import mesa
import pandas as pd
import pytest
from support import TINY_SCENARIO

from mensi_sim import MentoringModel
from mensi_sim.metrics import STEP_METRICS
from mensi_sim.scenario import scenario_from_dict

TINY = scenario_from_dict(tomllib.loads(TINY_SCENARIO), "tiny")
VIRTUAL = TINY.with_updates({"network.structure": "virtual"}).model_copy(
    update={"name": "tiny_virtual"}
)


@pytest.fixture
def start_method():
    """batch_run sets the process start method to spawn for the whole process: put it back."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_datacollector_is_mesas_with_the_records_numbers() -> None:
    model = MentoringModel(TINY, rng=7)
    assert isinstance(model.datacollector, mesa.DataCollector)
    model.run_for(4)
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == list(STEP_METRICS)
    pd.testing.assert_frame_equal(
        frame, model.timeseries()[list(STEP_METRICS)], check_exact=True, check_dtype=False
    )
    model.run_for(2)  # looking at it twice adds only the new weeks
    assert len(model.datacollector.get_model_vars_dataframe()) == 7
    assert model.datacollector._collection_steps == [float(t) for t in range(7)]
    # agent reporters are off by default: nothing per school is kept
    assert model.datacollector.agent_reporters == {}
    assert model.datacollector._agent_records == {}


def test_batch_run_runs_the_model(start_method) -> None:
    rows = mesa.batch_run(
        MentoringModel,
        parameters={"scenario": [TINY, VIRTUAL]},
        rng=[1, 2],
        max_steps=1000,
        data_collection_period=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    steps = TINY.time.steps
    # the model stops itself after time.steps weeks (running), not at max_steps
    assert len(frame) == 2 * 2 * (steps + 1)
    assert frame.groupby("RunId")["Step"].max().eq(steps).all()
    for (seed, scenario), part in frame.groupby(["rng", frame["scenario"].map(lambda s: s.name)]):
        sc = TINY if scenario == "tiny" else VIRTUAL
        own = MentoringModel(sc, rng=seed)
        own.run_for(steps)
        expected = own.timeseries()[list(STEP_METRICS)]
        got = part.sort_values("Step")[list(STEP_METRICS)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    # the structures differ (so the comparison above is not of one run with itself)
    final = frame[frame["Step"] == steps]
    by = final.groupby(final["scenario"].map(lambda s: s.name))["cost_total"].mean()
    assert by["tiny"] != by["tiny_virtual"]


def test_batch_run_end_of_run_and_agent_reporters(start_method) -> None:
    last = pd.DataFrame(
        mesa.batch_run(
            MentoringModel,
            parameters={"scenario": [TINY]},
            rng=[3],
            data_collection_period=-1,
            display_progress=False,
        )
    )
    own = MentoringModel(TINY, rng=3)
    own.run_for(TINY.time.steps)
    assert len(last) == 1 and last["Step"].iloc[0] == TINY.time.steps
    assert last["adoption_share"].iloc[0] == own.timeseries()["adoption_share"].iloc[-1]

    reporters = {"capacity": "capacity", "adopted": "adopted", "role": "role"}
    agents = pd.DataFrame(
        mesa.batch_run(
            MentoringModel,
            parameters={"scenario": [TINY], "agent_reporters": [reporters]},
            rng=[3],
            data_collection_period=-1,
            display_progress=False,
        )
    )
    assert len(agents) == TINY.population.n_schools  # one row per school at the end
    by_school = agents.set_index(agents["AgentID"] - agents["AgentID"].min())
    assert list(by_school["capacity"]) == list(own.state.capacity)
    assert list(by_school["adopted"]) == list(own.state.adopted)
    assert set(by_school["role"]) == {"mentor", "mentee", "none"}
    # collecting the schools changes no draw
    assert agents["adoption_share"].iloc[0] == last["adoption_share"].iloc[0]


def test_agent_reporters_every_week() -> None:
    model = MentoringModel(TINY, rng=5, agent_reporters={"capacity": "capacity"})
    model.run_for(3)
    frame = model.datacollector.get_agent_vars_dataframe()
    assert sorted(frame.index.get_level_values(0).unique()) == [0.0, 1.0, 2.0, 3.0]
    week3 = frame.xs(3.0, level=0)["capacity"].to_numpy()
    assert list(week3) == list(model.state.capacity)
