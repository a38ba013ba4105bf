"""The contract every connector keeps. New connectors are picked up automatically."""

from __future__ import annotations

import re
from datetime import date

import pytest

from provisioner.connector import API, FILE, Connector, PupilView, registry
from provisioner.errors import UndeclaredFieldError
from provisioner.fields import FIELDS
from provisioner.register import shipped_entries
from provisioner.usernames import UsernameAllocator, base_username
from provisioner.models import Pupil

CONNECTORS = sorted(registry().values(), key=lambda c: c.id)
PLATFORM_IDS = {"purple-mash", "ixl", "tt-rockstars", "bug-club", "lgfl", "education-city", "microsoft-365"}


def sample_view(connector: type[Connector]) -> PupilView:
    values = {name: f"value-of-{name}" for name in connector.fields}
    return PupilView(connector.id, values)


@pytest.fixture(params=CONNECTORS, ids=lambda c: c.id)
def connector(request) -> type[Connector]:
    return request.param


def test_metadata_is_complete(connector):
    assert connector.id in PLATFORM_IDS
    assert connector.name
    assert connector.mode in (FILE, API)
    assert connector.fields, "a connector declares what it sends"
    assert len(set(connector.fields)) == len(connector.fields)
    unknown = set(connector.fields) - set(FIELDS)
    assert not unknown, f"fields outside the vocabulary: {unknown}"
    assert 4 <= connector.username_max_length <= 64


def test_the_upn_and_date_of_birth_are_not_sent_unless_the_register_says_so(connector):
    entry = shipped_entries()[connector.id]
    for sensitive in ("upn", "date_of_birth"):
        if sensitive in connector.fields:
            assert sensitive in entry.get("needs", {}), f"{connector.id} sends {sensitive} without saying why"


def test_has_a_register_entry(connector):
    entry = shipped_entries().get(connector.id)
    assert entry is not None, f"registers/{connector.id}.toml is missing"
    for key in ("name", "entity", "role", "purpose", "hosting", "deletion"):
        assert entry.get(key), f"register entry for {connector.id} lacks {key}"


def test_file_connectors_write_one_value_per_column(connector):
    if connector.mode != FILE:
        pytest.skip("API connector")
    row = connector().import_row(sample_view(connector))
    assert len(row) == len(connector.import_columns)
    assert all(isinstance(v, str) for v in row)
    name = connector().import_file_name("20261122-001")
    assert "20261122-001" in name and connector.id in name


def test_reading_an_undeclared_field_raises(connector):
    view = sample_view(connector)
    for name in set(FIELDS) - set(connector.fields):
        with pytest.raises(UndeclaredFieldError):
            view[name]
        with pytest.raises(UndeclaredFieldError):
            getattr(view, name)


def test_a_view_never_shows_values_in_its_repr(connector):
    assert "value-of-" not in repr(sample_view(connector))


def test_default_username_rule_makes_a_typeable_name(connector):
    pupil = Pupil(
        key="mis:1", row=2, mis_id="1", legal_forename="Zoë", legal_surname="O’Brien-Łukasz", forename="Zoë",
        surname="O’Brien-Łukasz", year_group="3", class_name="3A", date_of_birth=date(2018, 1, 1),
    )  # fmt: skip
    allocator = UsernameAllocator(set(), connector.username_max_length)
    name = allocator.allocate(base_username(connector.username_template, pupil))
    assert re.fullmatch(r"[a-z0-9]+", name)
    assert len(name) <= connector.username_max_length
