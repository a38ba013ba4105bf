"""Read the pupil roster exported from the school's MIS (SIMS, Arbor, Bromcom...).

``read_roster`` accepts Excel/OpenDocument workbooks (.xlsx .xlsm .xls .ods, read with
python-calamine) and delimited text (.csv .txt .tsv). It finds the header row below any
report title rows, maps the school's header spellings to canonical field names, normalises
every value, and checks each row. Row problems are collected, never raised: a row with an
error is left out of ``Roster.pupils``. Problems with the file as a whole raise RosterError.
What was decided in reading it (a 'Preferred Name' column of whole names split, say) is in
``Roster.decisions``.

Messages name the row (as the spreadsheet shows it) and the column header, never a pupil's
name, id or date of birth; the offending cell, for the admin's terminal only, is the
problem's ``value``.

Each step is a module of its own, and each imports only those listed before it:

- ``values``: one cell's value: clean text, year groups, dates, and the messages about values.
- ``headers``: the fields, the header spellings, finding the header row, mapping the columns.
- ``decode``: a file's bytes as rows of cells (text encodings, delimiters, CSV, workbooks).
- ``rows``: each row below the header checked and made a ``Pupil``.
- ``read``: the entry point, ``read_roster``, and the order of the steps.

The public names of the former single-file module are all re-exported here, each loaded when first
asked for: much of the tool needs a cell's cleaning (``values``) and none of the reading, and every
command would otherwise wait for the reader's modules to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provisioner.exports import loaded_on_first_use

if TYPE_CHECKING:
    from provisioner.roster.decode import TEXT_EXTENSIONS, WORKBOOK_EXTENSIONS
    from provisioner.roster.headers import (
        DATE_FIELDS, DROPPED, FIELDS, HEADER_ALIASES, HEADER_SCAN_ROWS, IGNORE, LABELS, NAME_FIELDS, REQUIRED,
        fold_header,
    )  # fmt: skip
    from provisioner.roster.read import HINT_NO_PUPILS, MSG_NO_PUPILS, read_roster
    from provisioner.roster.rows import MSG_FOOTER
    from provisioner.roster.values import (
        MAX_NAME_CHARS, MAX_NAME_WORDS, MSG_BAD_DATE, MSG_BOTH_PLACEHOLDERS, MSG_DATE_IN_TEXT_COLUMN, MSG_EMAIL,
        MSG_FORMULA, MSG_FORMULA_CELL, MSG_LOST_LETTER, MSG_MONTH_FIRST, MSG_NAME_CONTROL, MSG_NAME_FORMULA,
        MSG_NAME_FORMULA_CELL, MSG_NAME_NO_LETTERS, MSG_NAME_TOO_LONG, MSG_NO_SUCH_DATE, MSG_SERIAL,
        MSG_TWO_DIGIT_YEAR, MSG_UNKNOWN_LA, PLACEHOLDERS, YEAR_GROUP_SPELLINGS, clean_text, name_problem,
        normalise_mis_id, parse_date_text, parse_year_group,
    )  # fmt: skip

# The module each public name lives in.
_HOMES = {
    "decode": ("TEXT_EXTENSIONS", "WORKBOOK_EXTENSIONS"),
    "headers": ("DATE_FIELDS", "DROPPED", "FIELDS", "HEADER_ALIASES", "HEADER_SCAN_ROWS", "IGNORE", "LABELS",
                "NAME_FIELDS", "REQUIRED", "fold_header"),
    "read": ("HINT_NO_PUPILS", "MSG_NO_PUPILS", "read_roster"),
    "rows": ("MSG_FOOTER",),
    "values": ("MAX_NAME_CHARS", "MAX_NAME_WORDS", "MSG_BAD_DATE", "MSG_BOTH_PLACEHOLDERS", "MSG_DATE_IN_TEXT_COLUMN",
               "MSG_EMAIL", "MSG_FORMULA", "MSG_FORMULA_CELL", "MSG_LOST_LETTER", "MSG_MONTH_FIRST",
               "MSG_NAME_CONTROL", "MSG_NAME_FORMULA", "MSG_NAME_FORMULA_CELL", "MSG_NAME_NO_LETTERS",
               "MSG_NAME_TOO_LONG", "MSG_NO_SUCH_DATE", "MSG_SERIAL", "MSG_TWO_DIGIT_YEAR", "MSG_UNKNOWN_LA",
               "PLACEHOLDERS", "YEAR_GROUP_SPELLINGS", "clean_text", "name_problem", "normalise_mis_id",
               "parse_date_text", "parse_year_group"),
}  # fmt: skip
__getattr__ = loaded_on_first_use(__name__, _HOMES)

__all__ = [
    "DATE_FIELDS", "DROPPED", "FIELDS", "HEADER_ALIASES", "HEADER_SCAN_ROWS", "HINT_NO_PUPILS", "IGNORE",
    "LABELS", "MAX_NAME_CHARS", "MAX_NAME_WORDS", "MSG_BAD_DATE", "MSG_BOTH_PLACEHOLDERS",
    "MSG_DATE_IN_TEXT_COLUMN", "MSG_EMAIL", "MSG_FOOTER", "MSG_FORMULA", "MSG_FORMULA_CELL", "MSG_LOST_LETTER",
    "MSG_MONTH_FIRST", "MSG_NAME_CONTROL", "MSG_NAME_FORMULA", "MSG_NAME_FORMULA_CELL", "MSG_NAME_NO_LETTERS",
    "MSG_NAME_TOO_LONG", "MSG_NO_PUPILS", "MSG_NO_SUCH_DATE", "MSG_SERIAL", "MSG_TWO_DIGIT_YEAR",
    "MSG_UNKNOWN_LA", "NAME_FIELDS", "PLACEHOLDERS", "REQUIRED", "TEXT_EXTENSIONS", "WORKBOOK_EXTENSIONS",
    "YEAR_GROUP_SPELLINGS", "clean_text", "fold_header", "name_problem", "normalise_mis_id", "parse_date_text",
    "parse_year_group", "read_roster",
]  # fmt: skip
