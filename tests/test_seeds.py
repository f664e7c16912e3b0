"""Country streams (``seeds.country_generators``, ``seeds.CountryDraws``): a country's
items draw from their country's own generator, whatever the other countries draw."""

from __future__ import annotations

import numpy as np
import pytest

from mensi_sim.seeds import CountryDraws, country_generators, run_streams


def test_country_generators_are_children_of_the_stream_and_leave_it_alone():
    stream = run_streams(7).rules["contacts"]
    before = stream.bit_generator.state
    first, second = country_generators(stream, 3), country_generators(stream, 3)
    assert stream.bit_generator.state == before  # making them drew nothing from the stream
    # the same children each time (not rng.spawn, which counts its calls)
    assert [g.random() for g in first] == [g.random() for g in second]
    # and different ones per country and from the stream itself
    values = [g.random() for g in country_generators(stream, 3)] + [stream.random()]
    assert len(set(values)) == 4
    # country c's generator does not depend on how many countries there are
    assert country_generators(stream, 5)[2].random() == country_generators(stream, 3)[2].random()


def test_a_generator_without_a_seed_sequence_is_refused():
    class FixedState(np.random.bit_generator.ISeedSequence):
        """A seed source that is not a SeedSequence (no entropy, no spawn key)."""

        def generate_state(self, n_words, dtype=np.uint32):
            return np.arange(1, n_words + 1, dtype=dtype)

    with pytest.raises(TypeError, match="seed sequence"):
        country_generators(np.random.Generator(np.random.PCG64(FixedState())), 2)


def test_items_draw_from_their_own_countrys_generator_in_their_order():
    country = np.array([1, 0, 1, 2, 0])  # not in country order
    draws = CountryDraws.of(country, 3)
    assert draws.counts == (2, 2, 1) and draws.size == 5
    u = draws.uniforms(country_generators(run_streams(3).rules["programme"], 3))
    expected = np.empty(5)
    for c, g in enumerate(country_generators(run_streams(3).rules["programme"], 3)):
        expected[country == c] = g.random(int(np.count_nonzero(country == c)))
    np.testing.assert_array_equal(u, expected)


def test_a_countrys_numbers_do_not_depend_on_another_countrys_items():
    streams = run_streams(11).rules["contacts"]
    few = CountryDraws.of(np.array([0, 1, 1, 2]), 3).uniforms(country_generators(streams, 3))
    many = CountryDraws.of(np.array([0, 0, 0, 1, 1, 2]), 3).uniforms(country_generators(streams, 3))
    np.testing.assert_array_equal(few[1:], many[3:])  # countries 1 and 2: the same numbers
    assert few[0] == many[0]  # country 0's first item too


def test_no_items_give_no_numbers():
    assert (
        CountryDraws.of(np.zeros(0, np.int64), 2)
        .uniforms(country_generators(run_streams(1).rules["contacts"], 2))
        .size
        == 0
    )


def test_a_single_generator_draws_for_items_of_one_country():
    draws = CountryDraws.of(np.zeros(4, np.int64), 1)
    one = draws.uniforms(run_streams(2).rules["contacts"])
    np.testing.assert_array_equal(one, draws.uniforms((run_streams(2).rules["contacts"],)))
    with pytest.raises(ValueError):  # items of two countries need two generators
        CountryDraws.of(np.array([0, 1]), 2).uniforms(run_streams(2).rules["contacts"])
