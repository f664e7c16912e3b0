"""Reproducible randomness: run seeds from a root seed, and named streams within a run.

Replicate r of an experiment with root seed S uses ``SeedSequence(S, spawn_key=(r,))``
(identical to ``SeedSequence(S).spawn(r + 1)[r]``), never anything that depends on
workers or completion order. Within a run the seed is split into three streams, so
that two scenarios differing only in dynamics parameters share the same schools and
networks (common random numbers), and the dynamics stream again into one stream per rule
(``RULE_STREAMS``; Starsim: "one random number generator per distribution"), so that a
rule that draws more or less (a course switched on, more ties meeting) never shifts the
draws of another rule: the same schools adopt on the same uniform numbers in every arm.
A rule that draws cluster by cluster draws country by country, from one generator per
country under its stream (``country_generators``, ``CountryDraws``), so that a country's
clusters meet on the same numbers whatever the other countries' structures are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SeedLike = int | np.random.SeedSequence | None
#: the largest root seed: seeds are stored in 64-bit integer columns of the results
MAX_SEED = 2**63 - 1

#: the named streams of the dynamics, one per rule that draws; a new stream is appended
#: (never inserted), so the existing streams keep their numbers
RULE_STREAMS = ("initial", "contacts", "training", "adoption", "opening", "programme", "informal")


@dataclass(frozen=True)
class RunStreams:
    """The random generators of one run."""

    population: np.random.Generator
    network: np.random.Generator
    dynamics: np.random.Generator  # Mesa's ``model.rng``; the rules draw from ``rules``
    rules: dict[str, np.random.Generator]


def replicate_seed(root_seed: int, replicate: int) -> np.random.SeedSequence:
    """The seed sequence of replicate ``replicate`` under ``root_seed``."""
    return np.random.SeedSequence(root_seed, spawn_key=(replicate,))


def run_streams(seed: SeedLike) -> RunStreams:
    """Split a run's seed into the population, network and dynamics streams."""
    if isinstance(seed, np.random.Generator):
        raise TypeError("pass an int seed or a numpy SeedSequence, not a Generator")
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    # children built from (entropy, spawn_key) rather than ss.spawn(), which would mutate
    # ss and give a different split the second time the same object is passed
    population, network, dynamics = (
        np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i)) for i in range(3)
    )
    rules = {
        name: np.random.default_rng(
            np.random.SeedSequence(ss.entropy, spawn_key=(*dynamics.spawn_key, i))
        )
        for i, name in enumerate(RULE_STREAMS)
    }
    return RunStreams(
        population=np.random.default_rng(population),
        network=np.random.default_rng(network),
        dynamics=np.random.default_rng(dynamics),
        rules=rules,
    )


def country_generators(
    rng: np.random.Generator, n_countries: int
) -> tuple[np.random.Generator, ...]:
    """One generator per country under a stream: country c's is seeded by the child
    ``SeedSequence(entropy, spawn_key=(*key, c))`` of ``rng``'s seed sequence.

    A rule that draws country by country (the cluster meetings, the programme's end, the
    structure of ``network.structure_by_country``) then gives a country the same numbers
    whatever the other countries draw: two scenarios that differ in another country's
    structure keep this country's draws. The children are made from the seed, not by
    ``rng.spawn`` (which counts its calls), so the same stream always gives the same ones,
    and drawing from them never moves ``rng``.

    Raises:
        TypeError: ``rng`` was not seeded from a ``SeedSequence`` (a generator rebuilt
            from a bit generator's state has none to derive children from).
    """
    seed = rng.bit_generator.seed_seq
    if not isinstance(seed, np.random.SeedSequence):
        raise TypeError("the generator has no seed sequence to derive country streams from")
    return tuple(
        np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, c)))
        for c in range(n_countries)
    )


@dataclass(frozen=True)
class CountryDraws:
    """How one uniform number per item (a cluster, a tie) is drawn country by country: the
    items of country c take, in their order, the next numbers of country c's generator.

    Attributes:
        counts: Items per country.
        order: The items' positions in country order (a stable sort of their countries),
            or None when they are in country order already.
    """

    counts: tuple[int, ...]
    order: np.ndarray | None

    @classmethod
    def of(cls, country: np.ndarray, n_countries: int) -> CountryDraws:
        """The draws of items whose countries are ``country`` (ints below ``n_countries``)."""
        country = np.asarray(country, dtype=np.int64)
        counts = np.bincount(country, minlength=n_countries)[:n_countries]
        ordered = country.size < 2 or bool(np.all(country[1:] >= country[:-1]))
        order = None if ordered else np.argsort(country, kind="stable")
        return cls(tuple(counts.tolist()), order)

    @property
    def size(self) -> int:
        """Number of items."""
        return sum(self.counts)

    def uniforms(
        self, generators: np.random.Generator | Sequence[np.random.Generator]
    ) -> np.ndarray:
        """One uniform number per item: ``counts[c]`` from ``generators[c]`` for each
        country, put back in the items' order (a single generator: items of one country)."""
        if isinstance(generators, np.random.Generator):
            generators = (generators,)
        parts = [g.random(k) for g, k in zip(generators, self.counts, strict=True) if k]
        if not parts:
            return np.zeros(0)
        u = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if self.order is None:
            return u
        out = np.empty_like(u)
        out[self.order] = u
        return out
