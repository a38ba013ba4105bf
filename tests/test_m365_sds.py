"""Microsoft 365 through School Data Sync v2.1 files, for schools that give no app write access."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import TODAY, approve_register, key_of
from conftest import apply as apply_roster
from m365_helpers import on_roll
from provisioner.delivery import ApplyResult, IssuedBatch
from provisioner.facade import Provisioner
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.jobs.create import init_workspace
from provisioner.workspace import Workspace

DOMAIN = "pupils.sds.sch.uk"
HEADERS = {
    "orgs.csv": ["sourcedId", "name", "type"],
    "users.csv": ["sourcedId", "username", "givenName", "familyName", "password"],
    "roles.csv": ["userSourcedId", "orgSourcedId", "role"],
    "classes.csv": ["sourcedId", "orgSourcedId", "title"],
    "enrollments.csv": ["classSourcedId", "userSourcedId", "role"],
}


def sds_workspace(tmp_path: Path, **extra: str) -> Workspace:
    workspace = init_workspace(tmp_path / "ws", "Sync Primary", "sync.sch.uk", ["microsoft-365"])
    text = workspace.settings_path.read_text(encoding="utf-8")
    header = "[platforms.microsoft-365]\n"
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    keys = {"enabled": "true", "provisioning": '"sds-files"', "domain": f'"{DOMAIN}"', **extra}
    text = text[:start] + "".join(f"{k} = {v}\n" for k, v in keys.items()) + text[end:]
    workspace.settings_path.write_text(text, encoding="utf-8")
    workspace.__dict__.pop("settings", None)
    approve_register(workspace)
    return workspace


def apply(workspace: Workspace, rows: list[dict], tmp_path: Path) -> ApplyResult:
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    return apply_roster(workspace, roster)


def read(folder: Path) -> dict[str, list[dict]]:
    out = {}
    for path in sorted(folder.iterdir()):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), "UTF-8 without a byte order mark"
        text = raw.decode("utf-8")
        assert next(csv.reader(io.StringIO(text))) == HEADERS[path.name], f"{path.name}: headers as SDS spells them"
        out[path.name] = list(csv.DictReader(io.StringIO(text)))
    return out


def slips(batch: IssuedBatch) -> dict[str, str]:
    rows = load_workbook(batch.slips[1]).active.iter_rows(min_row=2, values_only=True)
    return {row[3]: row[4] for row in rows}


def test_the_files_hold_only_what_sds_needs_and_the_slips_match(tmp_path):
    workspace = sds_workspace(tmp_path)
    rows = synthetic_pupils(50, seed=17, today=TODAY, leavers=2)
    [batch] = apply(workspace, rows, tmp_path).batches
    assert batch.path.is_dir() and batch.path.parent == workspace.outbox / "microsoft-365"
    files = read(batch.path)
    assert set(files) == {"orgs.csv", "users.csv", "roles.csv"}, "no class files while class groups are off"
    users = files["users.csv"]
    assert len(users) == len(on_roll(rows))
    ids = {workspace.pseudonymous_id("microsoft-365", key_of(r)) for r in on_roll(rows)}
    assert {u["sourcedId"] for u in users} == ids, "the pseudonymous id, never the UPN or MIS id"
    assert all(u["username"].endswith("@" + DOMAIN) for u in users)
    assert {r["userSourcedId"] for r in files["roles.csv"]} == ids
    assert {(r["orgSourcedId"], r["role"]) for r in files["roles.csv"]} == {(DOMAIN, "student")}
    assert files["orgs.csv"] == [{"sourcedId": DOMAIN, "name": "Sync Primary", "type": "school"}]
    assert slips(batch) == {u["username"]: u["password"] for u in users}, "each slip shows what SDS will set"
    text = "".join(p.read_text("utf-8") for p in batch.path.iterdir())
    for row in rows:
        assert row["upn"] not in text and row["date_of_birth"].strftime("%d/%m/%Y") not in text


def test_every_upload_holds_everyone_so_nobody_is_marked_inactive(tmp_path):
    workspace = sds_workspace(tmp_path)
    rows = synthetic_pupils(40, seed=19, today=TODAY)
    first = apply(workspace, rows, tmp_path).batches[0]
    Provisioner(workspace).confirm_uploaded("microsoft-365", first.batch_id)
    joiners = synthetic_pupils(42, seed=19, today=TODAY)[-2:]
    for number, joiner in enumerate(joiners):
        joiner["mis_id"], joiner["upn"] = f"99000{number}", ""
    second = apply(workspace, rows + joiners, tmp_path).batches[0]
    assert first.batch_id != second.batch_id
    users = read(second.path)["users.csv"]
    assert len(users) == 42, "the whole school, not only the two joiners"
    with_password = {u["username"] for u in users if u["password"]}
    assert with_password == set(slips(second)) and len(with_password) == 2, "passwords only for new accounts"
    earlier = {u["sourcedId"]: u["username"] for u in read(first.path)["users.csv"]}
    assert all(earlier.get(u["sourcedId"], u["username"]) == u["username"] for u in users), "usernames kept"


def test_an_upload_not_yet_confirmed_passes_its_passwords_to_the_next(tmp_path):
    workspace = sds_workspace(tmp_path)
    rows = synthetic_pupils(20, seed=47, today=TODAY)
    first = apply(workspace, rows, tmp_path).batches[0]
    joiner = dict(rows[0], mis_id="990100", upn="", preferred_forename="Newt", legal_forename="Newt")
    second = apply(workspace, rows + [joiner], tmp_path).batches[0]
    users = {u["username"]: u["password"] for u in read(second.path)["users.csv"]}
    assert users == {**slips(first), **slips(second)}, "uploading only the newest folder sets every slip's password"


def test_class_groups_add_classes_and_enrollments(tmp_path):
    workspace = sds_workspace(tmp_path, optional_fields='["class_name"]', class_groups="true")
    rows = synthetic_pupils(60, seed=23, today=TODAY)
    [batch] = apply(workspace, rows, tmp_path).batches
    files = read(batch.path)
    classes = {c["sourcedId"]: c["title"] for c in files["classes.csv"]}
    assert set(classes.values()) == {f"Class {r['class_name']} pupils" for r in rows}
    by_pupil = {e["userSourcedId"]: classes[e["classSourcedId"]] for e in files["enrollments.csv"]}
    assert len(by_pupil) == len(files["enrollments.csv"]) == len(rows), "one class each"
    for row in rows:
        pseudonym = workspace.pseudonymous_id("microsoft-365", key_of(row))
        assert by_pupil[pseudonym] == f"Class {row['class_name']} pupils"


def test_sds_files_need_the_sign_in_domain(tmp_path):
    from provisioner.errors import SettingsError

    workspace = sds_workspace(tmp_path)
    text = workspace.settings_path.read_text(encoding="utf-8").replace(f'domain = "{DOMAIN}"\n', "")
    workspace.settings_path.write_text(text, encoding="utf-8")
    workspace.__dict__.pop("settings", None)
    with pytest.raises(SettingsError, match="needs domain"):
        workspace.connectors()


def test_an_upload_is_confirmed_like_any_import(tmp_path):
    workspace = sds_workspace(tmp_path)
    [batch] = apply(workspace, synthetic_pupils(10, seed=29, today=TODAY), tmp_path).batches
    confirmed, _ = Provisioner(workspace).confirm_uploaded("microsoft-365")
    assert [b.id for b in confirmed] == [batch.batch_id]


def test_a_graph_apply_interrupted_then_switched_to_sds_files_is_refused_and_harms_nothing(m365, tmp_path):
    """Finishing a Graph batch as School Data Sync files once wrote into the workspace folder itself."""
    from conftest import set_platform
    from provisioner.delivery import Job
    from provisioner.delivery.base import record_intent
    from provisioner.errors import UsageError
    from provisioner.state import BatchKind

    rows = synthetic_pupils(12, seed=8, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    plan = Provisioner(m365).plan(roster, today=TODAY)
    with m365.open_state() as state:  # a Graph apply killed after recording its intent
        job = Job(m365, state, TODAY, run_id=state.begin_run("apply", None), batch_id="20261122-001")
        record_intent(job, plan.platforms["microsoft-365"], BatchKind.API, "")
    set_platform(m365, "microsoft-365", provisioning='"sds-files"')
    approve_register(m365)
    kept = {path: path.read_bytes() for path in (m365.settings_path, m365.secret_path)}
    with pytest.raises(UsageError, match="interrupted while sending through the platform's API"):
        apply_roster(m365, roster)
    assert {path: path.read_bytes() for path in kept} == kept, "the settings and the school's secret are intact"
    assert not any(m365.outbox.rglob("*.csv")), "nothing written"
