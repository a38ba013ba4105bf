"""Filling the register's gaps from the command line: ``register set`` writes one key into the
workspace's own entry file (``registers/<id>.toml``), ``register edit`` opens that file in the
school's editor and checks it when the editor closes.

Both go through what the register is loaded with (``entries.merge_override`` and the ``Entry``
model), so a value the register would refuse later is refused now, with the line and key. The
file is edited with tomlkit, which keeps the school's comments and every other key where they
were; it is written atomically and owner-only, like every workspace file. Each key that changed
is recorded in the state (``register_changes``: who set what, when, before and after) with its
audit event (the key and a digest of the text: ``state/decisions.py`` says why) in the same
transaction, so the register's history shows it beside the approvals.

A changed field list needs approving again: nothing here records an approval, so the register
check and apply see the new list as not yet approved. Every other key is a fact about a
company or a body, recorded as it is set.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import tomlkit
from pydantic import ValidationError

from provisioner import files, times
from provisioner.connector import registry
from provisioner.errors import SettingsError, UsageError
from provisioner.fields import FIELDS
from provisioner.register.entries import Entry, merge_override, shipped_entries
from provisioner.register.gaps import SCHOOL, SUPPLIER, gaps_of, missing_by_who
from provisioner.register.model import Processor
from provisioner.settings import describe_error
from provisioner.state import RegisterChange, State, now

FOLDER = "registers"
# Not the school's to set in an entry file: the id is the file's name and the kind what the
# entry is; the leaver policy and the scope are provisioner.toml's (load_entries refuses them).
FIXED = ("id", "kind", "leavers", "scope")
NEEDS = "needs"  # [needs]: why a sensitive field is sent, one key per field ("needs.date_of_birth")
TEXT_KEYS = tuple(name for name, info in Entry.model_fields.items() if info.annotation is str and name not in FIXED)
NUMBER_KEYS = tuple(name for name, info in Entry.model_fields.items() if info.annotation == int | None)
LIST_KEYS = ("fields",)  # written comma-separated on the command line: "upn, legal_forename"
SETTABLE = (*TEXT_KEYS, *NUMBER_KEYS, *LIST_KEYS, f"{NEEDS}.FIELD")


@dataclass(frozen=True)
class EntryEdited:
    """What ``register set`` or ``register edit`` changed in one entry."""

    entry_id: str
    name: str
    path: Path  # the workspace's entry file
    changes: list[RegisterChange] = field(default_factory=list)
    gaps_before: int = 0
    gaps_left: int = 0

    @property
    def fields_changed(self) -> bool:
        """The field list changed: the entry needs approving again before apply sends it."""
        return any(change.key == "fields" for change in self.changes)

    def as_dict(self) -> dict:
        return {
            "entry": self.entry_id, "name": self.name, "file": str(self.path),
            "changes": [change.__dict__ for change in self.changes], "gaps_before": self.gaps_before,
            "gaps_left": self.gaps_left, "needs_approval": self.fields_changed,
        }  # fmt: skip


def entry_file(root: Path, entry_id: str) -> Path:
    return root / FOLDER / f"{entry_id}.toml"


def set_value(workspace, state: State, entry_id: str, key: str, value: str, by: str) -> EntryEdited:
    """Write ``key = value`` into the workspace's file for ``entry_id`` (made if missing, its
    comments and other keys kept) once the entry with it passes the register's own checks, and
    record who set it."""
    before = _current(workspace.root, entry_id)
    _check_key(entry_id, key)
    path = entry_file(workspace.root, entry_id)
    text = _read(path) if path.exists() else _header(before)
    document = tomlkit.parse(text)
    raw = _raw_value(entry_id, key, value)
    if key.startswith(f"{NEEDS}."):
        if NEEDS not in document:
            document[NEEDS] = tomlkit.table()
        document[NEEDS][key.split(".", 1)[1]] = raw
    else:
        document[key] = raw
    try:
        after = _validated(entry_id, path.name, tomlkit.dumps(document), lines=False)
    except SettingsError as exc:
        raise UsageError(exc.message, hint=f"nothing was written; give {key} a value the entry accepts") from None
    if key in NUMBER_KEYS:  # the model read the number; the file holds it as one
        document[key] = getattr(after, key)
    edited = _recorded(workspace, before, after, path, by, "set")
    if edited.changes:
        with state.transaction():  # the file is written last: if it cannot be, nothing is recorded
            for change in edited.changes:
                state.record_register_change(change)
            files.make_private_dir(path.parent)
            files.atomic_write_text(path, tomlkit.dumps(document))
    return _on_school_clock(edited, workspace)


def prepare_edit(workspace, entry_id: str) -> tuple[Path, Entry]:
    """The workspace's file for ``entry_id``, made with a commented template of every key and its
    text now when it is missing, and the entry as it stands before the edit."""
    path = entry_file(workspace.root, entry_id)
    try:
        before = _current(workspace.root, entry_id)
    except SettingsError:  # a file left wrong by an earlier edit: open it to be put right
        before = _shipped(entry_id)
    if not path.exists():
        files.make_private_dir(path.parent)
        files.atomic_write_text(path, _template(before))
    return path, before


def finish_edit(workspace, state: State, entry_id: str, before: Entry, by: str) -> EntryEdited:
    """Check the file the school edited, then record each key that changed. A file the register
    would refuse is an error naming its line and key; the school's text stays in the file."""
    path = entry_file(workspace.root, entry_id)
    again = f"your text is kept in {path}: run 'provisioner register edit {entry_id}' to fix it"
    try:
        after = _validated(entry_id, path.name, _read(path))
    except SettingsError as exc:
        raise SettingsError(exc.message, hint=again) from None
    edited = _recorded(workspace, before, after, path, by, "edit")
    with state.transaction():
        for change in edited.changes:
            state.record_register_change(change)
    return _on_school_clock(edited, workspace)


def known_entries(root: Path) -> list[str]:
    """The ids an entry file may be written for: the shipped entries and the workspace's own."""
    folder = root / FOLDER
    own = [path.stem for path in folder.glob("*.toml")] if folder.is_dir() else []
    return sorted({*shipped_entries(), *own})


# --- checking -------------------------------------------------------------------------------------


def _current(root: Path, entry_id: str) -> Entry:
    """The entry as the register has it now: shipped, with the workspace's file on top."""
    if entry_id not in known_entries(root):
        raise UsageError(f"'{entry_id}' is not in the register",
                         hint=f"use one of: {', '.join(known_entries(root))}")  # fmt: skip
    path = entry_file(root, entry_id)
    return _validated(entry_id, path.name, _read(path) if path.exists() else "")


def _shipped(entry_id: str) -> Entry:
    """The shipped entry alone; a school's own entry has no shipped text, so just its id."""
    data = shipped_entries().get(entry_id)
    return Entry.model_validate(data) if data else Entry(id=entry_id, name=entry_id)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"registers/{path.name} is not UTF-8 text",
                            hint="save it as UTF-8 in the editor and run again") from None  # fmt: skip


def _check_key(entry_id: str, key: str) -> None:
    if key in TEXT_KEYS or key in NUMBER_KEYS or key in LIST_KEYS:
        return
    if key.startswith(f"{NEEDS}."):
        name = key.split(".", 1)[1]
        if name in FIELDS:
            return
        raise UsageError(f"'{name}' in '{key}' is not a pupil field", hint=f"use one of: {', '.join(FIELDS)}")
    if key in FIXED:
        where = "provisioner.toml" if key in ("leavers", "scope") else "the entry's file name and kind"
        raise UsageError(f"'{key}' of {entry_id} is not set here: it comes from {where}",
                         hint=f"set one of: {', '.join(SETTABLE)}")  # fmt: skip
    raise UsageError(f"'{key}' is not a key of a register entry", hint=f"use one of: {', '.join(SETTABLE)}")


def _raw_value(entry_id: str, key: str, value: str) -> object:
    """The command line's text as the entry's value: a list for the field list, else the text
    (a number is read by the model, which says so if it is not one)."""
    value = value.strip()
    if not value:
        raise UsageError(f"no text given for {key}",
                         hint="write what you know, or 'not found'; to go back to the shipped text, remove the key "
                         f"with 'provisioner register edit {entry_id}'")  # fmt: skip
    if key not in LIST_KEYS:
        return value
    if entry_id in registry():
        raise UsageError(f"{entry_id}'s fields are not set in its entry: they come from what its connector sends",
                         hint=f"change what it is sent under [platforms.{entry_id}] in provisioner.toml")  # fmt: skip
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise UsageError(f"fields {', '.join(unknown)} are not pupil fields this tool knows",
                         hint=f"list names from: {', '.join(FIELDS)}, separated by commas")  # fmt: skip
    return names


def _validated(entry_id: str, file_name: str, text: str, lines: bool = True) -> Entry:
    """The entry with ``text`` as the workspace's file, checked as the register loads it; an
    error names the file, the key, and (``lines``: the school's own text) the line."""
    at = _at if lines else (lambda *_: "")
    try:
        local = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"registers/{file_name} is not valid TOML: {exc}", hint="fix the file and run again"
                            ) from None  # fmt: skip
    if local.get("id", entry_id) != entry_id:
        raise SettingsError(f"registers/{file_name}{at(text, ('id',))}: id is {local['id']!r}, not {entry_id!r}",
                            hint="remove the id line: the file's name says which entry it is")  # fmt: skip
    listed = local.get("fields", [])
    unknown_fields = [name for name in listed if name not in FIELDS] if isinstance(listed, list) else []
    if unknown_fields:
        raise SettingsError(f"registers/{file_name}{at(text, ('fields',))}: fields "
                            f"{', '.join(map(str, unknown_fields))} are not pupil fields this tool knows",
                            hint=f"list names from: {', '.join(FIELDS)}")  # fmt: skip
    if "fields" in local and entry_id in registry():
        raise SettingsError(f"registers/{file_name}{at(text, ('fields',))}: {entry_id}'s fields come from what its "
                            "connector sends", hint="remove the fields line")  # fmt: skip
    data = merge_override(shipped_entries().get(entry_id, {}), {**local, "id": entry_id}, file_name)
    try:
        return Entry.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{at(text, e['loc'], 'line {}, ')}{_described(e)}" for e in exc.errors())
        raise SettingsError(f"registers/{file_name}: {problems}", hint="fix the file and run again") from None


def _described(error: dict) -> str:
    """One of the model's errors in plain words: an unknown key is a register entry's, not a setting's."""
    if error["type"] == "extra_forbidden":
        keys = ", ".join(SETTABLE)
        return f"{error['loc'][0]}: is not a key of a register entry (check the spelling; the keys: {keys})"
    return describe_error(error)


def _at(text: str, loc: tuple, form: str = " (line {})") -> str:
    """Where a key is written in ``text``, as ``form``: the line of ``key =`` or of its [table]."""
    key = str(loc[0]) if loc else ""
    pattern = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|[\"']?{re.escape(key)}[\"']?\s*=)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return form.format(number)
    return ""


def _recorded(workspace, before: Entry, after: Entry, path: Path, by: str, how: str) -> EntryEdited:
    """The keys that changed from ``before`` to ``after``, as the changes to record."""
    if not by.strip():
        raise UsageError("say who sets it", hint="pass --by \"NAME\"")
    at = now()
    changes = [
        RegisterChange(after.id, key, _plain(getattr(before, key)), _plain(getattr(after, key)), at, by.strip(), how)
        for key in Entry.model_fields if key not in FIXED and getattr(before, key) != getattr(after, key)
    ]  # fmt: skip
    return EntryEdited(after.id, after.name, path, changes, _gap_count(workspace, before), _gap_count(workspace, after))


def _on_school_clock(edited: EntryEdited, workspace) -> EntryEdited:
    """The edit as the school reads it: each change's time on the school's clock (the state keeps UTC)."""
    zone = workspace.settings.school.zone
    return replace(edited, changes=[replace(c, changed_at=times.stamp(c.changed_at, zone)) for c in edited.changes])


def _gap_count(workspace, entry: Entry) -> int:
    """How many open questions the entry has, read as the register reads it (a platform's
    fields and scope from its connector)."""
    if entry.id in registry():
        connector = workspace.connector(entry.id)
        processor = Processor(entry, list(connector.sent_fields), connector.settings.enabled, connector)
    else:
        processor = Processor(entry, list(entry.fields or []), True)
    return len(gaps_of(processor))


def _plain(value: object) -> object:
    return value.model_dump() if hasattr(value, "model_dump") else value


# --- the file's first text -----------------------------------------------------------------------


def _header(entry: Entry) -> str:
    return (f"# The school's own facts for this entry of the processor register: {entry.name}.\n"
            "# A key set here replaces the shipped text; remove it to go back to that text.\n\n")  # fmt: skip


def _template(entry: Entry) -> str:
    """Every key the school may set, commented out with its text now, the gaps marked."""
    lines = [
        _header(entry).rstrip("\n"),
        "# Each key below shows the entry's text now. To change one, remove the '# ' before it and",
        "# write what you learned. A gap says 'not found' (ask the supplier) or 'school to record'.",
        "# The file is checked when the editor closes; 'provisioner register gaps' lists what is left.",
    ]
    for key in (*TEXT_KEYS, *NUMBER_KEYS, *LIST_KEYS):
        value = getattr(entry, key)
        if key in LIST_KEYS and entry.id in registry():
            continue  # a connected platform's fields come from its connector
        if key not in TEXT_KEYS and value is None:
            continue
        lines.append("")
        missing = missing_by_who(value) if isinstance(value, str) else {}
        if SUPPLIER in missing:
            lines.append("# GAP: ask the supplier.")
        if SCHOOL in missing:
            lines.append("# GAP: the school records it.")
        lines.append("# " + tomlkit.dumps({key: value}).strip())
    if entry.needs:
        lines += ["", f"# [{NEEDS}]  (why each sensitive field is sent)"]
        lines += ["# " + tomlkit.dumps({name: why}).strip() for name, why in entry.needs.items()]
    return "\n".join(lines) + "\n"


