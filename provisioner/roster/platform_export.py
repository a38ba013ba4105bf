"""A platform's own pupil export (csv or xlsx), read as rows of username, names, class and id.

A platform's export is the evidence of what it holds: a reconcile compares it with the accounts
the tool made. Its bytes are decoded as a roster's are (``decode``: a byte-order mark, UTF-8 or
Windows-1252, the delimiter sniffed; workbooks sheet by sheet), and its header row is found and
matched as loosely (``fold_header``: case, spaces and punctuation ignored), against the
spellings platforms' exports use. A school whose platform writes odd headers names them in
``export_columns`` ("our field" = "their header"), which take precedence.

Nothing here checks a value: a cell is kept as the text it shows. A file that cannot be read,
or with no column to match accounts by (a username, or a name), raises RosterError naming what
was found and the setting to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import RosterError
from provisioner.models import Problem
from provisioner.roster.headers import HEADER_SCAN_ROWS, fold_header
from provisioner.roster.values import _cell_text, clean_text

# Our field -> the header spellings platforms' pupil exports use.
EXPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "username": ("Username", "User name", "Login", "Login name", "Log in", "User login", "Pupil username",
                 "Student username"),
    "forename": ("First Name", "Forename", "FirstName", "Given Name", "Pupil first name", "Student first name"),
    "surname": ("Last Name", "Surname", "LastName", "Family Name", "Pupil last name", "Student last name"),
    "full_name": ("Full Name", "Name", "Pupil name", "Student name", "Display name"),
    "class_name": ("Class", "Class Name", "Group", "Group name", "Classes", "Form", "Reg Group"),
    "pseudonymous_id": ("Unique ID", "UPN", "Student ID", "Pupil ID", "User defined ID"),
}  # fmt: skip
EXPORT_FIELDS = tuple(EXPORT_HEADERS)


@dataclass(frozen=True)
class ExportRow:
    """One pupil row of a platform's export, as the cells read (empty when the column is absent)."""

    row: int  # the row number the school sees in the file
    username: str = ""
    forename: str = ""
    surname: str = ""
    full_name: str = ""
    class_name: str = ""
    pseudonymous_id: str = ""

    @property
    def name(self) -> str:
        return self.full_name or " ".join(part for part in (self.forename, self.surname) if part)


@dataclass(frozen=True)
class PlatformExport:
    source: str
    rows: list[ExportRow]
    columns: dict[str, str]  # our field -> the header it was read from


def export_aliases(export_columns: Mapping[str, str] | None) -> dict[str, str]:
    """Folded header text -> our field; the school's ``export_columns`` take precedence."""
    aliases = {fold_header(alias): field for field, names in EXPORT_HEADERS.items() for alias in names}
    for field, header in (export_columns or {}).items():
        aliases[fold_header(header)] = field
    return aliases


def read_platform_export(path: Path, platform_name: str, setting: str,
                         export_columns: Mapping[str, str] | None = None) -> PlatformExport:  # fmt: skip
    """Read a platform's pupil export. ``setting`` names where ``export_columns`` are written
    (``[platforms.ixl]``), for the hint when a column is not found."""
    # The reader's decoding, loaded here: every connector names this module's types, and every
    # command would otherwise wait for it to load.
    from provisioner.roster.decode import TEXT_EXTENSIONS, WORKBOOK_EXTENSIONS, _read_text, _read_workbook, check_size

    path = Path(path)
    name, suffix = path.name, path.suffix.lower()
    if not path.is_file():
        raise RosterError(f"export file not found: {path}" if not path.exists() else f"{path} is not a file",
                          hint=f"check the path, or download the pupil export from {platform_name} again")  # fmt: skip
    if suffix not in WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS:
        raise RosterError(f"{name}: unsupported file type '{suffix or '(none)'}'",
                          hint="give the export as Excel or CSV; accepted: " + " ".join(WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS))  # fmt: skip
    check_size(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"cannot read {path}: {exc.strerror or exc}", hint="check the file is not open elsewhere") from None
    aliases = export_aliases(export_columns)
    warnings: list[Problem] = []
    if suffix in TEXT_EXTENSIONS:
        sheets = iter([(name, _read_text(data, name, aliases, warnings), False)]) if data.strip() else iter([])
    else:
        sheets = _read_workbook(data, name, suffix)
    for _sheet, rows, _hidden in sheets:
        found = _header(rows, aliases)
        if found is not None:
            index, columns = found
            return PlatformExport(str(path), _rows(rows, index, columns), {f: h for f, (_, h) in columns.items()})
    example = '"username" = "Pupil Login"'
    raise RosterError(
        f"{name}: no header row with a username or a pupil's names found in the first {HEADER_SCAN_ROWS} rows "
        f"(looked for headers such as 'Username', 'First Name', 'Last Name', 'Class')",
        hint=f"check this is {platform_name}'s pupil export; if its headers are named otherwise, say which holds "
        f"each field in provisioner.toml, e.g. {setting} export_columns = {{ {example} }}",
    )


def _header(rows: list[list], aliases: dict[str, str]) -> tuple[int, dict[str, tuple[int, str]]] | None:
    """(index of the header row, our field -> (column, header)): the first of the top rows naming
    a username, or both names, or a full name."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns: dict[str, tuple[int, str]] = {}
        for column, cell in enumerate(row):
            text = clean_text(_cell_text(cell))
            field = aliases.get(fold_header(text)) if text else None
            if field and field not in columns:
                columns[field] = (column, text)
        if "username" in columns or {"forename", "surname"} <= set(columns) or "full_name" in columns:
            return index, columns
    return None


def _rows(rows: list[list], header_index: int, columns: dict[str, tuple[int, str]]) -> list[ExportRow]:
    found = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        values = {field: clean_text(_cell_text(row[column])) if column < len(row) else ""
                  for field, (column, _) in columns.items()}  # fmt: skip
        if any(values.values()):
            found.append(ExportRow(index + 1, **values))
    return found
