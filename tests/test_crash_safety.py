"""SIGKILL at any point of apply, then apply again: the job completes and nobody is issued twice.

These run the real command in a subprocess and kill it for real: at each recorded step
(through the PROVISIONER_CRASH_AT fault-injection point) and at arbitrary moments from outside.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import TODAY, apply
from provisioner.delivery import CRASH_ENV
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.jobs.create import init_workspace

KILLED = -signal.SIGKILL if os.name == "posix" else 1  # on Windows the fault point ends the process


def command(workspace, roster: Path) -> list[str]:
    return [sys.executable, "-m", "provisioner", "apply", str(roster), "--yes", "--as-of", TODAY.isoformat(),
            "--workspace", str(workspace.root)]  # fmt: skip


def import_files(workspace) -> list[Path]:
    """Each platform's import file (Bug Club's is a sheet to paste from), not its slips."""
    return sorted(p for p in workspace.outbox.glob("*/*") if p.suffix in (".csv", ".xlsx") and "-login-slips-" not in p.name)


def table_of(path: Path) -> list[list]:
    """An import file's rows: a CSV, or the xlsx Bug Club's admin copies rows from."""
    if path.suffix == ".csv":
        return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return [list(row) for row in load_workbook(path).active.iter_rows(values_only=True)]


def slips_match_imports(workspace) -> None:
    """Passwords are made afresh when an interrupted batch is finished: the slips must agree.
    With combined cards (the default) each platform's rows on its batch's cards are exactly its
    file's usernames and passwords: no password in a written file is on no slip."""
    names = {p: workspace.connector(p).name for p in {path.parent.name for path in import_files(workspace)}}
    for path in import_files(workspace):
        platform, batch_id = path.parent.name, re.search(r"\d{8}-\d{3}", path.name)[0]
        header, *rows = table_of(path)
        issued = {r[header.index("Username")]: r[header.index("Password")] for r in rows}
        cards = workspace.outbox / f"login-slips-{batch_id}.xlsx"
        slips = list(load_workbook(cards).active.iter_rows(min_row=2, values_only=True))
        assert {row[3]: row[4] for row in slips if row[2] == names[platform]} == issued, path.name


def cards_only_from_files(workspace) -> None:
    """Every password on a combined card is in its platform's import file of the same batch: a
    card never shows a password that was never written for upload."""
    names = {workspace.connector(p).name: p for p in {path.parent.name for path in import_files(workspace)}}
    for cards in workspace.outbox.glob("login-slips-*.xlsx"):
        batch_id = re.search(r"\d{8}-\d{3}", cards.name)[0]
        for row in load_workbook(cards).active.iter_rows(min_row=2, values_only=True):
            platform = names.get(row[2])
            assert platform, f"{cards.name}: {row[2]} has no written file"
            [path] = [p for p in import_files(workspace) if p.parent.name == platform and batch_id in p.name]
            header, *rows = table_of(path)
            issued = {r[header.index("Username")]: r[header.index("Password")] for r in rows}
            assert issued.get(row[3]) == row[4], f"{cards.name}: a password not in {path.name}"


def issued_ids(workspace) -> list[str]:
    ids = []
    for path in sorted((workspace.outbox / "purple-mash").glob("*.csv")):
        ids += [row["UPN"] for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))]
    return ids


def assert_complete_and_consistent(workspace, expected_pupils: int) -> None:
    ids = issued_ids(workspace)
    assert len(ids) == expected_pupils, "every on-roll pupil is issued"
    assert len(set(ids)) == len(ids), "nobody is issued twice"
    db = sqlite3.connect(workspace.state_path)
    try:
        assert db.execute("SELECT COUNT(*) FROM accounts WHERE status = 'active'").fetchone()[0] == expected_pupils
        assert db.execute("SELECT COUNT(*) FROM sends WHERE status = 'pending'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM batches WHERE status = 'writing'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0
    finally:
        db.close()
    state = workspace.open_state()
    assert state.verify_audit().intact
    state.close()
    leftovers = [p for p in workspace.outbox.rglob(".*") if p.is_file()]
    assert leftovers == []
    slips_match_imports(workspace)


@pytest.mark.parametrize("step", ["prepared", "written", "committed"])
def test_killed_at_each_step_then_applied_again(workspace, roster_file, pupils, step):
    on_roll = sum(1 for p in pupils if not (p.get("leaving_date") and p["leaving_date"] <= TODAY))
    killed = subprocess.run(command(workspace, roster_file), env={**os.environ, CRASH_ENV: step},
                            capture_output=True, text=True)  # fmt: skip
    assert killed.returncode == KILLED
    finished = subprocess.run(command(workspace, roster_file), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert_complete_and_consistent(workspace, on_roll)
    again = subprocess.run(command(workspace, roster_file), capture_output=True, text=True)
    assert again.returncode == 0
    assert "Nothing to do" in again.stdout
    assert_complete_and_consistent(workspace, on_roll)


def test_killed_at_arbitrary_moments(workspace, tmp_path):
    rows = synthetic_pupils(4000, seed=11, today=TODAY)
    roster = tmp_path / "big.xlsx"
    write_roster_xlsx(roster, rows)
    # Time a whole run on a scratch workspace, then kill real runs part way through it.
    scratch = init_workspace(tmp_path / "scratch", "Scratch", "scratch.sch.uk", ["purple-mash"])
    started = time.monotonic()
    subprocess.run(command(scratch, roster), capture_output=True, check=True)
    whole_run = time.monotonic() - started
    killed_mid_run = 0
    for fraction in (0.5, 0.65, 0.8, 0.95):
        process = subprocess.Popen(command(workspace, roster), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(whole_run * fraction)
        process.kill()
        process.wait()
        db = sqlite3.connect(workspace.state_path)
        killed_mid_run += db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
        db.close()
    assert killed_mid_run, "at least one kill landed while a run was under way"
    finished = subprocess.run(command(workspace, roster), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert_complete_and_consistent(workspace, 4000)


def test_a_file_written_whole_before_the_crash_keeps_its_passwords(workspace, roster_file):
    """The admin may have uploaded it already: finishing the batch must not change the passwords."""
    killed = subprocess.run(command(workspace, roster_file), env={**os.environ, CRASH_ENV: "written"},
                            capture_output=True, text=True)  # fmt: skip
    assert killed.returncode == KILLED
    [path] = (workspace.outbox / "purple-mash").glob("*-import-*.csv")
    before = path.read_bytes()
    finished = subprocess.run(command(workspace, roster_file), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert path.read_bytes() == before
    slips_match_imports(workspace)


def test_the_next_command_removes_what_a_killed_one_was_part_way_through_writing(workspace, roster_file):
    """A kill inside an atomic write leaves its dot-named temporary, which may hold passwords: the
    next command that takes the workspace removes every one, wherever the killed run was writing."""
    killed = subprocess.run(command(workspace, roster_file), env={**os.environ, CRASH_ENV: "written"},
                            capture_output=True, text=True)  # fmt: skip
    assert killed.returncode == KILLED
    half_written = [workspace.outbox / "purple-mash" / ".purple-mash-login-slips-20260101-001.pdf.tmp-4242",
                    workspace.outbox / ".login-slips-20260101-001.xlsx.tmp-4242",
                    workspace.outbox / "login-slips-20260101-001" / ".01 Class 1A.pdf.tmp-4242",
                    workspace.root / ".provisioner.toml.tmp-4242"]  # fmt: skip
    for path in half_written:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"cut short")
    finished = subprocess.run(command(workspace, roster_file), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert [path for path in half_written if path.exists()] == []


SEVERAL = ["bug-club", "purple-mash", "education-city", "tt-rockstars"]


@pytest.mark.parametrize("step", ["written", "committed"])
def test_combined_cards_cover_every_written_file_after_a_crash_part_way(tmp_path, roster_file, step):
    """Killed once the first platform's file is written (or committed), before the others and
    before the apply drew its cards: the apply that finishes the job draws the cards it owes from
    the written file, so every password of every written file is on a card of its batch, one card
    per child within a batch."""
    workspace = init_workspace(tmp_path / "several", "Several Primary", "several.sch.uk", SEVERAL)
    killed = subprocess.run(command(workspace, roster_file), env={**os.environ, CRASH_ENV: step},
                            capture_output=True, text=True)  # fmt: skip
    assert killed.returncode == KILLED
    assert len(import_files(workspace)) == 1, "killed after the first platform's file, before the others"
    [written] = import_files(workspace)
    before = table_of(written)
    cards_only_from_files(workspace)  # cards are drawn from written files: none yet, or only theirs
    finished = subprocess.run(command(workspace, roster_file), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert table_of(written) == before, "a file written whole keeps its passwords"
    assert {p.parent.name for p in import_files(workspace)} == set(SEVERAL)
    slips_match_imports(workspace)
    for cards in workspace.outbox.glob("login-slips-*.xlsx"):
        rows = list(load_workbook(cards).active.iter_rows(min_row=2, values_only=True))
        children = [(r[0], r[1]) for r in rows]
        runs = [key for i, key in enumerate(children) if i == 0 or children[i - 1] != key]
        assert len(runs) == len(set(runs)), f"{cards.name}: each child's rows together, on one card"
    leftovers = [p for p in workspace.outbox.rglob(".*") if p.is_file()]
    assert leftovers == []


def test_an_apply_that_fails_part_way_draws_the_cards_of_the_files_it_wrote(tmp_path, roster_file):
    """Bug Club's file is written, then Purple Mash's folder cannot be made (a file is in its
    place): the apply fails, and the cards it draws on the way out hold Bug Club's passwords, so
    the file awaiting upload is never without its cards."""
    workspace = init_workspace(tmp_path / "failing", "Failing Primary", "failing.sch.uk", ["bug-club", "purple-mash"])
    workspace.outbox.mkdir(exist_ok=True)
    (workspace.outbox / "purple-mash").write_text("not a folder", encoding="utf-8")
    with pytest.raises(OSError):
        apply(workspace, roster_file)
    [written] = import_files(workspace)
    assert written.parent.name == "bug-club"
    assert list(workspace.outbox.glob("login-slips-*.xlsx")), "the cards of the file written"
    slips_match_imports(workspace)
    with workspace.open_state() as state:
        assert [run["status"] for run in state.last_runs(1)] == ["failed"]


def test_a_trusts_cards_drawn_while_its_files_are_written_hold_each_files_passwords(tmp_path, roster_file, monkeypatch):
    """A trust's batch (here parts of two children, so sixty pupils are a trust's) has its cards
    handed to a worker before its first file is written, and written only after its last: a
    folder of parts and the xlsx holding exactly each file's usernames and passwords, each
    child's rows together. Drawn again from the files (as after a crash), the workers start as
    soon as one file alone is worth them, before the cards are gathered."""
    import provisioner.card_batches
    from provisioner.delivery import Job, file_import, print_cards
    from provisioner.facade import Provisioner
    from provisioner.planning import identity

    monkeypatch.setattr(provisioner.card_batches, "TRUST_CHILDREN", 2)
    monkeypatch.setattr(provisioner.card_batches, "PART_CHILDREN", 2)
    monkeypatch.setattr(provisioner.card_batches, "WORKERS_FROM", 6)
    steps, card_workers, write = [], provisioner.card_batches.card_workers, provisioner.card_batches.CardsToDraw.write
    monkeypatch.setattr(provisioner.card_batches, "card_workers", lambda *count: steps.append("workers") or card_workers(*count))
    monkeypatch.setattr(provisioner.card_batches.CardsToDraw, "write",
                        lambda *args: steps.append("cards") or write(*args))  # fmt: skip
    resume = file_import.FileDelivery.resume  # a file written whole and marked written
    monkeypatch.setattr(file_import.FileDelivery, "resume", lambda *args: (resume(*args), steps.append("file"))[0])
    workspace = init_workspace(tmp_path / "trust", "Trust Primary", "trust.sch.uk", SEVERAL)
    apply(workspace, roster_file)
    assert steps == ["workers", *["file"] * len(SEVERAL), "cards"], "drawn as the files were written, written after"
    [folder] = [p for p in workspace.outbox.glob("login-slips-*") if p.is_dir()]
    assert len(list(folder.glob("*.pdf"))) >= provisioner.card_batches.POOL_PARTS
    slips_match_imports(workspace)
    cards_only_from_files(workspace)
    for path in [*folder.iterdir(), *workspace.outbox.glob("login-slips-*.xlsx")]:
        path.unlink()
    steps.clear()
    roster = Provisioner(workspace).read_roster(roster_file, today=TODAY)
    with workspace.open_state() as state:
        [batch] = {b.id for b in state.batches()}
        print_cards(Job(workspace, state, TODAY, roster=identity.match(state, roster).roster), {batch})
    assert steps == ["workers", "cards"], "started once, before the cards were gathered, and drawing them"
    assert len(list(folder.glob("*.pdf"))) >= provisioner.card_batches.POOL_PARTS
    slips_match_imports(workspace)
    cards_only_from_files(workspace)
