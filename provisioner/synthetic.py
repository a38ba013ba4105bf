"""Deterministic synthetic pupil rosters, and writers that mimic MIS exports.

Every name is made up from lists of common names; no row describes a real child. The same
``seed`` and ``today`` give the same roster. Used by the demo, the tests and the benchmark.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from provisioner.upn import ALPHABET, check_letter

FIRST_NAMES_F = (
    "Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow", "Rosie",
    "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy", "Elsie", "Emily", "Ella", "Evelyn",
    "Phoebe", "Sofia", "Evie", "Charlotte", "Harper", "Matilda", "Ruby", "Alice", "Jessica", "Hannah",
    "Aisha", "Maryam", "Fatima", "Amira", "Priya", "Niamh", "Megan", "Erin", "Katie", "Chloe", "Holly",
)  # fmt: skip
FIRST_NAMES_M = (
    "Oliver", "George", "Noah", "Arthur", "Muhammad", "Leo", "Harry", "Oscar", "Archie", "Henry",
    "Theodore", "Freddie", "Jack", "Charlie", "Theo", "Alfie", "Jacob", "Thomas", "Finley", "Arlo",
    "William", "Alexander", "James", "Joshua", "Samuel", "Daniel", "Benjamin", "Edward", "Ibrahim",
    "Yusuf", "Ethan", "Reuben", "Rory", "Callum", "Dylan", "Owen", "Rhys", "Kai", "Max", "Lewis",
)  # fmt: skip
# Names with diacritics, apostrophes and capitals inside: about one pupil in eight.
FIRST_NAMES_F_SPECIAL = ("Zoë", "Chloé", "Siân", "Anaïs", "Zofia", "Małgorzata", "Ayşe", "Renée", "Inès")
FIRST_NAMES_M_SPECIAL = (
    "Łukasz",
    "José",
    "Rónán",
    "Jérôme",
    "Şükrü",
    "Dáithí",
    "Kacper",
    "Mátyás",
    "D'Andre",
)
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
    "Patel", "Khan", "Ahmed", "Hussain", "Begum", "Ali", "Singh", "Kaur", "Lewis", "Harris", "Martin",
    "Cooper", "Hughes", "Edwards", "Turner", "Hill", "Moore", "Clark", "Baker", "Morgan", "Price",
    "Bennett", "Griffiths", "Shaw", "Mitchell", "Chapman", "Ward", "Fletcher", "Nowak", "Okafor",
)  # fmt: skip
SURNAMES_SPECIAL = (
    "O’Brien", "O'Neill", "D'Souza", "Smith-Jones", "de la Cruz", "Kowalczyk-Wiśniewska", "Ní Bhriain",
    "McAllister", "Müller", "Łęcki", "Nuñez", "van der Berg", "Da Silva", "Lloyd Webber", "Öztürk",
    "MacDonald", "O’Connor", "Brontë",
)  # fmt: skip
NICKNAMES = {
    "Alexander": "Alex", "William": "Will", "Thomas": "Tom", "Samuel": "Sam", "Benjamin": "Ben",
    "Joshua": "Josh", "Daniel": "Dan", "Edward": "Ted", "Theodore": "Teddy", "James": "Jamie",
    "Isabella": "Bella", "Charlotte": "Lottie", "Florence": "Flo", "Matilda": "Tilly", "Jessica": "Jess",
    "Elizabeth": "Libby", "Małgorzata": "Gosia", "Łukasz": "Łuki",
}  # fmt: skip
CLASS_NAMES = ("Oak", "Ash", "Willow", "Rowan", "Hazel", "Birch", "Elm", "Maple", "Beech", "Cedar", "Holly")
# Real-looking LA codes from the census list (e.g. 201 City of London ... 938 West Sussex).
LA_CODES = (202, 204, 209, 304, 312, 330, 341, 352, 373, 383, 392, 800, 811, 823, 850, 886, 919, 936)
YEARS = ("N2", "R", "1", "2", "3", "4", "5", "6")
CLASS_SIZE = 30
ROW_FIELDS = (
    "mis_id", "upn", "legal_forename", "legal_surname", "preferred_forename", "preferred_surname",
    "year_group", "class_name", "date_of_birth", "gender", "admission_date", "leaving_date",
    "enrolment_status", "email",
)  # fmt: skip


def _academic_year_start(today: date) -> int:
    return today.year if today >= date(today.year, 9, 1) else today.year - 1


def _year_offset(year_group: str) -> int:
    """Years after Reception: N2 -1, R 0, Y1 1..."""
    special = {"N2": -1, "N1": -2, "R": 0}
    return special[year_group] if year_group in special else int(year_group)


def _class_label(year_group: str, index: int, per_year: int) -> str:
    if year_group == "N2":
        return "Nursery" if per_year == 1 else f"Nursery {_letters(index)}"
    if year_group == "R" and per_year <= len(CLASS_NAMES):
        return CLASS_NAMES[index]
    return f"{year_group}{_letters(index)}"


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, like spreadsheet columns."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _upn(rng: random.Random, la: int, establishment: int, year: int, serial: int, temporary: bool) -> str:
    if temporary:
        tail = f"{serial % 100:02d}{rng.choice(ALPHABET)}"
    else:
        tail = f"{serial:03d}"
    body = f"{la:03d}{establishment:04d}{year % 100:02d}{tail}"
    return check_letter("A" + body) + body


def synthetic_pupils(
    n: int, seed: int = 2026, today: date | None = None, leavers: int = 0, years: Sequence[str] = YEARS
) -> list[dict[str, object]]:
    """``n`` made-up primary pupils (N2, R, Y1-6, or the ``years`` given), as rows keyed by
    canonical field names.

    Dates of birth fit the year group (1 September cut-off) relative to ``today``; ``leavers``
    pupils have a leaving date in the past. Admission numbers are 6 digits with leading zeros;
    UPNs are valid (a few temporary). Deterministic for (n, seed, today, leavers).
    """
    if n < 0 or leavers < 0 or leavers > n:
        raise ValueError("need 0 <= leavers <= n")
    today = today or date.today()
    rng = random.Random(seed)
    ay = _academic_year_start(today)
    per_year_pupils = [n // len(years) + (1 if i < n % len(years) else 0) for i in range(len(years))]
    # A school of about 420 pupils per LA/establishment number, so UPN serials stay unique.
    schools = max(1, -(-n // 400))
    school_ids = [(rng.choice(LA_CODES), 2000 + i * 7 + rng.randrange(7)) for i in range(schools)]
    adno_start = rng.randrange(100, 5000)
    adnos = list(range(adno_start, adno_start + n + n // 10 + 1))
    rng.shuffle(adnos)
    leaver_set = set(rng.sample(range(n), leavers))
    used_upns: set[str] = set()
    rows: list[dict[str, object]] = []
    i = 0
    for year_group, count in zip(years, per_year_pupils):
        offset = _year_offset(year_group)
        classes = max(1, -(-count // CLASS_SIZE))
        born_from = date(ay - 5 - offset, 9, 1)
        span = (date(ay - 4 - offset, 8, 31) - born_from).days
        started = date(ay - max(offset, 0), 9, 1)  # started Reception (or Nursery this year)
        year_rows = []
        for k in range(count):
            girl = rng.random() < 0.5
            special = rng.random() < 0.12
            if girl:
                forename = rng.choice(FIRST_NAMES_F_SPECIAL if special else FIRST_NAMES_F)
            else:
                forename = rng.choice(FIRST_NAMES_M_SPECIAL if special else FIRST_NAMES_M)
            surname = rng.choice(SURNAMES_SPECIAL) if rng.random() < 0.12 else rng.choice(SURNAMES)
            preferred = NICKNAMES.get(forename) if rng.random() < 0.5 else None
            preferred_surname = None
            if rng.random() < 0.01:
                preferred_surname = rng.choice(SURNAMES)
            dob = born_from + timedelta(days=rng.randrange(span + 1))
            if rng.random() < 0.9:
                admitted = started + timedelta(days=rng.randrange(3))
            else:  # joined in-year
                admitted = started + timedelta(days=rng.randrange(max(1, (today - started).days)))
            school = school_ids[i % schools]
            serial = i // schools
            temporary = rng.random() < 0.005
            upn = _upn(rng, school[0], school[1], started.year, serial, temporary)
            while upn in used_upns:  # a temporary serial can repeat; make it permanent
                serial += 997
                upn = _upn(rng, school[0], school[1], started.year, serial % 1000, False)
            used_upns.add(upn)
            adno = adnos[i]
            email = f"{adno:06d}@pupils.example.org" if offset >= 3 and rng.random() < 0.5 else None
            leaving = None
            if i in leaver_set:
                first = max(admitted + timedelta(days=1), today - timedelta(days=120))
                days = max(1, (today - first).days)
                leaving = min(first + timedelta(days=rng.randrange(days)), today - timedelta(days=1))
                if leaving <= admitted:  # admitted very recently: pull admission back
                    admitted = leaving - timedelta(days=30)
            year_rows.append(
                {
                    "mis_id": f"{adno:06d}",
                    "upn": upn,
                    "legal_forename": forename,
                    "legal_surname": surname,
                    "preferred_forename": preferred or forename,
                    "preferred_surname": preferred_surname or surname,
                    "year_group": year_group,
                    "class_name": "",
                    "date_of_birth": dob,
                    "gender": "F" if girl else "M",
                    "admission_date": admitted,
                    "leaving_date": leaving,
                    "enrolment_status": "C",
                    "email": email,
                }
            )
            i += 1
        # Classes: the year's pupils split evenly, each class listed alphabetically by surname.
        for k, row in enumerate(year_rows):
            row["class_name"] = _class_label(year_group, k % classes, classes)
        year_rows.sort(key=lambda r: (r["class_name"], r["legal_surname"], r["legal_forename"]))
        rows.extend(year_rows)
    return rows


# --- writers ---------------------------------------------------------------------------------

SIMS_HEADERS = {
    "mis_id": "Adno", "upn": "UPN", "legal_forename": "Legal Forename", "legal_surname": "Legal Surname",
    "preferred_forename": "Preferred Forename", "year_group": "Year", "class_name": "Reg Group",
    "date_of_birth": "Date of Birth", "gender": "Gender", "admission_date": "Admission Date",
    "leaving_date": "Leaving Date",
}  # fmt: skip
ARBOR_HEADERS = {
    "mis_id": "Student ID", "upn": "UPN", "legal_forename": "Legal First Name",
    "legal_surname": "Legal Last Name", "preferred_forename": "Preferred First Name",
    "preferred_surname": "Preferred Last Name", "year_group": "Year", "class_name": "Registration Form",
    "date_of_birth": "Date of Birth", "gender": "Gender", "admission_date": "Date of Admission",
    "leaving_date": "Leaving Date", "enrolment_status": "Enrolment Status", "email": "Email",
}  # fmt: skip
BROMCOM_HEADERS = {
    "mis_id": "Admission Number", "upn": "UPN", "legal_forename": "First Name", "legal_surname": "Last Name",
    "year_group": "Year Group", "class_name": "Tutor Group",
}  # fmt: skip
CSV_STYLES = {"arbor": (ARBOR_HEADERS, "utf-8-sig"), "bromcom": (BROMCOM_HEADERS, "cp1252")}


def _sims_year(code: object) -> object:
    """SIMS short names: years 1-14 arrive as numbers in an Excel export."""
    return int(code) if isinstance(code, str) and code.isdigit() else code


def _arbor_year(code: object) -> object:
    code = str(code)
    return {"N1": "Nursery 1", "N2": "Nursery 2", "N": "Nursery", "R": "Reception", "X": "X"}.get(
        code, f"Year {code}"
    )


def _bromcom_year(code: object) -> object:
    code = str(code)
    return {"R": "YR"}.get(code, code if code.startswith("N") or code == "X" else f"Y{code}")


def write_roster_xlsx(path: Path, rows: list[dict], *, title_rows: bool = True) -> None:
    """A SIMS-style Excel export: two title rows (unless ``title_rows`` is False), then the header,
    real date cells, admission numbers as text (leading zeros kept), years 1-6 as numbers."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Pupil List")
    if title_rows:
        ws.append(["Synthetic Primary School - Pupil List (on roll)"])
        ws.append([f"Students on roll: {len(rows)}"])
    fields = list(SIMS_HEADERS)
    ws.append([SIMS_HEADERS[f] for f in fields])
    for row in rows:
        ws.append([_sims_year(row.get(f)) if f == "year_group" else row.get(f) for f in fields])
    wb.save(Path(path))


def write_roster_csv(
    path: Path, rows: list[dict], *, style: str = "arbor", encoding: str | None = None
) -> None:
    """A CSV export. ``style="arbor"``: UTF-8 with BOM, Arbor-like headers, dd/mm/yyyy dates.
    ``style="bromcom"``: Windows-1252 (as Excel's "CSV (Comma delimited)"), Bromcom's import
    headers, admission numbers with their leading zeros. ``encoding`` overrides the style's;
    characters it cannot hold become "?", as Excel does."""
    if style not in CSV_STYLES:
        raise ValueError(f"unknown CSV style {style!r}: use one of {', '.join(CSV_STYLES)}")
    headers, default_encoding = CSV_STYLES[style]
    year = _arbor_year if style == "arbor" else _bromcom_year
    fields = list(headers)
    with open(Path(path), "w", encoding=encoding or default_encoding, errors="replace", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([headers[f] for f in fields])
        for row in rows:
            out = []
            for f in fields:
                value = row.get(f)
                if value is None:
                    value = ""
                elif f == "year_group":
                    value = year(value)
                elif f == "gender" and style == "arbor":
                    value = {"M": "Male", "F": "Female"}.get(str(value), value)
                elif isinstance(value, date):
                    value = f"{value:%d/%m/%Y}"
                out.append(value)
            writer.writerow(out)
