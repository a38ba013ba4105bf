"""Synthetic trust rosters for the benchmarks: one file for a trust of primary schools.

    .venv/bin/python bench/make_roster.py 50000 [--format xlsx|csv] [--seed 2026]

Prints the path of the roster, made on demand in the temp directory's
``provisioner-bench-rosters/`` and reused after (writing 10,000 pupils to xlsx takes about 3 s
of CPU, 100,000 ten times that); never in the repository. The benchmarks' sizes are 10,000,
50,000 and 100,000 pupils. Another bench script imports it:

    from make_roster import trust_roster
    path = trust_roster(50_000, "csv")

The trust: schools of one, two or three forms of entry (about 210 pupils a form), Reception to
Year 6 in each, classes of up to 30 named for their school ("Brook Hill 4B"), so a scope, the
slips and the plan see many schools' classes, not one school's hundred. The pupils come from
``provisioner.synthetic`` (made-up names only, valid UPNs, admission numbers unique across the
trust), so the xlsx is a SIMS-style export and the csv an Arbor-style one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provisioner.synthetic import synthetic_pupils, write_roster_csv, write_roster_xlsx

TODAY = date(2026, 1, 15)  # fixed, so the cached files and the results do not depend on the day
SEED = 2026
SIZES = (10_000, 50_000, 100_000)
FORMATS = ("xlsx", "csv")
TRUST_YEARS = ("R", "1", "2", "3", "4", "5", "6")
CLASS_SIZE = 30
# Forms of entry, school by school: most primaries take one or two classes a year, a few three.
FORMS_OF_ENTRY = (2, 1, 1, 3, 2, 1, 2, 1, 2, 3, 1, 2)
SCHOOL_NAMES = (
    "Brook Hill", "Meadowside", "St Anne's", "Ashcombe", "Riverbank", "Hollins Green", "Kingsmead",
    "Orchard Vale", "Fenwick", "Larkspur", "Westfield", "Oakridge", "Castle View", "Sandford",
    "Highcliffe", "Moorlands", "Elmhurst", "Thornbury", "Greenacre", "Wickham",
)  # fmt: skip
# Bump when the rows change, so an old cached file is not reused.
VERSION = 1


@dataclass(frozen=True)
class School:
    name: str
    forms: int  # classes in each year group


def trust_schools(pupils: int) -> list[School]:
    """Enough schools for ``pupils`` at up to 30 a class; past the named ones, numbered."""
    schools: list[School] = []
    places = 0
    while places < pupils:
        number = len(schools)
        name = SCHOOL_NAMES[number % len(SCHOOL_NAMES)]
        if number >= len(SCHOOL_NAMES):
            name += f" {number // len(SCHOOL_NAMES) + 1}"
        forms = FORMS_OF_ENTRY[number % len(FORMS_OF_ENTRY)]
        schools.append(School(name, forms))
        places += forms * CLASS_SIZE * len(TRUST_YEARS)
    return schools


def trust_pupils(pupils: int, seed: int = SEED, today: date = TODAY, leavers: int | None = None) -> list[dict]:
    """``pupils`` made-up pupils, Reception to Year 6, across the trust's schools' classes.

    Each year group's pupils are shared among the schools in proportion to their forms of
    entry, then among each school's classes; rows are in the order an export lists them
    (school, year, class, surname). ``leavers`` (default: one pupil in 200) left recently."""
    if pupils < 1:
        raise ValueError("a trust roster needs at least one pupil")
    rows = synthetic_pupils(pupils, seed=seed, today=today, leavers=pupils // 200 if leavers is None else leavers,
                            years=TRUST_YEARS)  # fmt: skip
    schools = trust_schools(pupils)
    classes = [(school, form) for school in schools for form in range(school.forms)]
    by_year: dict[str, list[dict]] = {}
    for row in rows:
        by_year.setdefault(str(row["year_group"]), []).append(row)
    ordered = []
    for year in TRUST_YEARS:
        year_rows = by_year.get(year, [])
        # Spread evenly over every class of the year in the trust, so each is at most one
        # pupil fuller than another (and so never over 30: trust_schools made enough).
        for index, row in enumerate(year_rows):
            school, form = classes[index % len(classes)]
            row["class_name"] = f"{school.name} {year}{chr(ord('A') + form)}"
            row["school"] = school.name
        ordered.extend(year_rows)
    school_order = {school.name: number for number, school in enumerate(schools)}
    year_order = {year: number for number, year in enumerate(TRUST_YEARS)}
    ordered.sort(key=lambda r: (school_order[r["school"]], year_order[str(r["year_group"])], r["class_name"],
                                r["legal_surname"], r["legal_forename"]))  # fmt: skip
    for row in ordered:
        del row["school"]
    return ordered


def cache_folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "provisioner-bench-rosters"
    folder.mkdir(exist_ok=True)
    return folder


def trust_roster(pupils: int, fmt: str = "xlsx", *, seed: int = SEED, today: date = TODAY,
                 folder: Path | None = None) -> Path:  # fmt: skip
    """The trust roster of ``pupils`` as an ``fmt`` file (xlsx: SIMS-style; csv: Arbor-style),
    made if it is not in ``folder`` (default: the temp directory's cache) and reused if it is."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    folder = folder or cache_folder()
    path = folder / f"trust-{pupils}-seed{seed}-{today:%Y%m%d}-v{VERSION}.{fmt}"
    if path.exists():
        return path
    started = time.perf_counter()
    rows = trust_pupils(pupils, seed=seed, today=today)
    partial = path.with_name(f"{path.stem}.partial.{fmt}")  # a stopped run leaves no half-written roster
    if fmt == "xlsx":
        write_roster_xlsx(partial, rows)
    else:
        write_roster_csv(partial, rows, style="arbor")
    partial.replace(path)
    print(f"made {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pupils", type=int, help=f"how many pupils (the benchmarks use {', '.join(map(str, SIZES))})")
    parser.add_argument("--format", choices=FORMATS, default="xlsx")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    if args.pupils < 1:
        parser.error("pupils must be at least 1")
    path = trust_roster(args.pupils, args.format, seed=args.seed)
    schools = trust_schools(args.pupils)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB): {args.pupils} pupils in {len(schools)} schools, "
          f"{sum(s.forms for s in schools) * len(TRUST_YEARS)} classes")  # fmt: skip


if __name__ == "__main__":
    main()
