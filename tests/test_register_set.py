"""Filling the register's gaps without writing TOML by hand: register set and register edit write
the workspace's own entry file (keeping the school's comments), checked as the register loads
it and recorded with who set what; register gaps lists the open questions; the questions
export writes a letter to each supplier asking them.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tomllib
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from conftest import Cli, approve_register, set_platform
from provisioner.files import is_private

ENTITY = "2Simple Ltd, company number 01234567, 1 Example Street, Exampletown EX1 1AA."


def gaps(cli: Cli, processor: str | None = None) -> list[dict]:
    result = cli("register", "gaps", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["gaps"]
    return [gap for gap in found if processor is None or gap["processor"] == processor]


def gap_warning(cli: Cli, processor_name: str) -> str:
    """The register check's gap warning for one processor (the items still to find out)."""
    report = json.loads(cli("register", "check", "--json").stdout)
    return next(p["message"] for p in report["problems"] if p["severity"] == "warning"
                and p["message"].startswith(f"{processor_name}: gaps"))  # fmt: skip


def entry_file(workspace, entry_id: str) -> Path:
    return workspace.root / "registers" / f"{entry_id}.toml"


def test_set_fills_a_gap_keeps_the_schools_comments_and_the_check_has_one_gap_fewer(workspace, cli):
    path = entry_file(workspace, "purple-mash")
    path.parent.mkdir()
    path.write_text('# Checked with 2Simple on 3 November.\nnote = "Our own note."  # kept\n', encoding="utf-8")
    before = gaps(cli, "purple-mash")
    assert "Legal entity" in gap_warning(cli, "Purple Mash")

    result = cli("register", "set", "purple-mash", "entity", ENTITY, "--by", "Test Admin")

    assert result.exit_code == 0, result.output
    assert "Set entity of Purple Mash" in result.output
    assert "Legal entity" not in gap_warning(cli, "Purple Mash")
    after = gaps(cli, "purple-mash")
    assert len(after) == len(before) - 1
    assert "entity" not in {gap["key"] for gap in after}
    text = path.read_text(encoding="utf-8")
    assert "# Checked with 2Simple on 3 November." in text and '"Our own note."  # kept' in text
    assert tomllib.loads(text) == {"note": "Our own note.", "entity": ENTITY}
    assert is_private(path)
    shown = json.loads(cli("register", "show", "--json").stdout)["processors"]["purple-mash"]
    assert shown["entity"] == ENTITY
    assert [(c["key"], c["value_after"], c["changed_by"]) for c in shown["changes"]] == [
        ("entity", ENTITY, "Test Admin")]
    # The governors' register prints who recorded what on the processor's page.
    exported = cli("register", "export", "--format", "pdf", "--out", str(workspace.root / "register.pdf"))
    assert exported.exit_code == 0, exported.output
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(workspace.root / "register.pdf").pages)
    assert "Facts recorded by the school" in text and "Test Admin Legal entity 2Simple Ltd, company number" in text


def test_set_is_in_the_audit_log_with_a_digest_of_the_text_and_in_the_history_with_who(workspace, cli):
    assert cli("register", "set", "purple-mash", "hosting", "Amazon Web Services, London (UK).", "--by",
               "Test Admin").exit_code == 0  # fmt: skip

    with sqlite3.connect(workspace.state_path) as db:
        events = db.execute("SELECT platform, detail FROM audit WHERE action = 'register.set'").fetchall()
        history = db.execute("SELECT entry_id, key, value_before, value_after, changed_by, how FROM register_changes"
                             ).fetchall()  # fmt: skip
    [(platform, detail)] = events
    assert platform == "purple-mash"
    detail = json.loads(detail)
    assert detail["key"] == "hosting" and detail["how"] == "set" and len(detail["value_sha256"]) == 64
    assert "London" not in json.dumps(detail) and "Test Admin" not in json.dumps(detail)
    [(entry_id, key, before, after, by, how)] = history
    assert (entry_id, key, json.loads(after), by, how) == ("purple-mash", "hosting",
                                                           "Amazon Web Services, London (UK).", "Test Admin", "set")
    assert "Ireland" in json.loads(before)  # what the shipped entry said
    with workspace.open_state() as state:
        assert state.verify_audit().intact


def test_setting_the_same_text_again_changes_and_records_nothing(workspace, cli):
    assert cli("register", "set", "dfe", "hosting", "In the UK.", "--by", "Test Admin").exit_code == 0
    again = cli("register", "set", "dfe", "hosting", "In the UK.", "--by", "Test Admin")
    assert again.exit_code == 0 and "Nothing changed" in again.output
    with sqlite3.connect(workspace.state_path) as db:
        assert db.execute("SELECT COUNT(*) FROM register_changes").fetchone()[0] == 1


@pytest.mark.parametrize("as_json", [False, True])
def test_a_bad_key_is_a_clear_error_naming_the_keys_and_writes_nothing(workspace, cli, as_json):
    result = cli("register", "set", "purple-mash", "hostng", "UK", *(["--json"] if as_json else []))
    assert result.exit_code == 2
    if as_json:
        error = json.loads(result.stdout)["error"]
        message, hint = error["message"], error["hint"]
    else:
        message, hint = result.stderr, result.stderr
        assert "Traceback" not in result.output
    assert "'hostng' is not a key of a register entry" in message
    assert "hosting" in hint and "contract" in hint
    assert not entry_file(workspace, "purple-mash").exists()


@pytest.mark.parametrize("as_json", [False, True])
def test_a_value_the_entry_refuses_is_the_models_message_in_plain_words(workspace, cli, as_json):
    result = cli("register", "set", "ixl", "restore_days", "soon", *(["--json"] if as_json else []))
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"] if as_json else result.stderr
    assert "restore_days: must be a whole number" in message
    assert not entry_file(workspace, "ixl").exists()
    # A number the model accepts is written as a number.
    assert cli("register", "set", "ixl", "restore_days", "30", "--by", "Test Admin").exit_code == 0
    assert tomllib.loads(entry_file(workspace, "ixl").read_text(encoding="utf-8"))["restore_days"] == 30


def test_an_unknown_processor_and_a_connected_platforms_fields_are_refused(workspace, cli):
    unknown = cli("register", "set", "purple-mesh", "hosting", "UK", "--json")
    assert unknown.exit_code == 2
    error = json.loads(unknown.stdout)["error"]
    assert "'purple-mesh' is not in the register" in error["message"] and "purple-mash" in error["hint"]
    fields = cli("register", "set", "purple-mash", "fields", "forename", "--json")
    assert fields.exit_code == 2
    assert "come from what its connector sends" in json.loads(fields.stdout)["error"]["message"]
    bad_names = cli("register", "set", "dfe", "fields", "upn, shoe_size")
    assert bad_names.exit_code == 2 and "shoe_size" in bad_names.stderr


def test_a_recipients_changed_field_list_needs_approving_again(workspace, cli):
    result = cli("register", "set", "dfe", "fields", "upn, legal_forename, legal_surname", "--by", "Test Admin",
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["needs_approval"] is True
    check = cli("register", "check", "--json")
    assert check.exit_code == 7
    assert any(p["entry"] == "dfe" and p["severity"] == "error" for p in json.loads(check.stdout)["problems"])
    assert cli("register", "approve", "dfe", "--by", "Test Admin").exit_code == 0
    assert cli("register", "check").exit_code == 0


def test_gaps_lists_each_open_question_with_its_key_and_who_answers(workspace, cli):
    contract = [gap for gap in gaps(cli, "purple-mash") if gap["key"] == "contract"]
    # One item, two questions: 2Simple's agreement to ask for, the signed contract to record.
    assert [(gap["who"], gap["supplier"]) for gap in contract] == [("supplier", "2Simple"), ("school", "2Simple")]
    assert "Question for 2Simple: may we have its data processing agreement?" in contract[0]["missing"]
    assert contract[0]["question"] == "May we have your data processing agreement?", "the entry's own question"
    assert contract[1]["missing"].startswith("To record") and contract[1]["question"] == ""
    assert {gap["processor"] for gap in gaps(cli)} >= {"purple-mash", "dfe", "local-authority"}

    shown = cli("register", "gaps")
    assert shown.exit_code == 0
    assert "contract (ask 2Simple): Question for 2Simple: may we have its data processing agreement?" in shown.output

    cli("register", "set", "purple-mash", "contract", "2Simple's agreement, signed 1 September 2026.", "--by", "T")
    assert "contract" not in {gap["key"] for gap in gaps(cli, "purple-mash")}


def test_the_questions_export_writes_one_letter_per_supplier_asking_its_questions(workspace, cli):
    set_platform(workspace, "ixl", enabled="true")
    approve_register(workspace)
    cli("register", "set", "purple-mash", "entity", ENTITY, "--by", "Test Admin")

    result = cli("register", "export", "--format", "questions")

    assert result.exit_code == 0, result.output
    [folder] = (workspace.root / "reports").iterdir()
    letters = sorted(p.name for p in folder.iterdir())
    assert letters == ["questions-for-ixl.docx", "questions-for-purple-mash.docx"]  # no letter to the DfE
    assert "Wrote 2 letter(s)" in result.output
    ixl = _letter(folder / "questions-for-ixl.docx")
    mash = _letter(folder / "questions-for-purple-mash.docx")
    assert "Test Primary School" in ixl["text"] and "Dear data protection team," in ixl["text"]
    assert "To: IXL Learning, about IXL" in ixl["text"]
    assert any(q.startswith("Where are pupils' data stored") for q in ixl["questions"])  # IXL's hosting: unknown
    assert not any(q.startswith("Where are pupils' data stored") for q in mash["questions"])  # Purple Mash's is known
    assert not any("company number" in q for q in mash["questions"])  # recorded with register set
    assert "May we have your data processing agreement?" in mash["questions"]
    assert ixl["boxes"] == len(ixl["questions"]) and mash["boxes"] == len(mash["questions"])
    assert "not found" not in ixl["text"].lower() and "school to record" not in ixl["text"].lower()

    # A supplier with nothing left to ask gets no letter when the letters are written again.
    for gap in gaps(cli, "ixl"):
        if gap["who"] == "supplier":
            assert cli("register", "set", "ixl", gap["key"], "Answered by IXL.", "--by", "T").exit_code == 0
    cli("register", "export", "--format", "questions")
    assert sorted(p.name for p in folder.iterdir()) == ["questions-for-purple-mash.docx"]


def _letter(path: Path) -> dict:
    document = Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    questions = [text.split(". ", 1)[1] for text in paragraphs if text[:1].isdigit() and ". " in text]
    return {"text": "\n".join(paragraphs), "questions": questions, "boxes": len(document.tables)}


def _editor(tmp_path: Path, monkeypatch, line: str, replacing: str | None = None) -> None:
    """EDITOR set to a small program that appends ``line`` to the file it is given (or puts it in
    place of the line ``replacing``), as a person would."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        "path = sys.argv[1]\n"
        "text = open(path, encoding='utf-8').read()\n"
        f"text = text.replace({replacing!r} + '\\n', {line!r} + '\\n') if {replacing!r} else text + {line!r} + '\\n'\n"
        "open(path, 'w', encoding='utf-8').write(text)\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{script}"')


def test_edit_opens_a_template_in_the_editor_then_checks_and_records_the_change(workspace, cli, tmp_path,
                                                                              monkeypatch):  # fmt: skip
    set_platform(workspace, "ixl", enabled="true")
    approve_register(workspace)
    _editor(tmp_path, monkeypatch, 'hosting = "Amazon Web Services, London (UK)."')
    hosting_gaps = len([g for g in gaps(cli, "ixl") if g["key"] == "hosting"])

    result = cli("register", "edit", "ixl", "--by", "Test Admin")

    assert result.exit_code == 0, result.output
    assert "Set hosting of IXL" in result.output
    text = entry_file(workspace, "ixl").read_text(encoding="utf-8")
    assert "# entity = \"IXL Learning, Inc." in text  # the template: each key with its text now
    assert "# GAP: ask the supplier." in text
    assert tomllib.loads(text) == {"hosting": "Amazon Web Services, London (UK)."}
    assert is_private(entry_file(workspace, "ixl"))
    assert hosting_gaps == 1 and "hosting" not in {g["key"] for g in gaps(cli, "ixl")}
    with workspace.open_state() as state:
        [change] = state.register_changes("ixl")
    assert (change.key, change.how, change.changed_by) == ("hosting", "edit", "Test Admin")


def test_edit_says_which_line_and_key_are_wrong_and_keeps_the_schools_text(workspace, cli, tmp_path, monkeypatch):
    path = entry_file(workspace, "ixl")
    path.parent.mkdir()
    path.write_text('# Our notes from the call.\ncontact = "IXL support team."\n', encoding="utf-8")
    _editor(tmp_path, monkeypatch, "restore_days = \"in a while\"")

    result = cli("register", "edit", "ixl", "--by", "Test Admin", "--json")

    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "line 3, restore_days: must be a whole number" in error["message"]
    assert "register edit ixl" in error["hint"]
    assert path.read_text(encoding="utf-8") == ('# Our notes from the call.\ncontact = "IXL support team."\n'
                                                'restore_days = "in a while"\n')  # fmt: skip
    with workspace.open_state() as state:
        assert state.register_changes("ixl") == []

    # Put right in a second edit: the file opens as it was left, is checked, and what it now
    # says differently from the shipped entry is recorded.
    _editor(tmp_path, monkeypatch, "restore_days = 30", replacing='restore_days = "in a while"')
    fixed = cli("register", "edit", "ixl", "--by", "Test Admin")
    assert fixed.exit_code == 0, fixed.output
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"contact": "IXL support team.", "restore_days": 30}
    with workspace.open_state() as state:
        assert [c.key for c in state.register_changes("ixl")] == ["contact", "restore_days"]
