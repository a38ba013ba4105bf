"""Owner-only access to a workspace, checked and tightened each time a command opens it.

A workspace holds pupils' records (the state, the outbox's import files and slips, reports) and
two keys. On POSIX its folders are made 0700 and its files 0600 as they are written
(``files``); a folder copied from a backup, unzipped, or changed by another program may come
back readable by other users of the computer, so every command checks and tightens them and
says so. The two keys are the exception: one found readable by others is refused, not quietly
tightened (``workspace._read_key``), since it may already have been copied.

On Windows, chmod cannot say "owner only": access is a list of who may do what (the DACL). The
workspace folder's list is set to its owner and SYSTEM (which backup and sync software run as)
with nothing inherited from the folder it sits in, and marked to be inherited by everything made
inside it; so each file written later is owner-only without a call of its own. The check reads
the folder's list as SDDL (``icacls /save``: not translated, unlike icacls' own listing) and
tightens it with ``icacls`` when anyone else is let in. Both are standard Windows tools.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from functools import cache
from pathlib import Path

SYSTEM_SIDS = {"SY", "S-1-5-18"}  # LocalSystem, as SDDL abbreviates it and in full
# An access control entry in SDDL: type;flags;rights;object guid;inherited object guid;account.
ACE = re.compile(r"\(([A-Z]+);([A-Z]*);([^;]*);[^;]*;[^;]*;([^;)]+)[^)]*\)")
ALLOWS = {"A", "OA", "XA", "ZA"}  # the allowing types (plain, object, callback, callback object)


def tighten(root: Path, private_folders: Iterable[Path], private_files: Iterable[Path]) -> list[str]:
    """Make the workspace owner-only where it is not; a sentence for each kind of thing tightened
    (none when all was as it should be). ``private_folders`` are checked with all they hold."""
    if os.name == "nt":
        return _tighten_windows(root)
    return _tighten_posix(root, private_folders, private_files)


def _tighten_posix(root: Path, private_folders: Iterable[Path], private_files: Iterable[Path]) -> list[str]:
    notices = []
    if _open_to_others(root):
        root.chmod(0o700)
        notices.append(f"the workspace folder {root} could be opened by other users of this computer: "
                       "it is now private to you (0700)")  # fmt: skip
    folders, held = 0, 0
    for top in private_folders:
        if not top.is_dir():
            continue
        for path in [top, *top.rglob("*")]:
            if path.is_symlink() or not _open_to_others(path):
                continue
            if path.is_dir():
                path.chmod(0o700)
                folders += 1
            else:
                path.chmod(0o600)
                held += 1
    for path in private_files:
        if path.is_file() and not path.is_symlink() and _open_to_others(path):
            path.chmod(0o600)
            held += 1
    if folders or held:
        counted = " and ".join(f"{n} {what}{'s' if n != 1 else ''}" for n, what in ((held, "file"), (folders, "folder"))
                               if n)  # fmt: skip
        notices.append(f"{counted} holding pupils' records could be read by other users of this computer: "
                       "each is now private to you")  # fmt: skip
    return notices


def _open_to_others(path: Path) -> bool:
    try:
        return bool(path.lstat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except FileNotFoundError:  # removed while we looked
        return False


# Windows


def others_allowed(sddl: str, owner_sid: str) -> list[str]:
    """The accounts other than ``owner_sid`` and SYSTEM that an SDDL security descriptor's DACL
    allows anything at all, in the order listed. An allowing entry for everyone else counts
    whatever its rights: reading a pupil's record is as much a leak as changing it."""
    dacl = sddl.partition("D:")[2].split("S:")[0]  # the DACL; a SACL (auditing) may follow
    others = []
    for kind, _flags, _rights, account in ACE.findall(dacl):
        if kind in ALLOWS and account not in SYSTEM_SIDS and account != owner_sid and account not in others:
            others.append(account)
    return others


def inherits_from_parent(sddl: str) -> bool:
    """Whether the DACL takes entries from the folder above (not marked protected, ``P``)."""
    flags = re.match(r"[A-Z]*", sddl.partition("D:")[2])
    return "P" not in (flags[0] if flags else "")


def lock_down_commands(folder: Path, owner_sid: str) -> list[list[str]]:
    """The icacls commands that make ``folder`` and all it holds owner-only: its own list replaced
    by the owner's and SYSTEM's full control, inherited by what is inside and nothing taken from
    the folder above; then everything inside reset to inherit that list."""
    grant = "(OI)(CI)F"  # objects and containers inside inherit it: every file written later
    return [
        ["icacls", str(folder), "/inheritance:r", "/grant:r", f"*{owner_sid}:{grant}", f"*S-1-5-18:{grant}", "/Q"],
        ["icacls", str(folder / "*"), "/reset", "/T", "/C", "/Q"],
    ]


def lock_down_folder(folder: Path) -> None:
    """Make a new folder owner-only (the workspace's, at ``init``); nothing to do off Windows."""
    if os.name == "nt":
        _icacls(lock_down_commands(folder, _owner_sid())[0])


def _tighten_windows(root: Path) -> list[str]:
    owner = _owner_sid()
    sddl = _folder_sddl(root)
    others = others_allowed(sddl, owner)
    if not others and not inherits_from_parent(sddl):
        return []
    for command in lock_down_commands(root, owner):
        _icacls(command)
    who = f"{len(others)} other account(s)" if others else "the folder above it"
    return [f"the workspace folder {root} let {who} in: it and everything in it are now private to you "
            "(and to SYSTEM, which backups run as)"]  # fmt: skip


@cache
def _owner_sid() -> str:
    """The SID of the user running the command (``whoami /user``: a CSV of name and SID)."""
    import subprocess  # here and below: only Windows runs them, and a command starts faster without

    answer = subprocess.run(["whoami", "/user", "/fo", "csv", "/nh"], capture_output=True, text=True, check=True)
    return answer.stdout.strip().rsplit(",", 1)[-1].strip().strip('"')


def _folder_sddl(folder: Path) -> str:
    """The folder's own security descriptor as SDDL: ``icacls /save`` writes the name on one line
    and the SDDL on the next, in UTF-16."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        saved = Path(scratch) / "acl.txt"
        _icacls(["icacls", str(folder), "/save", str(saved), "/Q"])
        lines = saved.read_bytes().decode("utf-16-le").lstrip("\ufeff").splitlines()
    return lines[1] if len(lines) > 1 else ""


def _icacls(command: list[str]) -> None:
    import subprocess

    subprocess.run(command, capture_output=True, check=True)
