"""The workspace: settings, state, the per-school secret, the outbox and reports, and the lock
that lets one command at a time change them.

Commands find it by ``--workspace``, then ``PROVISIONER_WORKSPACE``, then the current folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import time
import tomllib
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path

from pydantic import ValidationError

from provisioner import files, owner_only
from provisioner.connector import Connector, PlatformSettings, registry
from provisioner.errors import SettingsError, UsageError, WorkspaceFault, WorkspaceNotFound
from provisioner.keyed_hash import KeyedHash
from provisioner.register.entries import default_scope
from provisioner.settings import Settings, describe_error, line_of, secret_keys
from provisioner.state import OtherKey, State

SETTINGS_FILE = "provisioner.toml"
STATE_FILE = "state.sqlite3"
SECRET_FILE = "school-secret.key"
# The audit log's key and head: outside the state on purpose (state/audit.py says why).
AUDIT_KEY_FILE = "audit.key"
AUDIT_HEAD_FILE = "audit-head.txt"
LOCK_FILE = ".lock"
ENV_WORKSPACE = "PROVISIONER_WORKSPACE"
BATCH_ID = re.compile(r"\d{8}-\d{3}")  # a batch's id in its files' names: the day, then a counter


class Workspace:
    def __init__(self, root: Path):
        self.root = root.resolve()

    settings_path = property(lambda self: self.root / SETTINGS_FILE)
    state_path = property(lambda self: self.root / STATE_FILE)
    secret_path = property(lambda self: self.root / SECRET_FILE)
    audit_key_path = property(lambda self: self.root / AUDIT_KEY_FILE)
    audit_head_path = property(lambda self: self.root / AUDIT_HEAD_FILE)
    outbox = property(lambda self: self.root / "outbox")
    reports = property(lambda self: self.root / "reports")
    # The roster last chosen in the web interface: kept inside the workspace, never elsewhere.
    uploads = property(lambda self: self.root / "uploads")

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.settings_path)

    @cached_property
    def secret(self) -> bytes:
        path = self.secret_path
        if not path.exists():
            raise SettingsError(
                f"the school secret {path.name} is missing from the workspace",
                hint="restore it from your backup: without it pseudonymous ids change and platforms see new pupils",
            )
        return _read_key(path, "school secret")

    @cached_property
    def audit_key(self) -> bytes:
        """The key of the audit log's chain. Made on first use (a new workspace, or one from before
        the log was keyed); once a head has been written, a missing key is restored, never remade."""
        path = self.audit_key_path
        if not path.exists():
            if self.audit_head_path.exists():
                raise SettingsError(
                    f"the audit log's key {path.name} is missing from the workspace",
                    hint=f"restore it from the backup that holds {STATE_FILE}: without it the audit log cannot "
                    "be checked",
                )
            write_key(path)
        return _read_key(path, "audit log key")

    @cached_property
    def _pseudonyms(self) -> KeyedHash:
        return KeyedHash(self.secret)

    def pseudonymous_id(self, platform: str, pupil_key: str) -> str:
        """A stable id for one pupil on one platform, unlinkable across platforms without the secret
        (HMAC-SHA256; the key's part made once, ``provisioner/keyed_hash.py``)."""
        return self._pseudonyms.hexdigest(f"{platform}\0{pupil_key}".encode())[:16]

    def pseudonymous_ids(self, platform: str, pupil_keys: Iterable[str]) -> list[str]:
        """``pseudonymous_id`` of each of these pupils on one platform, in one loop: a plan makes
        one for each of a trust's 50,000 pupils on every platform sent one."""
        return self._pseudonyms.hexdigests(map(str.encode, pupil_keys), prefix=f"{platform}\0".encode(), length=16)

    def open_state(self) -> State:
        """The state, refused where it is not this workspace's own: lost or emptied beside files
        already issued (starting again would give every pupil a second account), or made with
        another school key (every pseudonymous id would change)."""
        self.refuse_lost_state()
        try:
            state = State(self.state_path, self.secret, self.audit_key, self.audit_head_path)
        except OtherKey:
            raise WorkspaceFault(
                f"{SECRET_FILE} is not the key {STATE_FILE} was made with: with it every pupil's pseudonymous id "
                "would change, and each platform would see new pupils (an erased pupil among them); nothing was changed",
                hint=f"put back the {SECRET_FILE} from the backup taken with {STATE_FILE}, then run the command again",
            ) from None
        if not state.holds_batches() and self.has_issued_files():
            state.close()
            self.refuse_lost_state(f"{STATE_FILE} records no batch")  # begun afresh since it was lost
        return state

    def has_issued_files(self) -> bool:
        """Whether the outbox holds a batch's files (their names carry its id, such as 20260901-001)."""
        return self.outbox.is_dir() and any(p.is_file() and BATCH_ID.search(p.name) for p in self.outbox.rglob("*"))

    def tighten_access(self) -> list[str]:
        """Make what holds pupils' records owner-only where something made it readable by others
        (a folder restored from a backup, say): a sentence for each kind of thing tightened."""
        state = self.state_path
        held = [state, state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm"),
                self.audit_head_path]  # fmt: skip
        return owner_only.tighten(self.root, [self.outbox, self.reports, self.uploads], held)

    def clear_half_written(self) -> None:
        """Remove what a killed command was part way through writing: its atomic writes' dot-named
        temporaries (a slip's or an import file's may hold passwords). Only under the lock, when
        no other command can be writing them."""
        files.remove_stale_temporaries(self.root)
        if self.outbox.is_dir():
            for folder in [self.outbox, *(p for p in self.outbox.rglob("*") if p.is_dir())]:
                files.remove_stale_temporaries(folder)

    def refuse_lost_state(self, what: str | None = None) -> None:
        """A workspace that has issued files but no state (or an empty one, or one begun afresh)
        lost its state: it must be restored, never begun again."""
        path = self.state_path
        if what is None:
            if path.exists() and path.stat().st_size > 0:
                return
            what = f"{STATE_FILE} is missing" if not path.exists() else f"{STATE_FILE} is empty"
        if self.has_issued_files() and self.secret_path.exists():
            raise WorkspaceFault(
                f"{what}, but this workspace has issued files in outbox/: starting again would give every pupil a "
                "second account and overwrite the files already issued; nothing was changed",
                hint=f"restore {STATE_FILE} from your backup (taken with the rest of the workspace), then run the "
                "command again",
            )

    def connector(self, platform: str) -> Connector:
        """A platform's connector built with this workspace's settings, enabled or not, and the
        default scope of its register entry (which the settings may change)."""
        cls = connector_class(platform)
        return cls(platform_settings(self.settings, cls), default_scope(platform))

    def connectors(self, only: list[str] | None = None) -> list[Connector]:
        """The enabled connectors (or the ones named), built with their settings and default scopes."""
        known = registry()
        for platform in only or []:
            connector_class(platform)
        chosen = []
        for platform, cls in known.items():
            settings = platform_settings(self.settings, cls)
            if only is None and not settings.enabled:
                continue
            if only is not None and platform not in only:
                continue
            if only is not None and not settings.enabled:
                raise UsageError(
                    f"{cls.name} is not enabled in this workspace",
                    hint=f"set enabled = true under [platforms.{platform}] in {self.settings_path}",
                )
            chosen.append(cls(settings, default_scope(platform)))
        return chosen

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Only one command changes the workspace at a time."""
        with self.lock_if_free() as held:
            if not held:
                holder = self._lock_holder()
                raise UsageError(
                    f"another provisioner command is working on this workspace{f': {holder}' if holder else ''}",
                    hint="wait for it to finish (or stop it), then run this command again",
                )
            yield

    def _lock_holder(self) -> str:
        """Which command holds the lock, as it wrote it: after the first byte, which is the one
        locked (Windows lets no other process read a locked byte)."""
        try:
            with open(self.root / LOCK_FILE, "rb") as handle:
                handle.seek(1)
                return handle.read(200).decode("utf-8", errors="replace").strip()
        except OSError:
            return ""

    @contextlib.contextmanager
    def lock_if_free(self) -> Iterator[bool]:
        """The workspace lock if no command holds it (True), else nothing (False): for a command
        that only reads, and tidies up only when no other is working (``status``)."""
        path = self.root / LOCK_FILE
        with contextlib.suppress(FileExistsError):
            files.create_private(path)
        handle = open(path, "r+b")  # noqa: SIM115 (closed below)
        try:
            try:
                if os.name == "nt":
                    import msvcrt

                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                held = False
            else:
                held = True
                # Who holds it, for a second command to name. The OS lets go of the lock when a
                # process dies however it dies, so a killed command never leaves it held.
                handle.seek(1)
                handle.write(f"{running_command()} (process {os.getpid()}, since {time.strftime('%H:%M')})".encode())
                handle.truncate()
                handle.flush()
            yield held
        finally:
            handle.close()


def running_command() -> str:
    """This process's command as the admin typed it (``provisioner leavers apply``): the words
    of the command line before its first file, option or id, two at most (a group and its
    command), so what follows (a pupil's name given to ``pupil show``) is never written down."""
    words = []
    for word in sys.argv[1:3]:
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        words.append(word)
    return " ".join(["provisioner", *words]) if words else "a provisioner command"


def write_key(path: Path) -> None:
    """A new random key of 32 bytes, as hex, in an owner-only file."""
    files.atomic_write_text(path, secrets.token_hex(32) + "\n", encoding="ascii")


def _read_key(path: Path, what: str) -> bytes:
    if not files.is_private(path):
        raise SettingsError(
            f"{path} can be read by other users of this computer",
            hint=f"make it private: chmod 600 '{path}'",
        )
    value = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise SettingsError(f"{path.name} is not a valid {what}", hint="restore it from your backup")
    return key


def connector_class(platform: str) -> type[Connector]:
    known = registry()
    if platform not in known:
        raise UsageError(f"'{platform}' is not a platform this tool knows", hint=f"use one of: {', '.join(sorted(known))}")
    return known[platform]


def platform_settings(settings: Settings, cls: type[Connector], text: str | None = None) -> PlatformSettings:
    """A platform's settings, validated; ``text``, the settings file, lets an error name its line."""
    raw = settings.platforms.get(cls.id, {})
    try:
        return cls.Settings.model_validate(raw, context={"connector": cls})
    except ValidationError as exc:
        problems = "; ".join(describe_error(e, ("platforms", cls.id), text) for e in exc.errors())
        raise SettingsError(f"{SETTINGS_FILE}: {problems}", hint="fix the setting and run the command again") from None


def load_settings(path: Path) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise WorkspaceNotFound(f"no {SETTINGS_FILE} in {path.parent}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path.name} is not valid TOML: {exc}", hint="fix the file and run again") from None
    refuse_secrets(path, text, raw)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(describe_error(e, (), text) for e in exc.errors())
        raise SettingsError(f"{path.name}: {problems}", hint="fix the setting and run the command again") from None
    for platform in settings.platforms:
        try:
            cls = connector_class(platform)
        except UsageError as exc:
            line = line_of(text, ("platforms", platform))
            raise SettingsError(f"{path.name}: [platforms.{platform}] is not a platform this tool knows"
                                f"{f' (line {line})' if line else ''}", exc.hint) from None  # fmt: skip
        platform_settings(settings, cls, text)
    return settings


def refuse_secrets(path: Path, text: str, raw: dict) -> None:
    """A secret written into the settings file is refused, never used: the file is copied,
    backed up and shown to others. The message names the key and its line, never the value,
    and says how the secret is given instead."""
    for key in secret_keys(raw):
        line = line_of(text, key)
        where = f"{'.'.join(key)}{f' (line {line})' if line else ''}"
        how = "this tool needs no secret there (the school secret is kept in school-secret.key)"
        if len(key) == 3 and key[0] == "platforms" and key[1] in registry():
            how = registry()[key[1]].secret_hint or how
        raise SettingsError(
            f"{path.name}: {where} holds a secret, and secrets never go in {path.name} (it is copied, backed up and "
            "shown to others); nothing was done",
            hint=f"delete that line, then {how}",
        )


def find_workspace(explicit: Path | None = None) -> Workspace:
    for candidate, how in (
        (explicit, "--workspace"),
        (Path(os.environ[ENV_WORKSPACE]) if os.environ.get(ENV_WORKSPACE) else None, ENV_WORKSPACE),
        (Path.cwd(), "the current folder"),
    ):
        if candidate is None:
            continue
        if (candidate / SETTINGS_FILE).is_file():
            return Workspace(candidate)
        raise WorkspaceNotFound(
            f"no workspace at {candidate} (from {how}): it has no {SETTINGS_FILE}",
            hint="create one with 'provisioner init DIR', or pass --workspace DIR",
        )
    raise AssertionError("unreachable")
