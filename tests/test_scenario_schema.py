"""Scenario files: strict validation with one-line messages naming file, field and range."""

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mensi_sim import Scenario, ScenarioError, load_scenario
from mensi_sim.scenario.schema import (
    AdoptionParams,
    ContactParams,
    CostParams,
    EngagementParams,
    LearningParams,
    NetworkParams,
    OpeningParams,
    PopulationParams,
    TimeParams,
)

SHIPPED = sorted(Path("scenarios").glob("*.toml"))
SECTIONS = {
    "time": TimeParams,
    "population": PopulationParams,
    "network": NetworkParams,
    "contacts": ContactParams,
    "learning": LearningParams,
    "adoption": AdoptionParams,
    "engagement": EngagementParams,
    "opening": OpeningParams,
    "costs": CostParams,
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_validate(path):
    sc = load_scenario(path)
    assert sc.description, "every shipped scenario has a one-line description"


def test_pilot_numbers():
    sc = load_scenario("scenarios/mensi_pilot.toml")
    assert sc.population.n_schools == 120 and len(sc.population.countries) == 6
    assert sc.population.regions_per_country == 4 and sc.network.mentees_per_mentor == 4
    assert sc.training.courses[0].completion_prob == pytest.approx(74 / 93, abs=1e-4)
    national = load_scenario("scenarios/italy_national.toml")
    assert 31_000 <= national.population.n_schools <= 32_000 and national.opening.enabled
    assert national.time.steps == 156


def test_missing_file(tmp_path):
    assert "file not found" in error_of(tmp_path / "nope.toml")


def test_bad_toml(tmp_path):
    assert "not valid TOML" in error_of(write(tmp_path, "[time\nsteps = 3"))


def test_unknown_key_is_named(tmp_path):
    msg = error_of(write(tmp_path, "[adoption]\npq = 0.1\n"))
    assert "adoption.pq" in msg and "unknown key" in msg


def test_wrong_type_is_named(tmp_path):
    msg = error_of(write(tmp_path, '[time]\nsteps = "ten"\n'))
    assert "time.steps" in msg and "integer" in msg


def test_out_of_range_names_the_allowed_range(tmp_path):
    msg = error_of(write(tmp_path, "[contacts]\nrate_online = 1.5\n"))
    assert "contacts.rate_online" in msg and "0 <= value <= 1" in msg


def test_cross_field_errors(tmp_path):
    msg = error_of(write(tmp_path, "[adoption]\ninitial = 'ids'\ninitial_ids = [500]\n"))
    assert "initial_ids" in msg
    msg = error_of(
        write(tmp_path, "[population]\ncountries = ['A', 'B']\ncountry_weights = [1.0]\n")
    )
    assert "country_weights" in msg


def test_unknown_structure_lists_choices(tmp_path):
    msg = error_of(write(tmp_path, "[network]\nstructure = 'mesh'\n"))
    assert "network.structure" in msg and "top_down" in msg


def test_with_updates_validates():
    sc = Scenario()
    assert sc.with_updates({"adoption.p": 0.01}).adoption.p == 0.01
    with pytest.raises(KeyError):
        sc.with_updates({"adoption.nope": 1})
    with pytest.raises(ValueError):
        sc.with_updates({"adoption.p": -1.0})


def _numeric_fields():
    for section, model in SECTIONS.items():
        for name, info in model.model_fields.items():
            if info.annotation in (int, float):
                yield section, name, info


NUMERIC = list(_numeric_fields())
# what these properties test is the message, not the time: no deadline, and no health check
# on slow data generation (both fail on a loaded machine, not on a wrong answer)
PROPERTY_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=150, deadline=None, suppress_health_check=PROPERTY_CHECKS)
@given(
    field=st.sampled_from(NUMERIC),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**12), 10**12)),
)
def test_any_numeric_value_is_accepted_or_rejected_with_its_name(tmp_path, field, value):
    section, name, info = field
    if isinstance(value, float) and math.isnan(value):
        literal = "nan"
    elif isinstance(value, float) and math.isinf(value):
        literal = "inf" if value > 0 else "-inf"
    else:
        literal = repr(value)
    path = write(tmp_path, f"[{section}]\n{name} = {literal}\n")
    try:
        sc = load_scenario(path)
    except ScenarioError as err:
        message = str(err)
        assert "\n" not in message and str(path) in message
        assert f"{section}.{name}" in message or section in message
        return
    accepted = getattr(getattr(sc, section), name)
    assert not (isinstance(accepted, float) and math.isnan(accepted)), "NaN must be rejected"
    for meta in info.metadata:
        for attr, check in (
            ("ge", lambda a, b: a >= b),
            ("le", lambda a, b: a <= b),
            ("gt", lambda a, b: a > b),
            ("lt", lambda a, b: a < b),
        ):
            bound = getattr(meta, attr, None)
            if bound is not None:
                assert check(accepted, bound), (section, name, accepted)


@settings(max_examples=60, deadline=None, suppress_health_check=PROPERTY_CHECKS)
@given(
    key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
    section=st.sampled_from(sorted(SECTIONS)),
)
def test_any_unknown_key_is_rejected_by_name(tmp_path, key, section):
    if key in SECTIONS[section].model_fields:
        return
    msg = error_of(write(tmp_path, f"[{section}]\n{key} = 1\n"))
    assert f"{section}.{key}" in msg and "unknown key" in msg
