"""The contract every connector keeps. New connectors are picked up automatically."""

from __future__ import annotations

import re
from datetime import date

import pytest

from provisioner import passwords
from provisioner.connector import API, FILE, MIS_SYNC, Connector, PupilView, registry
from provisioner.errors import UndeclaredFieldError
from provisioner.fields import FIELDS
from provisioner.models import Pupil
from provisioner.register import MANDATORY, load_entries, shipped_entries
from provisioner.usernames import UsernameAllocator, base_username

CONNECTORS = sorted(registry().values(), key=lambda c: c.id)
PLATFORM_IDS = {"purple-mash", "ixl", "tt-rockstars", "bug-club", "lgfl", "education-city", "microsoft-365"}
# Settings that change what a connector sends, beyond its defaults: each is held to the contract too.
VARIANTS = {
    "lgfl": [{"provisioning": "bulk-file"}],
    "microsoft-365": [
        {"licence_sku": "STANDARDWOFFPACK_STUDENT", "optional_fields": ["class_name"], "class_groups": True},
        {"provisioning": "sds-files", "domain": "pupils.example.sch.uk"},
        {"provisioning": "sds-files", "domain": "pupils.example.sch.uk", "optional_fields": ["class_name"],
         "class_groups": True},
    ],
}


def build(cls: type[Connector], raw: dict) -> Connector:
    return cls(cls.Settings.model_validate(raw, context={"connector": cls}))


def instances() -> list[Connector]:
    built = []
    for cls in CONNECTORS:
        for raw in [{}, {"optional_fields": list(cls.optional_fields)}, *VARIANTS.get(cls.id, [])]:
            built.append(build(cls, raw))
    return built


def sample_view(connector: Connector) -> PupilView:
    values = {name: f"value-of-{name}" for name in connector.sent_fields}
    if "date_of_birth" in values:
        values["date_of_birth"] = "2018-03-04"
    return PupilView(connector.id, values)


@pytest.fixture(params=CONNECTORS, ids=lambda c: c.id)
def connector(request) -> type[Connector]:
    return request.param


@pytest.fixture(params=instances(), ids=lambda c: f"{c.id}-{c.mode}-{'+'.join(c.settings.optional_fields) or 'default'}")
def configured(request) -> Connector:
    return request.param


def test_metadata_is_complete(connector):
    assert connector.id in PLATFORM_IDS
    assert connector.name
    assert connector.mode in (FILE, API, MIS_SYNC)
    assert connector.fields, "a connector declares what it sends"
    declared = (*connector.fields, *connector.optional_fields)
    assert len(set(declared)) == len(declared)
    unknown = set(declared) - set(FIELDS)
    assert not unknown, f"fields outside the vocabulary: {unknown}"
    assert 4 <= connector.username_max_length <= 64
    assert connector.sign_in_url.startswith("https://")


def test_what_is_sent_is_declared(configured):
    assert configured.sent_fields
    assert set(configured.sent_fields) - set(FIELDS) == set()
    if configured.mode != MIS_SYNC:
        assert set(configured.sent_fields) <= {*configured.fields, *configured.optional_fields}


def test_the_upn_and_date_of_birth_are_not_sent_unless_the_register_says_so(configured):
    entry = shipped_entries()[configured.id]
    for sensitive in ("upn", "date_of_birth"):
        if sensitive in configured.sent_fields:
            assert sensitive in entry.get("needs", {}), f"{configured.id} sends {sensitive} without saying why"


def test_no_connector_sends_the_upn(configured):
    assert "upn" not in configured.sent_fields


def test_an_unverified_layout_says_so_in_the_register(connector):
    entry = shipped_entries()[connector.id]
    if not connector.verified:
        assert "unverified" in entry.get("import_template", ""), f"{connector.id}: say the layout is unverified"


def test_passwords_meet_the_platforms_rule(configured):
    if not configured.issues_passwords:
        pytest.skip("the platform makes its own passwords")
    rule = configured.password_rule
    made = {passwords.generate(rule) for _ in range(200)}
    assert all(rule.accepts(p) for p in made)
    assert len(made) > 150, "passwords repeat too often"
    if configured.mode == FILE:
        assert {"username", "password"} <= set(configured.sent_fields), "slips need the username and password sent"


def test_a_written_import_gives_back_its_passwords(configured, tmp_path):
    """What finishing a batch after a crash relies on: the passwords of a file already written."""
    if configured.mode != FILE or not configured.issues_passwords:
        pytest.skip("no import with passwords")
    target = tmp_path / configured.import_file_name("20261122-001")
    views = []
    for number in range(3):
        values = dict(sample_view(configured))
        values.update(username=f"pupil{number}", password=f"Tiger{number + 40}", pseudonymous_id=f"id{number}")
        views.append(PupilView(configured.id, values))
    configured.write_import(target, views, "Contract Primary")
    assert configured.passwords_in(target) == {f"pupil{n}": f"Tiger{n + 40}" for n in range(3)}
    assert configured.passwords_in(tmp_path / "missing") == {}


def test_has_a_register_entry_whose_fields_come_from_the_connector(connector):
    entry = load_entries().get(connector.id)
    assert entry is not None, f"registers/{connector.id}.toml is missing"
    for key in ("name", *MANDATORY):
        assert getattr(entry, key).strip(), f"register entry for {connector.id} lacks {key}"
    assert entry.kind == "platform" and entry.fields is None, "never typed twice: the connector declares them"


def test_file_connectors_write_one_value_per_column(configured):
    if configured.mode != FILE or not configured.file_columns:
        pytest.skip("not a file connector with columns")
    row = configured.import_row(sample_view(configured))
    assert len(row) == len(configured.header) == len(set(configured.header))
    assert all(isinstance(v, str) and v for v in row), "every column is filled from a sent field"
    for name in ("20261122-001",):
        assert name in configured.import_file_name(name) and configured.id in configured.import_file_name(name)
        assert name in configured.slips_file_name(name, ".pdf")


def test_every_column_comes_from_a_sent_field(configured):
    if configured.mode != FILE or not configured.file_columns:
        pytest.skip("not a file connector with columns")
    for header, source in configured.file_columns:
        made_from = configured.derived.get(source, (source,))
        assert set(made_from) <= set(configured.sent_fields), f"{header} reads {made_from}"


def test_reading_an_undeclared_field_raises(configured):
    view = sample_view(configured)
    for name in set(FIELDS) - set(configured.sent_fields):
        with pytest.raises(UndeclaredFieldError):
            view[name]
        with pytest.raises(UndeclaredFieldError):
            getattr(view, name)


def test_a_view_never_shows_values_in_its_repr(configured):
    assert "value-of-" not in repr(sample_view(configured))


def test_default_username_rule_makes_a_typeable_name(connector):
    pupil = Pupil(
        key="mis:1", row=2, mis_id="1", legal_forename="Zoë", legal_surname="O’Brien-Łukasz", forename="Zoë",
        surname="O’Brien-Łukasz", year_group="3", class_name="3A", date_of_birth=date(2018, 1, 1),
    )  # fmt: skip
    allocator = UsernameAllocator(set(), connector.username_max_length)
    name = allocator.allocate(base_username(connector.username_template, pupil))
    assert re.fullmatch(r"[a-z0-9]+", name)
    assert len(name) <= connector.username_max_length
