"""Owner-only access on Windows: the workspace folder's access list, read as SDDL and tightened
with icacls. Windows cannot run here, so icacls and whoami are stood in for by a recorder that
answers as they do (``icacls /save`` writes the name, then the SDDL, in UTF-16); the security
descriptors are in the form Windows writes them. POSIX modes are tested for real in
test_workspace.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner import owner_only

OWNER = "S-1-5-21-1004336348-1177238915-682003330-1001"
# A folder in a user's Documents, as Windows makes it: inherited from the profile, which lets
# SYSTEM, the Administrators and the user in.
DOCUMENTS = f"D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;{OWNER})"
LOCKED = f"D:PAI(A;OICI;FA;;;{OWNER})(A;OICI;FA;;;S-1-5-18)"
SHARED = f"D:PAI(A;OICI;FA;;;{OWNER})(A;OICI;0x1200a9;;;BU)(A;OICI;FA;;;SY)(D;;FA;;;WD)"


@pytest.mark.parametrize(("sddl", "others", "inherits"), [
    (DOCUMENTS, ["BA"], True),
    (LOCKED, [], False),
    (SHARED, ["BU"], False),  # the Users group may read: a leak, whatever the rights; a deny is not
    (f"O:{OWNER}G:SYD:PAI(A;OICI;FA;;;{OWNER})(A;;FA;;;S-1-1-0)S:AI(AU;SA;FA;;;WD)", ["S-1-1-0"], False),
])  # fmt: skip
def test_the_accounts_let_in_besides_the_owner_are_found(sddl, others, inherits):
    assert owner_only.others_allowed(sddl, OWNER) == others
    assert owner_only.inherits_from_parent(sddl) is inherits


class Icacls:
    """Answers ``icacls`` and ``whoami`` as Windows does, from a folder's current SDDL, and keeps
    the commands it was given."""

    def __init__(self, sddl: str):
        self.sddl, self.commands = sddl, []

    def icacls(self, command: list[str]) -> None:
        self.commands.append(command)
        if "/save" in command:
            saved = Path(command[command.index("/save") + 1])
            saved.write_bytes(f"ws\r\n{self.sddl}\r\n".encode("utf-16-le"))
        elif "/grant:r" in command:
            self.sddl = LOCKED


@pytest.fixture
def windows(monkeypatch):
    def stand_in(sddl: str) -> Icacls:
        recorder = Icacls(sddl)
        monkeypatch.setattr(owner_only, "_icacls", recorder.icacls)
        monkeypatch.setattr(owner_only, "_owner_sid", lambda: OWNER)
        return recorder

    return stand_in


def test_a_workspace_in_documents_is_made_the_owners_alone_and_its_files_inherit_it(windows, tmp_path):
    icacls = windows(DOCUMENTS)
    notices = owner_only._tighten_windows(tmp_path)
    assert notices == [f"the workspace folder {tmp_path} let 1 other account(s) in: it and everything in it are now "
                       "private to you (and to SYSTEM, which backups run as)"]  # fmt: skip
    changes = [c for c in icacls.commands if "/save" not in c]
    assert changes == [
        ["icacls", str(tmp_path), "/inheritance:r", "/grant:r", f"*{OWNER}:(OI)(CI)F", "*S-1-5-18:(OI)(CI)F", "/Q"],
        ["icacls", str(tmp_path / "*"), "/reset", "/T", "/C", "/Q"],  # what is inside takes the folder's list
    ]
    icacls.commands.clear()
    assert owner_only._tighten_windows(tmp_path) == [], "the second command finds nothing to do"
    assert all("/save" in c for c in icacls.commands), "and changes nothing"


def test_a_folder_shared_with_the_users_group_is_tightened(windows, tmp_path):
    icacls = windows(SHARED)
    assert owner_only._tighten_windows(tmp_path)
    assert icacls.sddl == LOCKED
