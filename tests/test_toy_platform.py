"""Adding a platform is one module in connectors/ and one register entry in registers/, and no
other edit. Made here, in a copy of the project: a toy platform fed by an import file and a toy
reached through an API (an in-memory platform), then the whole contract suite (and the field-leak
property) runs on them, and the demo provisions the file toy end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

TOY_FILES = '''
"""A toy platform the admin feeds with an import file."""

from provisioner.connector import ImportFileConnector
from provisioner.delivery import FileImport


class ToyFiles(ImportFileConnector):
    id = "toy-files"
    name = "Toy Files"
    Delivery = FileImport
    fields = ("forename", "surname", "class_name", "username", "password")
    optional_fields = ("year_group",)
    sign_in_url = "https://toy-files.example/"
    columns = (("First name", "forename"), ("Last name", "surname"), ("Class", "class_name"),
               ("Year", "year_group"), ("Username", "username"), ("Password", "password"))
'''

TOY_API = '''
"""A toy platform reached through an API; its platform is a dictionary in this module."""

import itertools
from dataclasses import dataclass

from provisioner.connector import LIFECYCLE, ApiConnector, ApiSession, Outcome, RemoteAccount
from provisioner.delivery import ApiDelivery

PLATFORM = {}  # remote id -> {"username", "enabled", "deleted", "values"}
NEW_IDS = itertools.count(1)


@dataclass(kw_only=True)
class ToySession(ApiSession):
    by_pseudonym: dict


class ToyApi(ApiConnector):
    id = "toy-api"
    name = "Toy API"
    Delivery = ApiDelivery
    fields = ("forename", "surname", "pseudonymous_id", "username", "password")
    sign_in_url = "https://toy-api.example/"
    lifecycle = frozenset(LIFECYCLE)

    def connect(self, school_domain):
        live = {k: a for k, a in PLATFORM.items() if not a["deleted"]}
        return ToySession(taken_usernames={a["username"] for a in live.values()},
                          by_pseudonym={a["values"]["pseudonymous_id"]: k for k, a in live.items()})

    def push(self, session, work, next_username, progress=None):
        for item in work:
            remote_id = item.remote_id or session.by_pseudonym.get(item.values["pseudonymous_id"])
            if remote_id is None:
                remote_id = f"toy-{next(NEW_IDS)}"
                PLATFORM[remote_id] = {"username": item.values["username"], "enabled": True, "deleted": False,
                                       "values": {}}
                session.by_pseudonym[item.values["pseudonymous_id"]] = remote_id
            for name in ("forename", "surname", "pseudonymous_id"):
                PLATFORM[remote_id]["values"][name] = item.values[name]
            yield Outcome(item.send_id, True, PLATFORM[remote_id]["username"], remote_id)

    def look_up(self, session, remote_ids):
        return {i: RemoteAccount(i, PLATFORM[i]["username"], PLATFORM[i]["enabled"], PLATFORM[i]["deleted"],
                                 dict(PLATFORM[i]["values"])) if i in PLATFORM else None for i in remote_ids}

    def _set(self, remote_ids, **state):
        for i in remote_ids:
            PLATFORM[i].update(state)
        return {i: all(PLATFORM[i][k] == v for k, v in state.items()) for i in remote_ids}

    def disable(self, session, remote_ids):
        return self._set(remote_ids, enabled=False)

    def enable(self, session, remote_ids):
        return self._set(remote_ids, enabled=True)

    def delete(self, session, remote_ids):
        return self._set(remote_ids, deleted=True)

    def restore(self, session, remote_ids):
        return self._set(remote_ids, deleted=False)

    def erase(self, session, remote_ids):
        for i in remote_ids:
            PLATFORM.pop(i, None)
        return {i: i not in PLATFORM for i in remote_ids}
'''

ENTRY = """
id = "{id}"
name = "{name}"
entity = "Toy Platforms Ltd (a made-up company for a test)"
contact = "privacy@toy.example"
role = "Processor"
purpose = "Practice for pupils"
lawful_basis = "Public task, Article 6(1)(e)"
data_subjects = "Pupils"
hosting = "United Kingdom"
transfers = "None"
sub_processors = "None"
contract = "School to record: the signed agreement"
dpia = "School to record"
retention = "Deleted within 30 days of leaving"
security = "Encrypted in transit and at rest"
"""


@pytest.fixture(scope="module")
def project_with_toys(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for folder in ("provisioner", "connectors", "registers", "tests"):
        shutil.copytree(PROJECT / folder, copy / folder, ignore=ignore)
    shutil.copy(PROJECT / "pyproject.toml", copy / "pyproject.toml")
    # The whole of adding two platforms: a module each, and a register entry each.
    (copy / "connectors" / "toy_files.py").write_text(TOY_FILES, encoding="utf-8")
    (copy / "connectors" / "toy_api.py").write_text(TOY_API, encoding="utf-8")
    (copy / "registers" / "toy-files.toml").write_text(ENTRY.format(id="toy-files", name="Toy Files"), encoding="utf-8")
    (copy / "registers" / "toy-api.toml").write_text(ENTRY.format(id="toy-api", name="Toy API"), encoding="utf-8")
    return copy


def run_in(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy), "COLUMNS": "200"}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=600)


def test_the_whole_contract_suite_runs_on_a_new_platform_with_no_other_edit(project_with_toys):
    result = run_in(project_with_toys, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-k", "toy",
                    "tests/test_connector_contract.py", "tests/test_field_leaks.py")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    passed = [line for line in result.stdout.splitlines() if " PASSED" in line]
    assert all("toy" in line for line in passed)
    for test in ("test_metadata_is_complete", "test_has_a_register_entry_whose_fields_come_from_the_connector",
                 "test_the_file_read_back_says_what_each_column_holds", "test_no_undeclared_field_reaches_the_output"):
        assert any(test in line and "toy-files" in line for line in passed), f"{test} did not run on toy-files"
    for test in ("test_api_create_is_read_back", "test_api_update_is_read_back",
                 "test_api_push_repeated_after_a_crash_adopts_the_account", "test_api_disable_and_enable_are_read_back",
                 "test_api_delete_and_restore_are_read_back", "test_api_erase_leaves_nothing_to_restore"):
        assert any(f"{test}[toy-api]" in line for line in passed), f"{test} did not run on toy-api"


def test_the_demo_provisions_the_new_file_platform_end_to_end(project_with_toys, tmp_path):
    result = run_in(project_with_toys, "-m", "provisioner", "demo", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    [import_file] = (tmp_path / "demo" / "outbox" / "toy-files").glob("toy-files-import-*.csv")
    header = import_file.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "First name,Last name,Class,Username,Password", "the optional year is not sent"
    register = run_in(project_with_toys, "-m", "provisioner", "register", "show", "--json", "--workspace",
                      str(tmp_path / "demo"))
    assert '"toy-files"' in register.stdout, "the register lists the new platform"
