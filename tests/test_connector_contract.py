"""The contract every connector keeps, found in the connector registry: a new platform is held to
all of it with no edit here (see test_toy_platform.py, which adds one and runs this suite on it).

- Every connector: metadata, a register entry, the fields it sends, the view that refuses any
  other field, usernames a child can type, passwords the platform accepts.
- A connector reached by files to upload: a file written whole gives back its passwords; an
  import file in columns has one value per column, every column made from a sent field, and
  read back through the roster reader's header matching it says what each column holds. With
  file settings other than its defaults (a byte-order mark or none, semicolons or tabs, every
  value quoted, ISO dates, "Year 3" or numbered year groups) the file still reads back, through
  the roster reader's decoding, to the values sent, formulas still neutralised.
- A connector reached through an API: create, update, disable, enable, delete, restore and erase
  against a double of the platform, each confirmed by reading the platform back; a send repeated
  after a crash adopts the account instead of making a second. A connector that does not offer a
  hook (``lifecycle``) skips only that test.

An API connector's double is a fixture named after it (``microsoft_365_double`` for
``microsoft-365``), giving the settings that point the connector at it; a connector whose
platform needs no server (a toy) is run with its default settings.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from provisioner import passwords
from provisioner.connector import ApiConnector, Connector, ImportFileConnector, PupilView, Work, registry
from provisioner.connector.settings import FILE_CHOICES, FILE_KEYS
from provisioner.delivery import FileDelivery, FileImport, PasteSheet
from provisioner.errors import UndeclaredFieldError
from provisioner.fields import FIELDS
from provisioner.files import neutralise
from provisioner.models import Pupil
from provisioner.register import MANDATORY, gap_kind, load_entries, shipped_entries
from provisioner.roster.decode import _read_text
from provisioner.roster.headers import alias_map, fold_header
from provisioner.roster.values import parse_date_text, parse_year_group
from provisioner.settings import RosterSettings
from provisioner.usernames import UsernameAllocator, base_username
from provisioner.xlsx import TEXT_FORMAT

CONNECTORS = sorted(registry().values(), key=lambda c: c.id)
API_CONNECTORS = [c for c in CONNECTORS if issubclass(c, ApiConnector)]
# Settings that change what a connector sends or how it is reached, beyond its defaults: each is
# held to the contract too. A connector not named here is tested with its defaults and with every
# optional field on.
VARIANTS = {
    "bug-club": [{"file_format": "csv"}],
    "lgfl": [{"provisioning": "bulk-file"}],
    "microsoft-365": [
        {"licence_sku": "STANDARDWOFFPACK_STUDENT", "optional_fields": ["class_name"], "class_groups": True},
        {"provisioning": "sds-files", "domain": "pupils.example.sch.uk"},
        {"provisioning": "sds-files", "domain": "pupils.example.sch.uk", "optional_fields": ["class_name"],
         "class_groups": True},
    ],
}  # fmt: skip
# The roster's name fields and the names a platform is sent are the same people's names.
SAME_FIELD = {"legal_forename": "forename", "preferred_forename": "forename", "legal_surname": "surname",
              "preferred_surname": "surname"}  # fmt: skip


def build(cls: type[Connector], raw: dict) -> Connector:
    return cls(cls.Settings.model_validate(raw, context={"connector": cls}))


def instances() -> list[Connector]:
    built = []
    for cls in CONNECTORS:
        for raw in [{}, {"optional_fields": list(cls.optional_fields)}, *VARIANTS.get(cls.id, [])]:
            built.append(build(cls, raw))
    return built


def sample_values(connector: Connector) -> dict[str, str]:
    """A distinct value for every field sent, so a value found in a file says which field it is."""
    values = {name: f"value-of-{name}" for name in connector.sent_fields}
    values.update({k: v for k, v in {"date_of_birth": "2018-03-04", "year_group": "4", "class_name": "4W",
                                     "username": "pupilname", "password": "Tiger47"}.items() if k in values})  # fmt: skip
    return values


def sample_view(connector: Connector) -> PupilView:
    return connector.view(sample_values(connector))


def file_delivery(connector: Connector) -> FileDelivery:
    if not isinstance(connector.delivery, FileDelivery):
        pytest.skip("not reached by files to upload")
    return connector.delivery


def column_layout(connector: Connector) -> FileImport:
    if not isinstance(connector.delivery, FileImport):
        pytest.skip("not an import file laid out in columns")
    return connector.delivery


@pytest.fixture(params=CONNECTORS, ids=lambda c: c.id)
def connector(request) -> type[Connector]:
    return request.param


@pytest.fixture(params=instances(), ids=lambda c: f"{c.id}-{c.delivery.kind}-{'+'.join(c.settings.optional_fields) or 'default'}")
def configured(request) -> Connector:
    return request.param


# Every connector


def test_metadata_is_complete(connector):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", connector.id), "an id fit for a file name and a settings key"
    assert connector.name
    assert connector.fields, "a connector declares what it sends"
    declared = (*connector.fields, *connector.optional_fields)
    assert len(set(declared)) == len(declared)
    unknown = set(declared) - set(FIELDS)
    assert not unknown, f"fields outside the vocabulary: {unknown}"
    assert 4 <= connector.username_max_length <= 64
    assert connector.sign_in_url.startswith("https://")
    assert connector().delivery.kind, "a connector chooses how it is reached"


def test_what_is_sent_is_declared(configured):
    assert configured.sent_fields
    assert set(configured.sent_fields) - set(FIELDS) == set()
    if configured.delivery.makes_accounts:
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
        assert gap_kind(entry.get("import_template", "")) == "supplier", f"{connector.id}: ask the supplier its layout"


def test_has_a_register_entry_whose_fields_come_from_the_connector(connector):
    entry = load_entries().get(connector.id)
    assert entry is not None, f"registers/{connector.id}.toml is missing"
    for key in ("name", *MANDATORY):
        assert getattr(entry, key).strip(), f"register entry for {connector.id} lacks {key}"
    assert entry.kind == "platform" and entry.fields is None, "never typed twice: the connector declares them"


@pytest.mark.parametrize("longer", [None, 8, 10], ids=["default", "min8", "min10"])
def test_passwords_meet_the_platforms_rule(configured, longer):
    """Never shorter than six characters (no Cat47), never shorter than the platform's own
    minimum, at least what the school asks for, and still varied when it asks for more."""
    if not configured.issues_passwords:
        pytest.skip("the platform makes its own passwords")
    assert configured.password_rule.min_length >= passwords.MIN_LENGTH
    if longer is not None:
        raw = {**configured.settings.model_dump(exclude_unset=True), "password_min_length": longer}
        configured = build(type(configured), raw)
    rule = configured.effective_password_rule
    # One at a time (an API's reset), and many from one supply (an import file's first passwords).
    supply = passwords.supply(rule)
    for made in ({passwords.generate(rule) for _ in range(200)}, {next(supply) for _ in range(200)}):
        shortest = max(passwords.MIN_LENGTH, configured.password_rule.min_length, longer or 0)
        assert all(rule.accepts(p) and len(p) >= shortest for p in made), sorted(made, key=len)[:3]
        assert len(made) > 150, "passwords repeat too often"
        for password in made:  # the rule's words from the list, capitalised, then its digits (no 0 or 1)
            stem, digits = password[:-rule.digits], password[-rule.digits:]
            words = re.findall("[A-Z][a-z]*", stem)
            assert set(digits) <= set(passwords.DIGITS) and len(words) == rule.words, password
            assert all(word.lower() in passwords.WORDS for word in words), password
            assert re.sub("[A-Z][a-z]*", "", stem) == rule.separator * rule.words, password
    assert {"username", "password"} <= set(configured.sent_fields), "slips need the username and password sent"


def test_reading_an_undeclared_field_raises(configured):
    view = sample_view(configured)
    for name in set(FIELDS) - set(configured.sent_fields):
        with pytest.raises(UndeclaredFieldError):
            view[name]
        with pytest.raises(UndeclaredFieldError):
            getattr(view, name)
        with pytest.raises(UndeclaredFieldError):
            view.with_values(**{name: "x"})
        assert name not in view, "asking whether a field is there is not reading it"
    # A value of a field no longer sent (turned off since it was recorded) is not the connector's to read.
    stale = configured.view(dict.fromkeys(FIELDS, "held-before"))
    assert set(stale) == set(configured.sent_fields)
    for name in set(FIELDS) - set(configured.sent_fields):
        with pytest.raises(UndeclaredFieldError):
            stale[name]


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


# A connector reached by an import file


def written_rows(delivery: FileImport, tmp_path, views: list[PupilView]) -> list[list[str]]:
    target = tmp_path / delivery.file_name("20261122-001")
    delivery.write(target, views, "Contract Primary")
    if target.suffix == ".xlsx":
        return [["" if v is None else v for v in row] for row in load_workbook(target).active.iter_rows(values_only=True)]
    written = sorted(target.iterdir()) if target.is_dir() else [target]
    return [row for path in written for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))]


def test_file_connectors_write_one_value_per_column(configured):
    delivery = column_layout(configured)
    row = delivery.import_row(sample_view(configured))
    assert len(row) == len(delivery.header) == len(set(delivery.header))
    assert all(isinstance(v, str) and v for v in row), "every column is filled from a sent field"
    assert "20261122-001" in delivery.file_name("20261122-001") and configured.id in delivery.file_name("x")
    assert "20261122-001" in configured.slips_file_name("20261122-001", ".pdf")


def test_every_column_comes_from_a_sent_field(configured):
    delivery = column_layout(configured)
    for header, source in delivery.file_columns:
        made_from = configured.derived.get(source, (source,))
        assert set(made_from) <= set(configured.sent_fields), f"{header} reads {made_from}"


def test_the_file_read_back_says_what_each_column_holds(configured, tmp_path):
    """Read the written file's header as the roster reader would: a column it takes for a field
    holds that field's value (a stable-id column may hold the pseudonymous id, never the UPN)."""
    delivery = column_layout(configured)
    values = sample_values(configured)
    [header, row] = written_rows(delivery, tmp_path, [sample_view(configured)])
    aliases = alias_map(RosterSettings())
    understood = 0
    for title, cell in zip(header, row):
        field = aliases.get(fold_header(title))
        if field not in FIELDS and field not in SAME_FIELD:
            continue  # a header the roster reader does not take for a pupil field (Username, Full Name)
        understood += 1
        expected = SAME_FIELD.get(field, field)
        if expected == "upn":
            assert cell == values.get("pseudonymous_id"), f"'{title}' holds the platform's pseudonymous id"
        elif expected == "date_of_birth":
            assert parse_date_text(cell)[0] == date.fromisoformat(values["date_of_birth"]), f"'{title}'"
        else:
            assert cell == values.get(expected), f"'{title}' is read as {field} but holds something else"
    assert understood, "the file's headers say what its columns hold"


def test_a_written_import_gives_back_its_passwords(configured, tmp_path):
    """What finishing a batch after a crash relies on: the passwords of a file already written."""
    delivery = file_delivery(configured)
    if not configured.issues_passwords:
        pytest.skip("no import with passwords")
    target = tmp_path / delivery.file_name("20261122-001")
    views = [sample_view(configured).with_values(username=f"pupil{n}", password=f"Tiger{n + 40}",
                                                 **({"pseudonymous_id": f"id{n}"}
                                                    if "pseudonymous_id" in configured.sent_fields else {}))
             for n in range(3)]  # fmt: skip
    delivery.write(target, views, "Contract Primary")
    assert delivery.passwords_in(target) == {f"pupil{n}": f"Tiger{n + 40}" for n in range(3)}
    assert delivery.passwords_in(tmp_path / "missing") == {}


# How an import file is written: the file settings

FILE_SETTINGS = {
    "bom-semicolon-all-iso-words": {"encoding": "utf-8-sig", "delimiter": ";", "quoting": "all",
                                    "date_format": "yyyy-mm-dd", "year_group_style": "words"},
    "plain-tab-minimal-dmy-number": {"encoding": "utf-8", "delimiter": "tab", "quoting": "minimal",
                                     "date_format": "dd/mm/yyyy", "year_group_style": "number"},
}  # fmt: skip


def file_layouts() -> list[tuple[type[Connector], dict]]:
    """(connector, settings) for each way a connector is fed a CSV import file in columns, every
    optional field on, so each column a file setting formats is in it."""
    found = []
    for cls in CONNECTORS:
        for raw in [{"optional_fields": list(cls.optional_fields)}, *VARIANTS.get(cls.id, [])]:
            delivery = build(cls, raw).delivery
            if isinstance(delivery, FileImport) and not delivery.file_name("x").endswith(".xlsx"):
                found.append((cls, raw))
    return found


def test_a_platforms_own_file_defaults_are_settings_it_could_be_given(connector):
    if not issubclass(connector, ImportFileConnector):
        pytest.skip("not fed an import file")
    assert set(connector.file_defaults) <= set(FILE_KEYS)
    for name, value in connector.file_defaults.items():
        assert value in FILE_CHOICES[name], f"{connector.id}: {name} = {value!r}"


@pytest.mark.parametrize("chosen", FILE_SETTINGS.values(), ids=FILE_SETTINGS.keys())
@pytest.mark.parametrize("layout", file_layouts(), ids=lambda layout: layout[0].id)
def test_the_file_settings_round_trip(layout, chosen, tmp_path):
    """Names with accents, the delimiter and quotes inside values, a value that would start a
    formula, a Reception pupil and a Year 4 one: the file written with these settings, read back
    as the roster reader decodes and splits a file, gives the values sent."""
    cls, raw = layout
    connector = build(cls, {**raw, **chosen})
    delivery = connector.delivery
    specials = {"forename": "Chloé", "surname": 'Nguyễn; "Jr", O’Brien', "class_name": "=3A+1\t"}
    views = []
    for number, (year, born) in enumerate((("R", "2021-09-01"), ("4", "2017-12-31"))):
        values = {name: f"{specials.get(name, name)}{number}" for name in connector.sent_fields}
        values.update({k: v for k, v in {"date_of_birth": born, "year_group": year, "username": f"pupil{number}",
                                         "password": f"Tiger{number + 40}"}.items() if k in values})  # fmt: skip
        views.append(connector.view(values))
    target = tmp_path / delivery.file_name("20261122-001")
    delivery.write(target, views, "Contract Primary")
    data = target.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) == (chosen["encoding"] == "utf-8-sig")
    warnings = []
    table = _read_text(data, target.name, alias_map(RosterSettings()), warnings)
    assert warnings == [], "read as UTF-8, nothing replaced"
    delimiter = "\t" if chosen["delimiter"] == "tab" else chosen["delimiter"]
    text = data.decode("utf-8-sig")
    split = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert table == split, "the roster reader finds the delimiter"
    first_line = text.split("\r\n", 1)[0]
    assert first_line.startswith('"') == (chosen["quoting"] == "all")
    assert table[0] == delivery.header
    assert len(table) == 1 + len(views) and all(len(row) == len(delivery.header) for row in table)
    for view, row in zip(views, table[1:]):
        sent = connector.file_values(view)
        for (header, source), cell in zip(delivery.file_columns, row):
            if source == "date_of_birth":
                assert parse_date_text(cell)[0] == date.fromisoformat(sent[source]), header
            elif source == "year_group":
                assert ("R" if cell == "0" else parse_year_group(cell)) == sent[source], header
            else:
                assert cell == neutralise(sent[source]), f"{header} reads back as sent, formulas made text"
    assert delivery.passwords_in(target) == {"pupil0": "Tiger40", "pupil1": "Tiger41"}, "a crash keeps its passwords"


def sheet_layouts() -> list[tuple[type[Connector], dict]]:
    """(connector, settings) for each way a connector is fed a sheet to copy rows from, every optional field on."""
    found = []
    for cls in CONNECTORS:
        for raw in [{"optional_fields": list(cls.optional_fields)}, *VARIANTS.get(cls.id, [])]:
            delivery = build(cls, raw).delivery
            if isinstance(delivery, PasteSheet) and delivery.file_name("x").endswith(".xlsx"):
                found.append((cls, raw))
    return found


@pytest.mark.parametrize("chosen", [{}, {"date_format": "yyyy-mm-dd", "year_group_style": "words"}],
                         ids=["defaults", "iso-words"])  # fmt: skip
@pytest.mark.parametrize("layout", sheet_layouts(), ids=lambda layout: layout[0].id)
def test_a_paste_sheet_round_trips_as_text(layout, chosen, tmp_path):
    """A sheet the admin copies rows from: a header row in the file's column order, every cell
    typed Text (so Excel keeps a date and a leading zero as written), values as sent with
    formulas made text, and its passwords read back for a crash."""
    cls, raw = layout
    connector = build(cls, {**raw, **chosen})
    delivery = connector.delivery
    specials = {"forename": "Chloé", "surname": 'Nguyễn; "Jr", O’Brien', "class_name": "=3A+1"}
    views = []
    for number, (year, born) in enumerate((("R", "2021-09-01"), ("4", "2017-12-31"))):
        values = {name: f"{specials.get(name, name)}{number}" for name in connector.sent_fields}
        values.update({k: v for k, v in {"date_of_birth": born, "year_group": year, "username": f"0pupil{number}",
                                         "password": f"Tiger{number + 40}"}.items() if k in values})  # fmt: skip
        views.append(connector.view(values))
    target = tmp_path / delivery.file_name("20261122-001")
    assert target.suffix == ".xlsx"
    delivery.write(target, views, "Contract Primary")
    sheet = load_workbook(target).active
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == delivery.header
    assert all(c.data_type == "s" and c.number_format == TEXT_FORMAT for row in cells for c in row if c.value)
    for view, row in zip(views, cells[1:], strict=True):
        expected = [neutralise(v) for v in delivery.import_row(view)]
        assert [c.value or "" for c in row] == expected
        dates = [c.value for (_, source), c in zip(delivery.file_columns, row) if source == "date_of_birth"]
        assert all(parse_date_text(d)[0] == date.fromisoformat(view["date_of_birth"]) for d in dates)
    assert delivery.passwords_in(target) == {"0pupil0": "Tiger40", "0pupil1": "Tiger41"}, "a crash keeps its passwords"
    assert delivery.passwords_in(tmp_path / "missing.xlsx") == {}


# A connector reached through its API


@pytest.fixture(params=API_CONNECTORS, ids=lambda c: c.id)
def api(request):
    """(connector, session) pointed at the platform's double."""
    cls = request.param
    try:
        settings = request.getfixturevalue(f"{cls.id.replace('-', '_')}_double")
    except pytest.FixtureLookupError:
        settings = {}  # a platform with no server to stand in for
    connector = build(cls, {"enabled": True, **settings})
    return connector, connector.connect("contract.sch.uk")


def pupil_work(connector: ApiConnector, number: int, action: str = "create", changed=None, remote_id=None) -> Work:
    values = {name: f"Value{number}{name.replace('_', '')}"[:30] for name in connector.sent_fields}
    values.update(username=f"contract{number}", password=passwords.generate(connector.password_rule))
    if "pseudonymous_id" in values:
        values["pseudonymous_id"] = f"{number:016x}"
    view = connector.view(values)
    return Work(number, action, view, list(changed or view), remote_id)


def made(connector: ApiConnector, session, count: int = 2) -> list[str]:
    work = [pupil_work(connector, n) for n in range(1, count + 1)]
    outcomes = list(connector.push(session, work, lambda taken: taken + "x"))
    assert [o.ok for o in outcomes] == [True] * count, [o.error for o in outcomes]
    return [o.remote_id for o in outcomes]


def needs(connector: ApiConnector, *hooks: str) -> None:
    missing = [hook for hook in hooks if hook not in connector.lifecycle]
    if missing:
        pytest.skip(f"{connector.name} does not offer {', '.join(missing)}")


def test_api_create_is_read_back(api):
    connector, session = api
    ids = made(connector, session)
    seen = connector.look_up(session, ids)
    for number, remote_id in enumerate(ids, start=1):
        account = seen[remote_id]
        assert account is not None and account.enabled and not account.deleted
        assert account.username == f"contract{number}"
        sent = pupil_work(connector, number).values
        for name, value in account.values.items():
            assert value == sent[name], f"{name} as the platform shows it is what was sent"


def test_api_update_is_read_back(api):
    connector, session = api
    [remote_id] = made(connector, session, 1)
    name = next(n for n in ("surname", "forename") if n in connector.sent_fields)
    update = pupil_work(connector, 1, "update", changed=[name], remote_id=remote_id)
    update.values = update.values.with_values(**{name: "Renamed"})
    [outcome] = connector.push(session, [update], lambda taken: taken + "x")
    assert outcome.ok and outcome.remote_id == remote_id
    assert connector.look_up(session, [remote_id])[remote_id].values[name] == "Renamed"


def test_api_push_repeated_after_a_crash_adopts_the_account(api):
    connector, session = api
    [remote_id] = made(connector, session, 1)
    again = connector.connect("contract.sch.uk")  # the next run reads the platform afresh
    [outcome] = connector.push(again, [pupil_work(connector, 1)], lambda taken: taken + "x")
    assert outcome.ok and outcome.remote_id == remote_id, "the same account, not a second one"


def test_api_disable_and_enable_are_read_back(api):
    connector, session = api
    needs(connector, "disable", "enable")
    ids = made(connector, session)
    assert connector.disable(session, ids) == dict.fromkeys(ids, True)
    assert all(not account.enabled for account in connector.look_up(session, ids).values())
    assert connector.enable(session, ids[:1]) == {ids[0]: True}
    seen = connector.look_up(session, ids)
    assert seen[ids[0]].enabled and not seen[ids[1]].enabled, "only the returner signs in again"


def test_api_delete_and_restore_are_read_back(api):
    connector, session = api
    needs(connector, "delete", "restore")
    ids = made(connector, session)
    assert connector.delete(session, ids) == dict.fromkeys(ids, True)
    assert all(account.deleted for account in connector.look_up(session, ids).values()), "deleted, restorable"
    assert connector.restore(session, ids[:1]) == {ids[0]: True}
    seen = connector.look_up(session, ids)
    assert not seen[ids[0]].deleted and seen[ids[1]].deleted


def test_api_erase_leaves_nothing_to_restore(api):
    connector, session = api
    needs(connector, "erase")
    ids = made(connector, session)
    assert connector.erase(session, ids[:1]) == {ids[0]: True}
    seen = connector.look_up(session, ids)
    assert seen[ids[0]] is None, "gone for good"
    assert seen[ids[1]] is not None and not seen[ids[1]].deleted, "only the erased account"
