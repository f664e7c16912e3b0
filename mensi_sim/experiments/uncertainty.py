"""Parameter uncertainty: prior distributions, and the draws of a probabilistic sensitivity
analysis (PSA).

A prior is one of a few named distributions over a dotted scenario parameter
(``Prior``); experiment files (``[uncertainty.priors]``) and evidence files
(``[priors]``) declare them the same way. ``PSADraws`` is the one set of parameter draws
of a PSA: drawn from the priors (seeded), or resampled from a calibration posterior
(weighted samples, ``posterior.parquet``). Every option of a PSA is evaluated on the
same draws with the same random numbers: draw d of every option runs under the root
seed ``draw_root_seed(root_seed, d)`` (its own stream, so draws are independent of
one another, while options are paired within a draw).

    from mensi_sim.experiments.uncertainty import Prior, PSADraws
    draws = PSADraws.from_priors({"adoption.exposure": Prior(dist="uniform", low=0.05,
                                  high=0.2)}, n=100, seed=1)
    draws.frame()          # one row per draw, a column per parameter
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats

from mensi_sim.errors import ScenarioError

DISTRIBUTIONS = ("uniform", "loguniform", "normal", "lognormal", "beta", "triangular")
PSA_STREAM = 0x5053_4100  # spawn key of the draws' seeds ("PSA"): apart from replicate keys
DUMMY_STREAM = 0x44554D  # spawn key of the dummy parameter's draws ("DUM")
DUMMY = "dummy"  # the same name as experiments.design.DUMMY (sensitivity samples)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Prior(_Strict):
    """A distribution over one parameter.

    - ``uniform``, ``loguniform``: ``low``, ``high``;
    - ``normal``: ``mean``, ``sd`` (truncated to [``low``, ``high``] when given);
    - ``lognormal``: ``median``, ``sd_log`` (the sd of the log);
    - ``beta``: ``a``, ``b`` (on [0, 1], or rescaled to [``low``, ``high``]);
    - ``triangular``: ``low``, ``mode``, ``high``.
    ``source`` says where it comes from (a paper, a pilot, "assumption").
    """

    dist: Literal["uniform", "loguniform", "normal", "lognormal", "beta", "triangular"]
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    median: float | None = Field(None, gt=0)
    sd_log: float | None = Field(None, gt=0)
    a: float | None = Field(None, gt=0)
    b: float | None = Field(None, gt=0)
    mode: float | None = None
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Prior:
        need = {
            "uniform": ("low", "high"),
            "loguniform": ("low", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sd_log"),
            "beta": ("a", "b"),
            "triangular": ("low", "mode", "high"),
        }[self.dist]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.dist} needs {', '.join(need)} (missing {', '.join(missing)})")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        if self.dist == "loguniform" and not (self.low or 0) > 0:
            raise ValueError("loguniform needs low > 0")
        if self.dist == "triangular" and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode {self.mode} must lie in [low, high]")
        if self.dist == "beta" and (self.low is None) != (self.high is None):
            raise ValueError("beta: give both low and high (a rescaled beta) or neither")
        return self

    def scipy_spec(self) -> tuple[str, tuple[float, ...], dict[str, float]]:
        """(scipy.stats name, shape args, keyword args) of the distribution (pyabc's ``RV``
        takes the same)."""
        d = self.dist
        if d == "uniform":
            return "uniform", (self.low, self.high - self.low), {}
        if d == "loguniform":
            return "loguniform", (self.low, self.high), {}
        if d == "normal":
            if self.low is None and self.high is None:
                return "norm", (self.mean, self.sd), {}
            lo = -math.inf if self.low is None else (self.low - self.mean) / self.sd
            hi = math.inf if self.high is None else (self.high - self.mean) / self.sd
            return "truncnorm", (lo, hi), {"loc": self.mean, "scale": self.sd}
        if d == "lognormal":
            return "lognorm", (self.sd_log,), {"scale": self.median}
        if d == "beta":
            lo, hi = (0.0, 1.0) if self.low is None else (self.low, self.high)
            return "beta", (self.a, self.b), {"loc": lo, "scale": hi - lo}
        c = (self.mode - self.low) / (self.high - self.low)
        return "triang", (c,), {"loc": self.low, "scale": self.high - self.low}

    def frozen(self) -> Any:
        """The scipy.stats frozen distribution."""
        name, args, kwargs = self.scipy_spec()
        return getattr(stats, name)(*args, **kwargs)

    def support(self) -> tuple[float, float]:
        """The smallest and largest value the distribution can take."""
        lo, hi = self.frozen().support()
        return float(lo), float(hi)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.frozen().rvs(size=n, random_state=rng), dtype=float)


class UncertaintySpec(_Strict):
    """``[uncertainty]`` of an experiment file: a PSA over parameter draws.

    Every option (each named scenario x grid point) is run on every draw, paired: the
    same parameters and, replicate by replicate, the same random numbers.
    """

    draws: int = Field(..., ge=2, le=100_000, description="Parameter draws")
    seed: int | None = Field(None, ge=0, description="Seed of the draws (default: root_seed)")
    priors: dict[str, Prior] = Field(default_factory=dict, description="Parameter -> prior")
    posterior: str | None = Field(
        None, description="posterior.parquet of a calibration (resampled by its weights)"
    )
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="EVPPI groups: name -> parameters (default: each alone)"
    )
    wtp: float = Field(
        100_000.0, ge=0, description="Willingness to pay per additional adopting school (EUR)"
    )
    wtp_max: float | None = Field(
        None, gt=0, description="Largest willingness to pay of the CEACs (default: 5 x wtp)"
    )

    @model_validator(mode="after")
    def _check(self) -> UncertaintySpec:
        if not self.priors and self.posterior is None:
            raise ValueError("needs [uncertainty.priors] or posterior = 'posterior.parquet'")
        known = set(self.priors)
        for name, members in self.groups.items():
            if not members:
                raise ValueError(f"groups.{name}: empty")
            if self.priors and (bad := [m for m in members if m not in known]):
                raise ValueError(f"groups.{name}: {bad[0]!r} has no prior")
        return self


def draw_root_seed(root_seed: int, draw: int) -> int:
    """The root seed of draw ``draw`` of a PSA: its own stream, independent of the others
    and of the replicate streams (a 63-bit integer from ``SeedSequence``)."""
    ss = np.random.SeedSequence(root_seed, spawn_key=(PSA_STREAM, draw))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class PSADraws:
    """The parameter draws of a PSA, reusable by any analysis of them (EVPPI, optimisation).

    Attributes:
        names: The dotted parameters, in column order.
        values: Shape (draws, parameters).
        groups: EVPPI groups (name -> parameters); each parameter alone by default.
        source: ``"priors"`` or the posterior file the draws were resampled from.
        seed: The seed they were drawn with.
    """

    names: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "priors"
    seed: int = 0
    dummy: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.dummy is None:  # a uniform draw per draw, from its own stream, never applied
            rng = np.random.default_rng(
                np.random.SeedSequence(self.seed, spawn_key=(DUMMY_STREAM,))
            )
            object.__setattr__(self, "dummy", rng.random(self.values.shape[0]))

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    def frame(self, dummy: bool = True) -> pd.DataFrame:
        """One row per draw (``draw`` column), a column per parameter, and the dummy
        parameter (``design.DUMMY``: drawn like the others, applied to nothing, so an
        analysis of the draws can measure its own noise floor) unless ``dummy=False``."""
        f = pd.DataFrame(self.values, columns=list(self.names))
        f.insert(0, "draw", np.arange(self.n))
        if dummy:
            f[DUMMY] = self.dummy
        return f

    def overrides(self, d: int, integer: Mapping[str, bool] | None = None) -> dict[str, Any]:
        """The scenario overrides of draw ``d`` (integer parameters rounded)."""
        integer = integer or {}
        return {
            k: int(round(v)) if integer.get(k) else float(v)
            for k, v in zip(self.names, self.values[d], strict=True)
        }

    def group_items(self) -> dict[str, tuple[str, ...]]:
        """The EVPPI groups: the declared ones, else one group per parameter; and the dummy
        alone (its EVPPI is the estimator's own bias: it should be about 0)."""
        groups = dict(self.groups) if self.groups else {n: (n,) for n in self.names}
        return {**groups, DUMMY: (DUMMY,)}

    @classmethod
    def from_priors(
        cls,
        priors: Mapping[str, Prior],
        n: int,
        seed: int,
        groups: Mapping[str, Sequence[str]] | None = None,
    ) -> PSADraws:
        """``n`` independent draws from each prior (one stream per parameter, by position)."""
        names = tuple(priors)
        cols = []
        for i, name in enumerate(names):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PSA_STREAM, i)))
            cols.append(priors[name].draw(n, rng))
        values = np.column_stack(cols) if cols else np.zeros((n, 0))
        return cls(names, values, {k: tuple(v) for k, v in (groups or {}).items()}, "priors", seed)

    @classmethod
    def from_posterior(
        cls,
        path: str | Path,
        n: int,
        seed: int,
        groups: Mapping[str, Sequence[str]] | None = None,
    ) -> PSADraws:
        """``n`` draws resampled (with replacement, by weight) from a calibration posterior.

        Raises:
            ScenarioError: The file is missing or has no ``weight`` column.
        """
        p = Path(path)
        if not p.is_file():
            raise ScenarioError(f"uncertainty.posterior: file not found: {p}")
        post = pd.read_parquet(p)
        if "weight" not in post.columns:
            raise ScenarioError(f"{p}: not a posterior (no 'weight' column)")
        names = tuple(c for c in post.columns if c not in ("weight", "particle", "generation"))
        w = post["weight"].to_numpy(float)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PSA_STREAM,)))
        idx = rng.choice(len(post), size=n, replace=True, p=w / w.sum())
        values = post.loc[:, list(names)].to_numpy(float)[idx]
        return cls(names, values, {k: tuple(v) for k, v in (groups or {}).items()}, str(p), seed)


def psa_draws(spec: UncertaintySpec, root_seed: int, where: str = "") -> PSADraws:
    """The draws an ``[uncertainty]`` table asks for (a posterior path relative to ``where``'s
    folder)."""
    seed = root_seed if spec.seed is None else spec.seed
    if spec.posterior is not None:
        path = Path(spec.posterior)
        if not path.is_absolute() and where:
            path = Path(where).parent / path
        return PSADraws.from_posterior(path, spec.draws, seed, spec.groups)
    return PSADraws.from_priors(spec.priors, spec.draws, seed, spec.groups)
