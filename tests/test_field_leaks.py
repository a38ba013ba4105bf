"""Property: no connector output holds the value of a field the connector did not declare."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner import engine, files
from provisioner.connector import FILE, PupilView, registry
from provisioner.models import YEAR_GROUPS, Pupil
from provisioner.workspace import init_workspace

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
    for name in DATE_FIELDS:
        values[name] = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
    return Pupil(key=f"mis:{values['mis_id']}", row=2, year_group=draw(st.sampled_from(YEAR_GROUPS)),
                 enrolment_status="C", **values)  # fmt: skip


def outputs(workspace, connector, pupil: Pupil) -> list[str]:
    values = engine.pupil_values(workspace, connector, pupil, username="someusername")
    cells = []
    if connector.mode == FILE:
        row = connector.import_row(PupilView(connector.id, values))
        data = files.csv_bytes(connector.import_columns, [row]).decode("utf-8")
        cells = [cell for line in csv.reader(io.StringIO(data)) for cell in line]
    return cells


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return init_workspace(Path(tmp_path_factory.mktemp("leaks")) / "ws", "Leak Test", "leak.sch.uk", [])


@pytest.mark.parametrize("connector_cls", sorted(registry().values(), key=lambda c: c.id), ids=lambda c: c.id)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pupil=pupils())
def test_no_undeclared_field_reaches_the_output(workspace, connector_cls, pupil):
    if connector_cls.mode != FILE:
        pytest.skip("API connectors are checked on the requests their stand-in server receives")
    connector = connector_cls()
    cells = outputs(workspace, connector, pupil)
    assert cells, "the connector produced output to inspect"
    declared = set(connector.fields)
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
