"""Reproducible randomness: run seeds from a root seed, and named streams within a run.

Replicate r of an experiment with root seed S uses ``SeedSequence(S, spawn_key=(r,))``
(identical to ``SeedSequence(S).spawn(r + 1)[r]``), never anything that depends on
workers or completion order. Within a run the seed is split into three streams, so
that two scenarios differing only in dynamics parameters share the same schools and
networks (common random numbers), and the dynamics stream again into one stream per rule
(``RULE_STREAMS``; Starsim: "one random number generator per distribution"), so that a
rule that draws more or less (a course switched on, more ties meeting) never shifts the
draws of another rule: the same schools adopt on the same uniform numbers in every arm.
"""

from __future__ import annotations

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
