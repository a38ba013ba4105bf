"""A platform's settings written back into provisioner.toml from a form (jobs/configure.py):
checked by the models that load the file, the school's comments and every other key kept."""

from __future__ import annotations

import tomllib

import pytest

from provisioner.errors import SettingsError
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace


@pytest.fixture
def school(tmp_path):
    return init_workspace(tmp_path / "ws", "Test Primary School", "test.sch.uk", ["purple-mash", "lgfl"])


def test_a_value_set_then_cleared_returns_to_the_default(school):
    provisioner = Provisioner(school)
    changed = provisioner.configure_platform("purple-mash", {"year_groups": ["3", "4"], "school_code": "tps"})
    assert changed.changed == ["year_groups", "school_code"] and not changed.fields_changed
    assert provisioner.platform_form("purple-mash").scope == "Years 3 and 4"
    provisioner.configure_platform("purple-mash", {"year_groups": None, "school_code": None})
    section = tomllib.loads(school.settings_path.read_text(encoding="utf-8"))["platforms"]["purple-mash"]
    assert "year_groups" not in section and "school_code" not in section
    assert Provisioner(school).platform_form("purple-mash").scope_source == "school policy default"


def test_the_files_comments_and_other_keys_are_kept(school):
    before = school.settings_path.read_text(encoding="utf-8")
    Provisioner(school).configure_platform("lgfl", {"classes": ["3A"]})
    after = school.settings_path.read_text(encoding="utf-8")
    assert 'provisioning = "autoupdate"  # USO-AutoUpdate reads the MIS: this tool records, sends nothing' in after
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == \
        [line for line in before.splitlines() if line.lstrip().startswith("#")]  # fmt: skip


def test_an_optional_field_turned_on_changes_what_the_platform_is_sent(school):
    provisioner = Provisioner(school)
    provisioner.configure_platform("bug-club", {"enabled": True})
    assert provisioner.platform_form("bug-club").optional_choices == ("year_group", "class_name")
    changed = Provisioner(school).configure_platform("bug-club", {"optional_fields": ["class_name"]})
    assert changed.fields_changed
    assert "class_name" in Provisioner(school).connectors(["bug-club"])[0].sent_fields


def test_a_bad_value_is_refused_and_the_file_left_as_it_was(school):
    before = school.settings_path.read_text(encoding="utf-8")
    with pytest.raises(SettingsError, match="'Z9' is not a year group"):
        Provisioner(school).configure_platform("purple-mash", {"year_groups": ["Z9"]})
    with pytest.raises(SettingsError, match="cannot be set here"):
        Provisioner(school).configure_platform("purple-mash", {"client_secret": "x"})
    assert school.settings_path.read_text(encoding="utf-8") == before
