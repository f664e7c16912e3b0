"""`StepCollector`: Mesa's ``DataCollector`` for ``MentoringModel``, fed by the model's record.

``model.datacollector`` is what the Mesa ecosystem expects of a model: ``mesa.batch_run``
reads its model variables, ``get_model_vars_dataframe()`` gives one row per recorded
week. The model already records every step metric (``metrics.STEP_METRICS``) after each
week for ``timeseries()``; the collector copies those values in only when it is looked
at, so a step costs nothing more (the model's own record stays the fast path, and the
numbers are the same). Agent reporters, in any of Mesa's forms, are optional and off by
default: with them, every school is read after every week, which is slow for many
schools.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from mensi_sim.metrics import STEP_METRICS

if TYPE_CHECKING:
    from mensi_sim.model import MentoringModel


def _latest(name: str, model: MentoringModel) -> float:
    """Step metric ``name`` of the model's latest recorded week (a reporter in Mesa's form;
    the collector itself reads the record, ``StepCollector.sync``)."""
    return float(model.timeseries()[name].iloc[-1])


class StepCollector(mesa.DataCollector):
    """A Mesa ``DataCollector`` whose model variables are the model's per-step record.

    Model variables: one per ``metrics.STEP_METRICS`` (``adoption_share``,
    ``mean_capacity``, ``cost_total``, ...), one value per recorded week, week 0 (the
    initial state) first, at Mesa's ``model.time`` of that week. ``collect(model)``
    records the agent reporters only (the model calls it after every week when there
    are any); the model variables come from the record through ``sync``.

    Args:
        agent_reporters: Mesa agent reporters of the ``School`` agents, e.g.
            ``{"capacity": "capacity", "adopted": "adopted"}`` (default: none).
    """

    def __init__(self, agent_reporters: Mapping[str, Any] | None = None) -> None:
        reporters = {name: partial(_latest, name) for name in STEP_METRICS}
        super().__init__(model_reporters=reporters, agent_reporters=agent_reporters or None)

    def sync(self, records: Sequence[np.ndarray]) -> StepCollector:
        """Copy in the weeks of the record not yet here (``records[t]``: after t weeks)."""
        for t in range(len(self._collection_steps), len(records)):
            self._collection_steps.append(float(t))  # Mesa's model.time after t weeks
            for name, value in zip(STEP_METRICS, records[t], strict=True):
                self.model_vars[name].append(float(value))
        return self

    def collect(self, model: mesa.Model) -> None:
        """Record the agent reporters at ``model.time`` (the model variables: ``sync``)."""
        if self.agent_reporters:
            self._agent_records[model.time] = list(self._record_agents(model))
