"""Login cards benchmark: the combined cards (PDF and xlsx) for a trust's new accounts.

    .venv/bin/python bench/slips_scale.py [--children 2000 10000 50000]

Each child gets six rows (six platforms, two of them with a school code), 30 children to a
class, synthetic names. Times ``write_cards`` end to end, files written, as an apply calls it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provisioner.card_batches import write_cards  # noqa: E402
from provisioner.slips import Slip  # noqa: E402

PLATFORMS = (
    ("Purple Mash", "https://www.purplemash.com/sch/benchtrust", ""),
    ("IXL", "https://www.ixl.com/signin/benchtrust", ""),
    ("Times Tables Rock Stars", "https://play.ttrockstars.com", "BT1234"),
    ("Bug Club", "https://www.activelearnprimary.co.uk", "BTRUST"),
    ("LGfL", "https://students.lgfl.net", ""),
    ("EducationCity", "https://go.educationcity.com", ""),
)
FORENAMES = ("Amara", "Oliver", "Zofia", "Kwame", "Isla", "Yusuf", "Maja", "Theo", "Ngozi", "Émile")
SURNAMES = ("Okafor", "Nowak", "Smith", "Haddad", "Brown", "Łucja-Kowalska", "Patel", "Evans", "Mensah", "Jones")


def synthetic_slips(children: int) -> list[Slip]:
    slips = []
    for child in range(children):
        forename, surname = FORENAMES[child % 10], SURNAMES[(child // 10) % 10]
        class_name = f"{3 + child // 30 % 4}{'ABCDEFGH'[child // 120 % 8]}-{child // 960}"
        for name, url, code in PLATFORMS:
            slips.append(Slip(f"{forename} {surname}", class_name, name, f"{forename[:3].lower()}{child:06d}",
                              f"Tiger{child % 97:02d}Moon", url, code, forename=forename, surname=surname,
                              card=f"mis:{child}"))  # fmt: skip
    return slips


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, nargs="+", default=[2_000, 10_000, 50_000])
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}")
    for children in args.children:
        slips = synthetic_slips(children)
        with tempfile.TemporaryDirectory() as folder:
            pdf, xlsx = Path(folder) / "login-slips-bench.pdf", Path(folder) / "login-slips-bench.xlsx"
            started = time.perf_counter()
            write_cards(pdf, xlsx, "Bench Trust Primary", slips)
            took = time.perf_counter() - started
            written = sorted(p for p in Path(folder).rglob("*") if p.is_file())
            size = sum(p.stat().st_size for p in written)
            print(f"{children:>6} children ({len(slips)} rows): {took:6.2f} s, "
                  f"{len(written)} file(s), {size / 2**20:.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
