"""Property: no connector output holds the value of a field the connector did not declare."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pydantic import ValidationError

from provisioner.connector import registry
from provisioner.delivery import FileDelivery
from provisioner.planning.projection import project
from provisioner.models import YEAR_GROUPS, Pupil
from provisioner.jobs.create import init_workspace

TEXT_FIELDS = ("legal_forename", "legal_surname", "preferred_forename", "preferred_surname", "forename", "surname",
               "class_name", "gender", "email", "upn", "mis_id")  # fmt: skip
DATE_FIELDS = ("date_of_birth", "admission_date", "leaving_date")

# Letters (with diacritics), apostrophes, hyphens, spaces and formula starters: no digits, so a
# date can never be found inside a name by accident.
name_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzZÉËŁØßçñ’'- =+@", min_size=1, max_size=12)


@st.composite
def pupils(draw) -> Pupil:
    values = {}
    for name in TEXT_FIELDS:
        # Each value is marked with its field, so a value found in the output is this field's.
        values[name] = f"<{name}>{draw(name_text)}</{name}>"
    # Distinct dates, so one field's date in the output is never taken for another's.
    dates = draw(st.lists(st.dates(date(1990, 1, 1), date(2030, 12, 31)), min_size=3, max_size=3, unique=True))
    values.update(zip(DATE_FIELDS, dates))
    return Pupil(key=f"mis:{values['mis_id']}", row=2, year_group=draw(st.sampled_from(YEAR_GROUPS)),
                 enrolment_status="C", **values)  # fmt: skip


def outputs(workspace, connector, pupil: Pupil) -> list[str]:
    """Every cell of every file the connector writes for this pupil."""
    view = project(connector, pupil, username="someusername", pseudonymise=workspace.pseudonymous_ids)
    if connector.issues_passwords:
        view = view.with_values(password="Tiger47")
    target = workspace.root / "out" / connector.delivery.file_name("20261122-001")
    connector.delivery.write(target, [view], "Leak Test")
    written = sorted(target.iterdir()) if target.is_dir() else [target]
    return [cell for path in written for line in rows_of(path) for cell in line]


def rows_of(path: Path) -> list[list[str]]:
    if path.suffix == ".xlsx":  # a sheet to copy rows from (Bug Club)
        return [["" if v is None else str(v) for v in row] for row in load_workbook(path).active.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(path.read_text("utf-8"))))


FILE_VARIANTS = (
    {"file_format": "csv"},
    {"provisioning": "bulk-file"},
    {"provisioning": "sds-files", "domain": "pupils.leak.sch.uk"},
    {"provisioning": "sds-files", "domain": "pupils.leak.sch.uk", "optional_fields": ["class_name"],
     "class_groups": True},
)  # fmt: skip


def file_connectors() -> list:
    """Every file connector, with its default settings and with every optional field on."""
    built = []
    for cls in sorted(registry().values(), key=lambda c: c.id):
        for raw in ({}, {"optional_fields": list(cls.optional_fields)}, *FILE_VARIANTS):
            try:
                connector = cls(cls.Settings.model_validate(raw, context={"connector": cls}))
            except ValidationError:
                continue  # a setting this connector does not have
            if isinstance(connector.delivery, FileDelivery):
                built.append(connector)
    return built


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return init_workspace(Path(tmp_path_factory.mktemp("leaks")) / "ws", "Leak Test", "leak.sch.uk", [])


# API connectors are checked on the requests their stand-in server receives; a platform that
# reads the MIS itself gets nothing from this tool.
@pytest.mark.parametrize("connector", file_connectors(),
                         ids=lambda c: f"{c.id}-{getattr(c.settings, 'provisioning', '') or getattr(c.settings, 'file_format', '')}-"
                             f"{'+'.join(c.settings.optional_fields)}")
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pupil=pupils())
def test_no_undeclared_field_reaches_the_output(workspace, connector, pupil):
    cells = outputs(workspace, connector, pupil)
    assert cells, "the connector produced output to inspect"
    declared = set(connector.sent_fields)
    for name in TEXT_FIELDS:
        if name in declared:
            continue
        marker = f"<{name}>"
        assert not any(marker in cell for cell in cells), f"{connector.id} leaks {name}"
    for name in DATE_FIELDS:
        if name not in declared:
            value = getattr(pupil, name).isoformat()
            assert not any(value in cell for cell in cells), f"{connector.id} leaks {name}"
            day_first = getattr(pupil, name).strftime("%d/%m/%Y")
            assert not any(day_first in cell for cell in cells), f"{connector.id} leaks {name}"
    if "year_group" not in declared:
        assert pupil.year_group not in cells, f"{connector.id} leaks year_group"
    if "pseudonymous_id" not in declared:
        assert workspace.pseudonymous_id(connector.id, pupil.key) not in cells
