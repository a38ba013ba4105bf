"""Which child a parent's request is about: the admin may give the MIS id in any zero-padding,
the UPN or a name, every answer names the child, and erasure goes ahead only once the admin
has typed the child's name or id back (a mistyped number must never erase another child)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from conftest import TODAY, Cli, apply
from provisioner.cli import common
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.synthetic import synthetic_pupils, write_roster_csv

AVA = {"mis_id": "001000", "preferred_forename": "Ava", "preferred_surname": "Ali", "legal_forename": "Ava",
       "legal_surname": "Ali", "class_name": "Oak", "year_group": "3"}  # fmt: skip
BEN = {"mis_id": "001001", "preferred_forename": "Ben", "preferred_surname": "Ali", "legal_forename": "Ben",
       "legal_surname": "Ali", "class_name": "Elm", "year_group": "4"}  # fmt: skip
ZOE = {"mis_id": "001002", "preferred_forename": "Zoë", "preferred_surname": "Ward", "legal_forename": "Zoë",
       "legal_surname": "Ward", "class_name": "Ash", "year_group": "5"}  # fmt: skip


def _roster(tmp_path):
    rows = synthetic_pupils(8, seed=3, today=TODAY)
    for row, pupil in zip(rows, (AVA, BEN, ZOE)):
        row.update(pupil)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows, style="bromcom")  # admission numbers with their leading zeros
    return path, rows


@pytest.fixture
def school(tmp_path):
    """Eight pupils on Purple Mash, two of them Alis in different classes, all applied."""
    workspace = init_workspace(tmp_path / "ws", "Lookup Primary", "lookup.sch.uk", ["purple-mash"], "A. Admin")
    roster, rows = _roster(tmp_path)
    apply(workspace, roster)
    return workspace, Cli(workspace), roster, rows


@pytest.fixture
def at_a_terminal(monkeypatch):
    """The admin is at a terminal, so the command asks instead of refusing."""
    monkeypatch.setattr(common, "can_ask", lambda: True)


def show(cli: Cli, pupil: str) -> dict:
    result = cli("pupil", "show", pupil, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def held(workspace) -> dict:
    with workspace.open_state() as state:
        return {key: [str(a.status) for a in state.pupil_accounts(key).values()] for key in state.identities()}


@pytest.mark.parametrize("typed", ["001000", "1000", " 1000 ", "0001000", "mis:001000", "ava ali", "  AVA   ALI ",
                                   "Ali, Ava", "Ava"])  # fmt: skip
def test_a_pupil_is_found_by_id_in_any_padding_or_by_name(school, typed):
    _, cli, _, _ = school
    report = show(cli, typed)
    assert (report["name"], report["class"], report["year_group"], report["id"]) == ("Ava Ali", "Oak", "3", "001000")
    assert set(report["processors"]) == {"purple-mash"}


def test_a_pupil_is_found_by_upn_in_lower_case(school):
    _, cli, _, rows = school
    report = show(cli, rows[0]["upn"].lower())
    assert report["name"] == "Ava Ali" and report["id"] == "001000"


def test_a_name_is_compared_with_its_accents_as_typed(school):
    _, cli, _, _ = school
    assert show(cli, "zoë ward")["id"] == "001002"
    assert cli("pupil", "show", "Zoe Ward").exit_code == 2, "Zoe is not Zoë: nobody is guessed"


def test_a_surname_two_pupils_share_lists_both_and_asks_for_the_id(school):
    _, cli, _, _ = school
    result = cli("pupil", "show", "ali")
    assert result.exit_code == 2
    assert "2 pupils match 'ali'" in result.output
    assert "Ava Ali (Oak, id 001000)" in result.output and "Ben Ali (Elm, id 001001)" in result.output
    assert "give the id" in result.output and "Traceback" not in result.output


def test_an_unknown_id_says_so(school):
    _, cli, _, _ = school
    result = cli("pupil", "show", "9999")
    assert result.exit_code == 2 and "no record of pupil 9999" in result.output


def test_pupil_show_leads_with_the_child(school):
    _, cli, _, _ = school
    result = cli("pupil", "show", "1000")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Ava Ali (Oak), id 001000, Year 3"


def test_the_access_pdf_is_titled_with_the_child(school, tmp_path):
    _, cli, _, _ = school
    target = tmp_path / "answer.pdf"
    assert cli("pupil", "show", "1000", "--pdf", str(target)).exit_code == 0
    text = "\n".join(page.extract_text() for page in PdfReader(target).pages)
    assert text.lstrip().startswith("What we hold about Ava Ali (Class Oak, MIS id 001000)")
    assert "Purple Mash" in text


def test_erasure_names_the_child_and_refuses_a_wrong_name_typed_back(school, at_a_terminal):
    workspace, cli, _, _ = school
    before, state_before = held(workspace), workspace.state_path.read_bytes()

    result = cli("pupil", "erase", "1000", input="Ben Ali\n")

    assert "Erase Ava Ali (Oak, id 001000) from every platform?" in result.output
    assert "Purple Mash: 1 account" in result.output and "deletion list" in result.output
    assert "type Ava Ali's name or id" in result.output
    assert "nothing was changed" in result.output
    assert workspace.state_path.read_bytes() == state_before and held(workspace) == before
    assert all(statuses == ["active"] for statuses in before.values())


@pytest.mark.parametrize("typed_back", ["", "Ali", "1001", "y"])
def test_erasure_stops_at_anything_but_the_name_or_id(school, at_a_terminal, typed_back):
    workspace, cli, _, _ = school
    state_before = workspace.state_path.read_bytes()
    result = cli("pupil", "erase", "001000", input=f"{typed_back}\n")
    assert "nothing was changed" in result.output
    assert workspace.state_path.read_bytes() == state_before


@pytest.mark.parametrize("typed_back", ["ava ali", "1000", "001000"])
def test_erasure_goes_ahead_when_the_name_or_id_is_typed_back(school, at_a_terminal, typed_back):
    workspace, cli, _, _ = school
    result = cli("pupil", "erase", "001000", "--as-of", TODAY.isoformat(), input=f"{typed_back}\n")
    assert result.exit_code == 0, result.output
    assert "nothing was changed" not in result.output
    assert "Ava Ali (Oak, id 001000)" in result.output.split("type Ava Ali's name or id")[1]
    assert show(cli, "1000")["erasure_requested"]
    assert not show(cli, "001001")["erasure_requested"], "only the child named"


def test_erasure_with_yes_asks_nothing_and_names_the_child_in_json(school):
    _, cli, _, _ = school
    result = cli("pupil", "erase", " 1000 ", "--yes", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["name"], data["class"], data["id"]) == ("Ava Ali", "Oak", "001000")
    assert data["waiting_for"] == ["purple-mash"]
    assert cli("pupil", "erase", "1001", "--json").exit_code == 2, "--json still needs --yes"


def test_without_a_terminal_erasure_still_needs_yes(school):
    workspace, cli, _, _ = school
    state_before = workspace.state_path.read_bytes()
    result = cli("pupil", "erase", "Ava Ali")
    assert result.exit_code == 2 and "--yes" in result.output
    assert "Erase Ava Ali (Oak, id 001000)" in result.output
    assert workspace.state_path.read_bytes() == state_before


def test_an_ambiguous_name_erases_nobody(school):
    workspace, cli, _, _ = school
    state_before = workspace.state_path.read_bytes()
    result = cli("pupil", "erase", "Ali", "--yes")
    assert result.exit_code == 2 and "Ben Ali (Elm, id 001001)" in result.output
    assert workspace.state_path.read_bytes() == state_before


def test_an_erased_and_forgotten_pupil_is_still_found_by_id_in_any_padding(school):
    workspace, cli, _, _ = school
    erased = json.loads(cli("pupil", "erase", "001000", "--yes", "--json").stdout)
    [deletion] = erased["deletion_lists"]
    assert cli("confirm", "purple-mash", "deleted", "--batch", deletion["batch"]).exit_code == 0
    assert json.loads(cli("purge", "--json", "--as-of", TODAY.isoformat()).stdout)["pupils_purged"] == 1

    for typed in ("001000", "1000", "mis:001000"):
        report = show(cli, typed)
        assert report["erasure_requested"] and report["processors"] == {} and report["name"] == ""
    assert cli("pupil", "show", "Ava Ali").exit_code == 2, "the name is forgotten with the pupil"
    assert cli("pupil", "allow", "1000").output.startswith("Lifted the erasure request for pupil 1000")


def test_a_forgotten_pupils_hold_stops_a_roster_that_drops_the_zeros(school, tmp_path):
    workspace, cli, _, rows = school
    erased = json.loads(cli("pupil", "erase", "Ava Ali", "--yes", "--json").stdout)
    [deletion] = erased["deletion_lists"]
    assert cli("confirm", "purple-mash", "deleted", "--batch", deletion["batch"]).exit_code == 0
    assert json.loads(cli("purge", "--json", "--as-of", TODAY.isoformat()).stdout)["pupils_purged"] == 1
    unpadded = tmp_path / "unpadded.csv"  # as Excel leaves an admission number typed into a number cell
    write_roster_csv(unpadded, [{**row, "mis_id": row["mis_id"].lstrip("0")} for row in rows], style="bromcom")

    plan = Provisioner(workspace).plan(unpadded, today=TODAY)

    assert plan.withheld == 1 and plan.platforms["purple-mash"].counts()["create"] == 0


def test_a_hold_before_any_account_matches_the_id_with_or_without_zeros(tmp_path):
    workspace = init_workspace(tmp_path / "ws", "Lookup Primary", "lookup.sch.uk", ["purple-mash"], "A. Admin")
    roster, _ = _roster(tmp_path)
    cli = Cli(workspace)
    held = cli("pupil", "erase", "1000", "--yes")  # the roster writes 001000
    assert held.exit_code == 0, held.output
    assert "no apply will send it" in held.output
    plan = Provisioner(workspace).plan(roster, today=TODAY)
    assert plan.withheld == 1 and plan.platforms["purple-mash"].counts()["create"] == 7

    assert cli("pupil", "erase", "Ava Ali", "--yes").exit_code == 2, "a name with nothing held is no id to hold"
    allowed = cli("pupil", "allow", "001000")
    assert "Lifted the erasure request for pupil 001000" in allowed.output
    assert Provisioner(workspace).plan(roster, today=TODAY).withheld == 0, "every form of the hold is lifted"


def test_allow_names_the_child(school):
    _, cli, _, _ = school
    assert cli("pupil", "erase", "1001", "--yes").exit_code == 0
    allowed = cli("pupil", "allow", "ben ali")
    assert allowed.exit_code == 0
    assert "Lifted the erasure request for Ben Ali (Elm, id 001001)" in allowed.output
    again = cli("pupil", "allow", "001001")
    assert "No erasure request was recorded for Ben Ali (Elm, id 001001)" in again.output


def test_the_pupil_argument_says_what_it_takes(school):
    _, cli, _, _ = school
    result = cli("pupil", "show", "--help")
    words = " ".join(result.output.replace("│", " ").split())
    assert "MIS id" in words and "UPN" in words and "name" in words


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_the_access_pdf_reads_the_same_with_pdftotext(school, tmp_path):
    _, cli, _, _ = school
    target = tmp_path / "answer.pdf"
    assert cli("pupil", "show", "ali ava", "--pdf", str(target)).exit_code == 0
    text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
    assert text.lstrip().startswith("What we hold about Ava Ali (Class Oak, MIS id 001000)")
