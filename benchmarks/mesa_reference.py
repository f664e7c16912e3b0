"""The yardstick: mensi_sim's learning and adoption rules written as plain Mesa.

This is the model a user would write by following the Mesa tutorials (the
``virus_on_network`` example): every school is a ``FixedAgent`` in a cell of a
``mesa.discrete_space.Network``; in its own ``step`` each school loops over its
neighbours; the model calls ``self.agents.shuffle_do("step")`` and records with a
``DataCollector``. ``benchmarks/run.py`` times it side by side with
``MentoringModel``, and ``tests/test_mesa_reference.py`` checks that both give the
same statistics.

Rules (those of ``mensi_sim.dynamics`` with engagement fixed at 1, no training,
dropout, costs, incentives, programme end or opening up; docs/ODD.md), on ties that
each meet on their own (research graphs; a cluster meeting of the policy structures is
not modelled here):

- Contacts: in a term week (``week % 52 < term_weeks``) each tie meets with
  probability ``rate``. A tie is drawn once, by the school that owns it (``src``).
- Learning: in a meeting the less capable side j gains
  ``learning_rate * strength * absorb_j * reach_j * (c_i - c_j)+ / dilution``, the
  dilution ``load_i^gamma`` when a mentor teaches its mentee over the mentoring tie and
  ``peers_j^gamma`` over a peer tie (j's number of peer meetings this week); the
  teacher gains ``reciprocity * gain * (1 - c_i)``. A school with no meeting this week
  drifts ``drift * (baseline - c)``. Capacity is clipped to [0, 1].
- Adoption, ``rule = "contact"``: a non-adopter adopts with probability
  ``1 - exp(-r(c) (p + exposure * E))``, E the strength of this week's meetings with
  adopters and r(c) the logistic readiness; ``rule = "bass"``: ``min(1, c^theta (p + q m))``,
  m the strength-weighted share of its neighbours that have adopted.

``synchronous=True`` (the default) makes every school read the state at week t and
write week t + 1: ``shuffle_do("step")`` draws the meetings, ``do("learn")`` computes
the gains, ``do("advance")`` writes them, which is what MentoringModel does and what the
statistics test needs. With ``synchronous=False`` (what the tutorials show) a school's
changes are visible at once to the schools stepping after it (and peer lessons are not
averaged); it is kept for timing only.

The network must not get a spring layout: ``Network(..., layout=None)`` (the default
layout, ``nx.spring_layout``, is quadratic per iteration and takes minutes at 10,000
nodes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import FixedAgent, Network

from mensi_sim.codes import KIND_NAMES
from mensi_sim.dynamics import learning
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, Scenario

__all__ = [
    "ReferenceModel",
    "ReferenceParams",
    "ReferenceSchool",
    "TunedReferenceModel",
    "TunedSchool",
    "graph_from_model",
    "tie_graph",
]


@dataclass(frozen=True)
class ReferenceParams:
    """Rule parameters, and the distributions of the initial state (used when the graph's
    nodes do not carry ``capacity``, ``baseline``, ``absorb`` and ``adopted``)."""

    p: float  # innovation coefficient, per week
    q: float  # bass rule: imitation coefficient, per week
    theta: float  # bass rule: capacity exponent, g(c) = c^theta
    learning_rate: float  # lambda, per meeting
    gamma: float  # load dilution exponent
    reciprocity: float  # teacher's gain as a share of the learner's, times (1 - c_teacher)
    drift: float  # weekly drift toward baseline without a meeting
    rule: str = "contact"  # adoption rule: "contact" or "bass"
    exposure: float = 0.1  # contact rule: hazard per meeting of strength 1 with an adopter
    readiness_midpoint: float = 0.6  # contact rule: r(c) = 1 / (1 + exp(-slope (c - mid)))
    readiness_slope: float = 10.0
    term_weeks: int = 36  # school weeks per 52-week year; meetings happen only in term
    capacity_mean: float = 0.40  # initial capacity ~ Beta(mean, sd)
    capacity_sd: float = 0.1
    disadvantaged_mean: float = 0.2  # share of disadvantaged students ~ Beta(mean, sd)
    disadvantaged_sd: float = 0.12
    disadvantaged_absorption: float = 0.5  # absorb = 1 - this * disadvantaged share
    initial_share: float = 0.0  # share of schools (chosen at random) adopted at the start
    teachers_median: float = 25.0  # teachers per school ~ lognormal (staff reach)
    teachers_sigma: float = 0.5
    teachers_per_delegate: float = 15.0
    max_delegates: int = 4

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ReferenceParams:
        """The parameters of a scenario that only uses what the reference implements.

        Raises:
            ValueError: the scenario switches on a rule the reference does not have.
        """
        sc = scenario
        unsupported = {
            "engagement.enabled": sc.engagement.enabled,
            "training.courses": bool(sc.training.courses),
            "opening.enabled": sc.opening.enabled,
            "incentives": bool(sc.incentives),
            "adoption.rule not in ('contact', 'bass')": sc.adoption.rule not in ("contact", "bass"),
            "population.advanced_share > 0": sc.population.advanced_share > 0,
            "adoption.abandonment": sc.adoption.abandonment > 0,
            "learning.enabled = false": not sc.learning.enabled,
            "adoption.initial not in ('share', 'none')": sc.adoption.initial
            not in ("share", "none"),
            "population.country_capacity_shift": bool(sc.population.country_capacity_shift),
        }
        used = [name for name, on in unsupported.items() if on]
        if used:
            raise ValueError(f"the Mesa reference does not implement: {', '.join(used)}")
        pop, ln, ad = sc.population, sc.learning, sc.adoption
        return cls(
            p=ad.p,
            q=ad.q,
            theta=ad.theta,
            rule=ad.rule,
            exposure=ad.exposure,
            readiness_midpoint=ad.readiness_midpoint,
            readiness_slope=ad.readiness_slope,
            learning_rate=ln.rate,
            gamma=ln.gamma,
            reciprocity=ln.reciprocity,
            drift=ln.drift,
            term_weeks=sc.time.term_weeks,
            capacity_mean=pop.capacity_mean_other,
            capacity_sd=pop.capacity_sd,
            disadvantaged_mean=pop.disadvantaged_mean,
            disadvantaged_sd=pop.disadvantaged_sd,
            disadvantaged_absorption=ln.disadvantaged_absorption,
            initial_share=ad.initial_share if ad.initial == "share" else 0.0,
            teachers_median=pop.teachers_median,
            teachers_sigma=pop.teachers_sigma,
            teachers_per_delegate=sc.contacts.teachers_per_delegate,
            max_delegates=sc.contacts.max_delegates,
        )


def _beta_shapes(mean: float, sd: float) -> tuple[float, float]:
    """Beta(a, b) with the given mean and sd."""
    common = mean * (1 - mean) / sd**2 - 1
    return mean * common, (1 - mean) * common


class ReferenceSchool(FixedAgent):
    """One school: its state as plain attributes, its rules in ``step`` and ``advance``."""

    def __init__(
        self,
        model: ReferenceModel,
        cell,
        capacity: float,
        baseline: float,
        absorb: float,
        reach: float,
        adopted: bool,
        load: float,
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.node = cell.coordinate
        self.capacity = capacity
        self.baseline = baseline
        self.absorb = absorb
        self.reach = reach
        self.adopted = adopted
        self.load = load  # number of mentees (mentors only)
        self.engagement = 1.0
        self.change = 0.0  # capacity gained this week
        self.met = False  # had a meeting this week
        self.meetings: list[tuple[ReferenceSchool, dict]] = []  # this week's, both sides
        self.adopts = False  # decided to adopt this week

    def ties(self):
        """(neighbour, tie attributes) of every tie of this school."""
        adjacency = self.model.graph[self.node]
        for other in self.cell.neighborhood.agents:
            for tie in adjacency[other.node].values():
                yield other, tie

    def step(self) -> None:
        """Meet over the ties this school owns (the meetings are remembered by both)."""
        if self.model.in_term:
            for other, tie in self.ties():
                if tie["src"] == self.node and self.random.random() < tie["rate"]:
                    self.meetings.append((other, tie))
                    other.meetings.append((self, tie))
                    self.met = other.met = True
                    if not self.model.synchronous:
                        self.lesson(other, tie, peers=1)
        if not self.model.synchronous:
            self.decide()
            self.advance()

    def learn(self) -> None:
        """This week's lessons where this school is the less capable side, and the decision
        to adopt (synchronous: every school reads week t)."""
        peers = sum(1 for _, tie in self.meetings if tie["kind"] == "peer")
        for other, tie in self.meetings:
            if other.capacity > self.capacity or (
                other.capacity == self.capacity and tie["src"] == other.node
            ):
                self.lesson(other, tie, peers)
        self.decide()

    def lesson(self, other: ReferenceSchool, tie: dict, peers: int) -> None:
        """One meeting: the less capable side learns from the other (``self`` is either)."""
        params = self.model.params
        teacher, learner = (self, other) if self.capacity >= other.capacity else (other, self)
        gap = teacher.capacity - learner.capacity
        dilution = 1.0
        if tie["kind"] == "mentoring" and teacher.node == tie["src"]:
            dilution = max(teacher.load, 1.0) ** params.gamma
        elif tie["kind"] == "peer":
            dilution = max(peers, 1) ** params.gamma
        gain = (
            params.learning_rate
            * tie["strength"]
            * teacher.engagement
            * learner.engagement
            * learner.absorb
            * learner.reach
            * gap
            / dilution
        )
        teacher_gain = params.reciprocity * gain * (1.0 - teacher.capacity)
        if self.model.synchronous:
            learner.change += gain
            teacher.change += teacher_gain
        else:  # visible at once to the schools stepping later
            learner.capacity = min(1.0, max(0.0, learner.capacity + gain))
            teacher.capacity = min(1.0, max(0.0, teacher.capacity + teacher_gain))

    def decide(self) -> None:
        """Whether this non-adopter adopts this week (the rule of ``params.rule``)."""
        if self.adopted:
            return
        params = self.model.params
        if params.rule == "contact":
            exposure = sum(tie["strength"] for other, tie in self.meetings if other.adopted)
            ready = 1.0 / (
                1.0
                + math.exp(-params.readiness_slope * (self.capacity - params.readiness_midpoint))
            )
            prob = 1.0 - math.exp(-ready * (params.p + params.exposure * exposure))
        else:
            pressure = weight = 0.0
            for other, tie in self.ties():
                weight += tie["strength"]
                if other.adopted:
                    pressure += tie["strength"]
            share = pressure / weight if weight > 0 else 0.0
            prob = min(1.0, self.capacity**params.theta * (params.p + params.q * share))
        self.adopts = self.random.random() < prob

    def advance(self) -> None:
        """Write this week's changes (synchronous update: after every school has stepped)."""
        if self.met:
            self.capacity = min(1.0, max(0.0, self.capacity + self.change))
        else:
            drift = self.model.params.drift * (self.baseline - self.capacity)
            self.capacity = min(1.0, max(0.0, self.capacity + drift))
        self.adopted = self.adopted or self.adopts
        self.change, self.met, self.adopts = 0.0, False, False
        self.meetings = []


def adoption_share(model: ReferenceModel) -> float:
    """Share of schools that have adopted."""
    return sum(a.adopted for a in model.agents) / len(model.agents)


def mean_capacity(model: ReferenceModel) -> float:
    """Mean capacity of all schools."""
    return sum(a.capacity for a in model.agents) / len(model.agents)


class ReferenceModel(mesa.Model):
    """Schools on a network, the tutorial way.

    Args:
        graph: A ``networkx.MultiGraph`` on nodes ``0 .. n-1`` whose edges carry
            ``kind`` (name), ``strength``, ``rate`` (meetings per term week) and
            ``src`` (the node that owns the tie: the mentor of a mentoring tie). Nodes
            may carry the initial ``capacity``, ``baseline``, ``absorb``, ``reach`` and
            ``adopted`` (see :func:`graph_from_model`); otherwise they are drawn from
            ``params``.
        params: Rule parameters and initial distributions.
        rng: Seed of the model's random generators.
        synchronous: Every school reads week t and writes week t + 1 (as MentoringModel).
    """

    school_class: type[ReferenceSchool] = ReferenceSchool  # the agents' class

    def __init__(
        self, graph: nx.MultiGraph, params: ReferenceParams, rng=None, synchronous: bool = True
    ) -> None:
        super().__init__(rng=rng)
        self.graph = graph
        self.params = params
        self.synchronous = synchronous
        self.week = 0
        # layout=None: a purely topological network (no spring layout)
        self.grid = Network(graph, capacity=1, random=self.random, layout=None)
        n = graph.number_of_nodes()
        nodes = graph.nodes
        if "capacity" in nodes[0]:
            capacity = [nodes[i]["capacity"] for i in range(n)]
            baseline = [nodes[i]["baseline"] for i in range(n)]
            absorb = [nodes[i]["absorb"] for i in range(n)]
            reach = [nodes[i]["reach"] for i in range(n)]
            adopted = [bool(nodes[i]["adopted"]) for i in range(n)]
        else:
            a, b = _beta_shapes(params.capacity_mean, params.capacity_sd)
            capacity = [self.random.betavariate(a, b) for _ in range(n)]
            baseline = list(capacity)
            a, b = _beta_shapes(params.disadvantaged_mean, params.disadvantaged_sd)
            absorb = [
                1.0 - params.disadvantaged_absorption * self.random.betavariate(a, b)
                for _ in range(n)
            ]
            first = set(self.random.sample(range(n), round(params.initial_share * n)))
            adopted = [i in first for i in range(n)]
            reach = []
            for _ in range(n):
                teachers = max(
                    1.0,
                    round(
                        params.teachers_median
                        * math.exp(params.teachers_sigma * self.random.gauss())
                    ),
                )
                delegates = min(
                    max(math.ceil(teachers / params.teachers_per_delegate), 1), params.max_delegates
                )
                reach.append(min(1.0, delegates * params.teachers_per_delegate / teachers))
        load = [0.0] * n
        for _, _, tie in graph.edges(data=True):
            if tie["kind"] == "mentoring":
                load[tie["src"]] += 1.0
        self.school_class.create_agents(
            self,
            n,
            [self.grid[i] for i in range(n)],
            capacity,
            baseline,
            absorb,
            reach,
            adopted,
            load,
        )
        self.datacollector = mesa.DataCollector(
            model_reporters={"adoption_share": adoption_share, "mean_capacity": mean_capacity}
        )
        self.datacollector.collect(self)

    @property
    def in_term(self) -> bool:
        """Whether the coming step is a school week."""
        return self.week % WEEKS_PER_YEAR < self.params.term_weeks

    def step(self) -> None:
        """One week."""
        self.agents.shuffle_do("step")
        if self.synchronous:
            self.agents.do("learn")
            self.agents.do("advance")
        self.week += 1
        self.datacollector.collect(self)


class TunedSchool(ReferenceSchool):
    """The same school as a user tunes it once the tutorial version works: its ties listed
    once (``tie_list``, in the order ``ReferenceSchool.ties`` walks them: the tutorial looks
    them up in the network's cells and the graph's adjacency every time), the ties it draws
    for (``owned``) and its summed tie strength (``weight``, the bass rule's denominator)
    kept. The same rules and the same random numbers in the same order: a tuned run is
    the tutorial run at the same seed, number for number (tests/test_mesa_reference.py)."""

    def connect(self) -> None:
        """List the ties (once every school of the network exists)."""
        self.tie_list = list(super().ties())
        self.owned = [(other, tie) for other, tie in self.tie_list if tie["src"] == self.node]
        weight = 0.0
        for _, tie in self.tie_list:
            weight += tie["strength"]
        self.weight = weight

    def ties(self):
        """(neighbour, tie attributes) of every tie of this school (listed once)."""
        return self.tie_list

    def step(self) -> None:
        """Meet over the ties this school owns (the meetings are remembered by both)."""
        model = self.model
        if model.in_term:
            draw = self.random.random
            for other, tie in self.owned:
                if draw() < tie["rate"]:
                    self.meetings.append((other, tie))
                    other.meetings.append((self, tie))
                    self.met = other.met = True
                    if not model.synchronous:
                        self.lesson(other, tie, peers=1)
        if not model.synchronous:
            self.decide()
            self.advance()

    def learn(self) -> None:
        """This week's lessons and the decision to adopt (a school that met nobody has no
        lesson to take: only the decision)."""
        if self.meetings:
            ReferenceSchool.learn(self)
        else:
            self.decide()

    def decide(self) -> None:
        """Whether this non-adopter adopts this week (the rule of ``params.rule``)."""
        if self.adopted:
            return
        params = self.model.params
        if params.rule == "contact":
            ReferenceSchool.decide(self)
            return
        pressure = 0.0
        for other, tie in self.tie_list:
            if other.adopted:
                pressure += tie["strength"]
        share = pressure / self.weight if self.weight > 0 else 0.0
        prob = min(1.0, self.capacity**params.theta * (params.p + params.q * share))
        self.adopts = self.random.random() < prob


class TunedReferenceModel(ReferenceModel):
    """``ReferenceModel`` with ``TunedSchool`` agents: plain Mesa, written for speed."""

    school_class = TunedSchool

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for school in self.agents:
            school.connect()


def tie_graph(
    graph: nx.Graph, *, kind: str = "peer", strength: float = 1.0, rate: float = 0.25
) -> nx.MultiGraph:
    """A simple networkx graph as the reference's tie graph: every edge one tie of this
    kind, strength and meeting rate, owned by its lower-numbered school."""
    multi = nx.MultiGraph()
    multi.add_nodes_from(range(graph.number_of_nodes()))
    multi.add_edges_from(
        (u, v, {"kind": kind, "strength": strength, "rate": rate, "src": min(u, v)})
        for u, v in graph.edges()
    )
    return multi


def graph_from_model(model) -> nx.MultiGraph:
    """The ties and initial state of a fresh ``MentoringModel`` as the reference's graph.

    Used by the benchmark so that both models run on the same network from the same
    start. Tie meeting rates come from the model (``_pair_rate``: the reference lets every
    tie meet on its own, so on a policy structure it is a like-for-like *timing*, not the
    same cluster meetings).
    """
    st = model.state
    n = st.n
    graph = nx.MultiGraph()
    absorb = learning.absorption(
        model.population.disadvantaged, model.spec.learning.disadvantaged_absorption
    )
    graph.add_nodes_from(
        (i, {"capacity": c, "baseline": b, "absorb": a, "reach": r, "adopted": d})
        for i, c, b, a, r, d in zip(
            range(n),
            st.capacity.tolist(),
            st.baseline.tolist(),
            absorb.tolist(),
            model._reach.tolist(),
            st.adopted.tolist(),
            strict=True,
        )
    )
    graph.add_edges_from(
        (u, v, {"kind": KIND_NAMES[k], "strength": s, "rate": r, "src": u})
        for u, v, k, s, r in zip(
            model.tie_src.tolist(),
            model.tie_dst.tolist(),
            model.tie_kind.tolist(),
            model.tie_strength.tolist(),
            np.where(
                model.ties.event >= 0,
                model._cluster_rate[np.maximum(model.ties.event, 0)]
                if model._cluster_rate.size
                else 0.0,
                model._pair_rate,
            ).tolist(),
            strict=True,
        )
    )
    return graph


def reference_series(model: ReferenceModel) -> np.ndarray:
    """(steps + 1, 2) array: adoption share and mean capacity, from the DataCollector."""
    frame = model.datacollector.get_model_vars_dataframe()
    return frame[["adoption_share", "mean_capacity"]].to_numpy()
