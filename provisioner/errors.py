"""Typed domain errors.

The core raises these; the CLI turns each into one line on stderr (what went wrong, then
what to do next) and the exit code below. Messages name rows, columns, platforms and
settings keys, never a pupil's name or identifier beyond what the admin needs to act.
"""

from __future__ import annotations

import errno
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """What a command's exit status means, for scripts and schedulers."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    INVALID_ROSTER = 3
    REMOTE_FAILED = 4
    PARTIAL = 5
    GUARD_REFUSED = 6
    REGISTER_PROBLEMS = 7
    AUDIT_BROKEN = 8  # the audit log does not prove itself (status, audit verify): someone changed the record
    # The workspace's own files cannot be used as they are: a full disk, a file or folder that
    # cannot be written, a damaged or missing state, a school key the state was not made with.
    WORKSPACE_FAULT = 9
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class ProvisionerError(Exception):
    """An expected failure with a remedy. ``hint`` says what to do or which command to run."""

    exit_code = ExitCode.UNEXPECTED

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ProvisionerError):
    exit_code = ExitCode.USAGE


class SettingsError(UsageError):
    """provisioner.toml (or a secret file) is missing, unreadable or invalid."""


class ApprovalNeeded(UsageError):
    """A platform's field list differs from the one approved for the register."""


class WorkspaceNotFound(UsageError):
    pass


class Interrupted(ProvisionerError):
    """Work stopped part way (the web interface stopped while an apply was under way): what was
    finished is recorded, and running it again finishes the rest."""

    exit_code = ExitCode.INTERRUPTED


class RosterError(ProvisionerError):
    """The roster file cannot be used. ``problems`` holds every row-level problem found."""

    exit_code = ExitCode.INVALID_ROSTER

    def __init__(self, message: str, hint: str | None = None, problems: list | None = None):
        super().__init__(message, hint)
        self.problems = problems or []


class EmptyRosterError(RosterError):
    """The roster has no pupils at all: never read as "everyone left"."""


class UndeclaredFieldError(ProvisionerError):
    """A connector read a pupil field it did not declare: a data-minimisation bug, never data."""


class RemoteError(ProvisionerError):
    exit_code = ExitCode.REMOTE_FAILED


class PartialFailure(ProvisionerError):
    exit_code = ExitCode.PARTIAL


class GuardRefused(ProvisionerError):
    exit_code = ExitCode.GUARD_REFUSED


class AuditBroken(ProvisionerError):
    """The audit log does not prove itself: an event changed or removed, or its head not reached."""

    exit_code = ExitCode.AUDIT_BROKEN


class WorkspaceFault(ProvisionerError):
    """The workspace's files cannot be used as they are (see ``ExitCode.WORKSPACE_FAULT``). The
    message says what happened and what was done; the hint what to restore or free."""

    exit_code = ExitCode.WORKSPACE_FAULT


class Aborted(ProvisionerError):
    """The admin answered no at a confirmation prompt: nothing was changed."""

    exit_code = ExitCode.OK


def os_fault(exc: OSError) -> WorkspaceFault:
    """A file the tool could not read or write, as what happened, what was done and what to do.
    Whatever a command finished before it is recorded (each step commits whole), and the next
    run of the same command carries on from there: so it says that, not "nothing was changed"."""
    name = Path(exc.filename).name if isinstance(exc.filename, str) and exc.filename else ""
    where = f" {exc.filename}" if name else ""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        what, fix = f"the disk is full (writing{where})", "free some space on the disk"
    elif exc.errno == errno.EROFS:
        what, fix = f"the disk is read-only (writing{where})", "use the workspace from a disk that can be written"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        what, fix = f"{name or 'a file'} cannot be written or read (permission denied{where and ': ' + exc.filename})", \
            "give your account access to the workspace folder and the files in it"  # fmt: skip
    else:
        what, fix = f"{exc.strerror or type(exc).__name__}{where and ' (' + exc.filename + ')'}", \
            "check the disk and the workspace folder"  # fmt: skip
    return WorkspaceFault(f"stopped: {what}; what was finished before it is kept and recorded, the rest was not done",
                          hint=f"{fix}, then run the same command again: it carries on from where it stopped")
