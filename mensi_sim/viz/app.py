"""The interactive app: watch a mentoring network spread practice, week by week.

Run it with ``mensi-sim viz [SCENARIO]`` (or ``solara run mensi_sim/viz/app.py``).
Built from Mesa's SolaraViz parts: its ``ModelController`` (Reset, Play, Step, with
Mesa's play loop) and ``ShowSteps`` in the sidebar, driven by this app's own controls
(cluster structure, incentive scheme, key parameters, each slider showing its value;
a control changed but not yet applied with Reset is listed as pending). The page
shows a status line, the network (schools at their location, coloured by capacity or
adoption, mentors as stars, ties by kind) and beside it the adoption, capacity,
equity-gap and cost charts in a 2 x 2 grid, each axis scaled to its data; on a narrow
screen the charts go below the network and the sidebar opens from the menu button.

The base scenario is the file named in the environment variable
``MENSI_SIM_VIZ_SCENARIO`` (set by ``mensi-sim viz SCENARIO``), else the MenSI pilot.
The pictures are ``plotting.live`` figures: drawn once, then only their moving parts
each week (matplotlib blitting), so a Step takes a few hundredths of a second at the
pilot's 120 schools and stays well under a second at a few thousand.
"""

from __future__ import annotations

import html
import os
from typing import Any

import solara
from mesa.visualization.solara_viz import ModelController, ShowSteps
from mesa.visualization.utils import update_counter

from mensi_sim.plotting import snapshot
from mensi_sim.plotting.live import LiveCharts, LiveNetwork
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
TITLE = "mensi_sim: school-to-school mentoring"
# an honest verdict in the app: it shows one replicate at fixed parameters, never a ranking
ONE_RUN_NOTE = (
    "One run at one set of parameters: not evidence that one structure is better. Compare "
    "structures with paired replicates (mensi-sim sweep, compare) and over the uncertain "
    "parameters (a PSA: experiments/structures_psa.toml)."
)


def _slider(label: str, value: float, low: float, high: float, step: float) -> dict:
    kind = (
        "SliderInt"
        if all(isinstance(v, int) for v in (value, low, high, step))
        else ("SliderFloat")
    )
    return {"type": kind, "label": label, "value": value, "min": low, "max": high, "step": step}


# the model's parameters, in SolaraViz's format (checked against VizModel by the tests)
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
    "scenario_path": SCENARIO_PATH,  # fixed: not a control
}
CONTROLS = {k: v for k, v in model_params.items() if isinstance(v, dict)}
INITIAL = {k: (v["value"] if isinstance(v, dict) else v) for k, v in model_params.items()}

# The page's own styles: the network and the charts side by side, wrapping below each
# other on a narrow screen; the menu button's icon, which the installed Solara leaves
# blank under Vuetify 3 (mdi-menu of the Material Design Icons font it ships).
CSS = """
.mensi-views { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; width: 100%; }
.mensi-network { flex: 1 1 420px; max-width: 620px; min-width: 0; }
.mensi-charts { flex: 1.3 1 560px; max-width: 780px; min-width: 0; }
.mensi-views img { width: 100%; height: auto; display: block; }
.mensi-pending { color: #8a4b00; font-weight: 500; }
.v-app-bar-nav-icon .v-btn__content:empty::before {
  font-family: "Material Design Icons"; content: "\\F35C"; font-size: 24px; line-height: 1;
}
@media (max-width: 1279.98px) {  /* Vuetify's drawer floats here: keep the app bar and its
                                    menu button above it, clickable to close it again */
  .v-navigation-drawer--temporary { top: 64px !important; height: calc(100% - 64px) !important; }
  .v-navigation-drawer__scrim { top: 64px !important; }
}
"""


def pending(controls: dict[str, Any], model: VizModel) -> list[str]:
    """Labels of the controls whose value differs from the one the model was built with."""
    built = getattr(model, "controls", {})
    return [
        CONTROLS[k]["label"] for k in CONTROLS if k in built and controls.get(k) != built.get(k)
    ]


def _value_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@solara.component
def Controls(controls: solara.Reactive[dict], model: VizModel) -> None:
    """One input per model parameter; sliders show their value; pending changes are listed."""

    def setter(name: str):  # noqa: ANN202
        return lambda value: controls.set({**controls.value, name: value})

    for name, spec in CONTROLS.items():
        value = controls.value.get(name, spec["value"])
        if spec["type"] == "Select":
            solara.Select(spec["label"], value=value, values=spec["values"], on_value=setter(name))
        else:
            slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
            slider(
                f"{spec['label']}: {_value_text(value)}",
                value=value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                on_value=setter(name),
            )
    waiting = pending(controls.value, model)
    if waiting:
        solara.Text(
            f"Not applied yet: {', '.join(waiting)}. Press Reset to rebuild the model.",
            classes=["mensi-pending"],
        )


@solara.component
def StatusView(model: VizModel, waiting: list[str]) -> None:
    """One line: scenario, week, adoption, capacity, cost so far (and any problem)."""
    update_counter.get()
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"<b>{html.escape(model.spec.name)}</b>: {html.escape(model.status())}",
    )
    solara.Text(ONE_RUN_NOTE, classes=["mensi-note"])
    if waiting:
        solara.Text(
            f"Changed in the sidebar, not applied yet: {', '.join(waiting)} (press Reset).",
            classes=["mensi-pending"],
        )
    if model.problem:
        solara.Warning(model.problem)


@solara.component
def NetworkView(model: VizModel, colour_by: str) -> None:
    """The network this week: schools at their location, ties by kind."""
    update_counter.get()
    live = solara.use_memo(lambda: LiveNetwork(colour_by), [model, colour_by])
    png = live.update(snapshot(model), model.drawn_ties())
    with solara.Div(classes=["mensi-network"]):
        solara.Image(png, format="png")


@solara.component
def ChartsView(model: VizModel) -> None:
    """Adoption, capacity, equity gap and cost by category: the run so far, 2 x 2."""
    update_counter.get()
    live = solara.use_memo(lambda: LiveCharts(model.spec.time.steps), [model])
    png = live.update(model.timeseries())
    with solara.Div(classes=["mensi-charts"]):
        solara.Image(png, format="png")


@solara.component
def Page() -> None:
    """Sidebar (Mesa's controller, this app's controls, display options) and the views."""
    first = solara.use_memo(lambda: VizModel(**INITIAL), [])  # one model per browser session
    model = solara.use_reactive(first)
    controls = solara.use_reactive(dict(INITIAL))
    play_interval = solara.use_reactive(150)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    colour_by = solara.use_reactive("capacity")
    waiting = pending(controls.value, model.value)

    solara.Style(CSS)
    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run"):
            ModelController(
                model,
                model_parameters=controls,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            ShowSteps(model.value)
        with solara.Card("Model parameters"):
            Controls(controls, model.value)
        with solara.Card("Display"):
            solara.Select(
                "Colour schools by",
                value=colour_by.value,
                values=["capacity", "adoption"],
                on_value=colour_by.set,
            )
            solara.SliderInt(
                f"Weeks per picture when playing: {render_interval.value}",
                value=render_interval.value,
                min=1,
                max=20,
                step=1,
                on_value=render_interval.set,
            )
            solara.SliderInt(
                f"Play interval: {play_interval.value} ms per week",
                value=play_interval.value,
                min=1,
                max=500,
                step=10,
                on_value=play_interval.set,
            )
    StatusView(model.value, waiting)
    with solara.Div(classes=["mensi-views"]):
        NetworkView(model.value, colour_by.value)
        ChartsView(model.value)
