"""The interactive app: watch a mentoring network spread practice, week by week.

Run it with ``mensi-sim viz [SCENARIO]`` (or ``solara run mensi_sim/viz/app.py``).
Built on Mesa's SolaraViz: the sidebar chooses the cluster structure, the
incentive scheme and key parameters (Reset applies them), and steps or plays
the model; the page shows the network (schools at their location, coloured by
capacity or adoption, mentors as stars, ties by kind) and the adoption,
capacity and cost charts growing week by week.

The base scenario is the file named in the environment variable
``MENSI_SIM_VIZ_SCENARIO`` (set by ``mensi-sim viz SCENARIO``), else the MenSI pilot.
Pictures are drawn from the model's arrays with precomputed positions and a fixed
sample of the weak ties, so the page stays responsive for a few thousand schools.
"""

from __future__ import annotations

import os

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from mensi_sim.plotting import plot_live_run, plot_network, snapshot
from mensi_sim.scenario.schema import WEEKS_PER_YEAR
from mensi_sim.viz.model import (
    ENV_SCENARIO,
    FROM_FILE,
    INCENTIVES,
    STRUCTURES,
    VizModel,
    base_scenario,
    incentive_of,
)

SCENARIO_PATH = os.environ.get(ENV_SCENARIO) or None
BASE = base_scenario(SCENARIO_PATH)
INCENTIVE_CHOICES = [*INCENTIVES, *([FROM_FILE] if incentive_of(BASE) == FROM_FILE else [])]
STRUCTURE_CHOICES = list(STRUCTURES) + (["file"] if BASE.network.structure == "file" else [])
MAX_SCHOOLS = max(6000, BASE.population.n_schools)


def _slider(label: str, value: float, low: float, high: float, step: float) -> dict:
    kind = (
        "SliderInt"
        if all(isinstance(v, int) for v in (value, low, high, step))
        else ("SliderFloat")
    )
    return {"type": kind, "label": label, "value": value, "min": low, "max": high, "step": step}


model_params = {
    "structure": {
        "type": "Select",
        "label": "Cluster structure",
        "value": BASE.network.structure,
        "values": STRUCTURE_CHOICES,
    },
    "incentive": {
        "type": "Select",
        "label": "Incentive scheme",
        "value": incentive_of(BASE),
        "values": INCENTIVE_CHOICES,
    },
    "learning_rate": _slider("Learning rate per meeting", BASE.learning.rate, 0.0, 1.0, 0.01),
    "exposure": _slider(
        "Adoption hazard per meeting with an adopter", BASE.adoption.exposure, 0.0, 1.0, 0.01
    ),
    "p_per_year": _slider(
        "Innovation p per year", round(BASE.adoption.p * WEEKS_PER_YEAR, 3), 0.0, 0.5, 0.005
    ),
    "n_schools": _slider("Schools", BASE.population.n_schools, 30, MAX_SCHOOLS, 30),
    "weeks": _slider("Weeks to run", BASE.time.steps, 4, 260, 1),
    "seed": _slider("Random seed", 42, 0, 999, 1),
    "colour_by": {
        "type": "Select",
        "label": "Colour schools by",
        "value": "capacity",
        "values": ["capacity", "adoption"],
    },
    "scenario_path": SCENARIO_PATH,  # fixed: not a control
}


@solara.component
def StatusView(model: VizModel) -> None:
    """One line: scenario, week, adoption, capacity, cost so far (and any problem)."""
    update_counter.get()
    solara.Markdown(f"**{model.spec.name}**: {model.status()}")
    if model.problem:
        solara.Warning(model.problem)


@solara.component
def NetworkView(model: VizModel) -> None:
    """The network this week: schools at their location, ties by kind."""
    update_counter.get()
    shot = snapshot(model)
    fig = plot_network(
        shot,
        colour_by=model.colour_by,
        ties=model.drawn_ties(),
        figsize=(6.0, 6.0),
        title=f"Week {shot.week}: {100 * shot.adoption_share:.0f}% adopted",
        legend="bottom",
    )
    solara.FigureMatplotlib(
        fig, format="png", dependencies=[id(model), model.week, update_counter.value]
    )


@solara.component
def ChartsView(model: VizModel) -> None:
    """Adoption, capacity and equity gap, cost by category: the run so far."""
    update_counter.get()
    fig = plot_live_run(
        model.timeseries(), steps=model.spec.time.steps, vertical=True, figsize=(4.4, 6.0)
    )
    solara.FigureMatplotlib(
        fig, format="png", dependencies=[id(model), model.week, update_counter.value]
    )


INITIAL = {
    "structure": BASE.network.structure,
    "incentive": incentive_of(BASE),
    "learning_rate": BASE.learning.rate,
    "exposure": BASE.adoption.exposure,
    "p_per_year": round(BASE.adoption.p * WEEKS_PER_YEAR, 3),
    "n_schools": BASE.population.n_schools,
    "weeks": BASE.time.steps,
    "seed": 42,
    "scenario_path": SCENARIO_PATH,
}


@solara.component
def Page() -> None:
    """SolaraViz (app bar, controls, parameters, step counter) and the two views below it.

    The views are rendered beside SolaraViz rather than in its draggable grid, whose
    JavaScript (vue-grid-layout for Vue 2) fails to load under the Vue 3 front end of
    the installed Solara; both read the same reactive model, so Step, Play and Reset
    drive them exactly as they would drive grid components.
    """
    first = solara.use_memo(lambda: VizModel(**INITIAL), [])  # one model per browser session
    model = solara.use_reactive(first)
    SolaraViz(
        model,
        components=[],
        model_params=model_params,
        name="mensi_sim: school-to-school mentoring",
        play_interval=150,
    )
    StatusView(model.value)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Column(style={"flex": "0 0 auto"}):
            NetworkView(model.value)
        with solara.Column(style={"flex": "0 0 auto"}):
            ChartsView(model.value)
