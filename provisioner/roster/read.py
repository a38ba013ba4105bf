"""Reading a roster export: the entry point (``read_roster``) and the order of its steps (see
the package's docstring)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date
from itertools import chain, islice
from pathlib import Path

from provisioner import collector
from provisioner.errors import EmptyRosterError, RosterError
from provisioner.models import Problem, Roster
from provisioner.roster.decode import (
    TEXT_EXTENSIONS,
    WORKBOOK_EXTENSIONS,
    _formula_cells,
    _read_workbook,
    _text_rows,
    _uses_1904_dates,
    check_size,
)
from provisioner.roster.headers import HEADER_SCAN_ROWS, _find_header, _map_columns, alias_map
from provisioner.roster.rows import _read_rows
from provisioner.roster.values import _EXCEL_EPOCH_1900, _EXCEL_EPOCH_1904, _blank
from provisioner.settings import RosterSettings

MSG_NO_PUPILS = "refused: the roster has no pupils"
HINT_NO_PUPILS = (
    "export the pupil list from the MIS again; an empty export is never taken to mean that everyone left"
)


def read_roster(path: Path, settings: RosterSettings | None = None, today: date | None = None) -> Roster:
    """Read and check a roster export. See the package's docstring (``provisioner/roster/__init__.py``)."""
    settings = settings or RosterSettings()
    today = today or date.today()
    path = Path(path)
    aliases = alias_map(settings)
    name = path.name
    suffix = path.suffix.lower()
    if not path.is_file():
        raise RosterError(
            f"roster file not found: {path}" if not path.exists() else f"{path} is not a file",
            hint="check the path, or export the pupil list from the MIS again",
        )
    if suffix not in WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS:
        raise RosterError(
            f"{name}: unsupported file type '{suffix or '(none)'}'",
            hint="export the roster as Excel or CSV; accepted: "
            + " ".join(WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS),
        )
    check_size(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the file is not open elsewhere"
        ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    with collector.paused():  # see provisioner/collector.py
        return _read(path, data, sha256, suffix, aliases, settings, today)


def _read(
    path: Path,
    data: bytes,
    sha256: str,
    suffix: str,
    aliases: dict[str, str],
    settings: RosterSettings,
    today: date,
) -> Roster:
    name = path.name
    warnings: list[Problem] = []
    scanned: dict[str, bool] = {}  # an .xlsx's sheet parts, and whether each has formulas at all

    if suffix in TEXT_EXTENSIONS:
        has_text = data and not data.isspace()
        sheets = iter([(name, _text_rows(data, name, aliases, warnings), False)]) if has_text else iter([])
    else:
        sheets = _read_workbook(data, name, suffix, scanned)

    # The pupils are on the first sheet with a roster's header row. Every sheet is looked at: a
    # roster split over two sheets would lose the second's pupils (who would then look like
    # leavers), and a hidden first sheet is one the school never sees. A sheet's rows are taken
    # as they come (a CSV's as it is read): its top rows to find the header, the rest left to
    # _read_rows, which keeps only the roster's columns of each row.
    header: Sequence | None = None
    below: Iterator[Sequence] = iter(())  # the rows below the header
    header_number = 0  # the header's row, as the spreadsheet numbers it
    any_content = False
    sheet_name = name
    others = []
    for this_name, sheet, hidden in sheets:
        sheet_rows = iter(sheet)
        top = list(islice(sheet_rows, HEADER_SCAN_ROWS))
        found = _find_header(top, aliases)
        if not any_content:
            any_content = found is not None or any(not _blank(c) for row in chain(top, sheet_rows) for c in row)
        if found is None:
            continue
        if header is not None:
            others.append(this_name)
            continue
        if hidden:
            raise RosterError(
                f"{name}: the first sheet with a roster's header row, '{this_name}', is hidden in Excel: it is "
                "not the list the school sees, and the pupils may be on another sheet",
                hint="open the file in Excel, unhide the sheet (right-click a sheet tab, Unhide) or delete it, "
                "keep the pupils on the first sheet, and save the file again",
            )
        header, header_number, sheet_name = top[found], found + 1, this_name
        below = chain(top[found + 1 :], sheet_rows)
    if others:
        listed = ", ".join(f"'{other}'" for other in others)
        warnings.append(Problem(None, None, f"only the sheet '{sheet_name}' was read, but {listed} also "
                                f"{'has' if len(others) == 1 else 'have'} a roster's header row: pupils there "
                                "are not in this roster (and would count as absent); put every pupil on one "
                                "sheet, or export the roster again", "warning"))  # fmt: skip
    if header is None:
        if not any_content:
            raise EmptyRosterError(
                f"{MSG_NO_PUPILS}: {name} is empty",
                hint=HINT_NO_PUPILS,
                problems=[Problem(None, None, MSG_NO_PUPILS)],
            )
        raise RosterError(
            f"{name}: no header row found (looked for column names such as 'UPN', 'Legal Forename', "
            f"'Year', 'Reg Group' in the first {HEADER_SCAN_ROWS} rows of each sheet)",
            hint=(
                "check this is the pupil list and that it has a header row; for unusual header names, say "
                'which field each holds in provisioner.toml, e.g. [roster.columns] "Reg Grp" = "class_name"'
            ),
        )

    columns = _map_columns(header, aliases)
    epoch = (
        _EXCEL_EPOCH_1904 if suffix in (".xlsx", ".xlsm") and _uses_1904_dates(data) else _EXCEL_EPOCH_1900
    )
    formulas = _formula_cells(data, sheet_name, scanned) if suffix in (".xlsx", ".xlsm") else {}
    pupils, errors, row_warnings, invalid, pupil_rows, decisions, unlisted = _read_rows(
        below, header_number + 1, columns, settings, today, epoch, formulas
    )
    warnings.extend(row_warnings)
    if pupil_rows == 0:
        raise EmptyRosterError(
            f"{MSG_NO_PUPILS}: {name} has a header row but no pupil rows",
            hint=HINT_NO_PUPILS,
            problems=[Problem(None, None, MSG_NO_PUPILS), *warnings],
        )
    return Roster(
        source=str(path),
        pupils=pupils,
        errors=errors,
        warnings=warnings,
        columns={field: header for field, (_, header) in columns.items()},
        sha256=sha256,
        invalid_rows=invalid,
        decisions=decisions,
        unlisted_errors=unlisted[0],
        unlisted_warnings=unlisted[1],
    )
