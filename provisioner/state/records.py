"""What the state records, as values: the statuses every account, batch, send and run can
have, and the rows read back. One definition of each, so no two modules can disagree about,
say, which accounts a platform still holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import NamedTuple


class AccountStatus(StrEnum):
    """Where an account is in its life. Every status but DELETED is one the platform holds.

    PLATFORM_HOLD is a deletion the platform carries out on its own schedule: the admin removed
    the account from use (Times Tables Rock Stars' "Send to Leavers"), but the platform keeps its
    data until the account's ``delete_due`` and only then deletes it, so the pupil is still held
    until that day passes (``end_platform_holds``)."""

    PENDING = "pending"  # an apply recorded its intent; the send is not finished yet
    ACTIVE = "active"
    DISABLED = "disabled"  # a leaver who cannot sign in; kept until deletion falls due
    DELETION_REQUESTED = "deletion_requested"  # on a deletion list the admin has not confirmed
    PLATFORM_HOLD = "platform_hold"  # out of use, kept by the platform until delete_due, then deleted by it
    DELETED = "deleted"

    @property
    def held(self) -> bool:
        """The platform holds (or, while a send is unfinished, may hold) the pupil's data."""
        return self is not AccountStatus.DELETED


class BatchKind(StrEnum):
    IMPORT = "import"  # an import file (or folder of files) for the admin to upload
    API = "api"  # changes sent to the platform through its API
    DELETION = "deletion"  # a deletion list for the admin to carry out
    # The next upload of a platform that takes whole uploads, without its leavers: uploading it
    # marks them inactive there (School Data Sync), which is not deleting them.
    LEAVER_UPLOAD = "leaver_upload"


class BatchStatus(StrEnum):
    WRITING = "writing"  # intent recorded, not finished: the next apply finishes it
    ISSUED = "issued"  # the file (or list) is ready and waits for the admin
    UPLOADED = "uploaded"  # the admin confirmed the upload
    APPLIED = "applied"  # an API batch: the platform has it, nothing to upload
    DELETED = "deleted"  # the admin confirmed a deletion list was carried out

    @property
    def finished(self) -> bool:
        """Nothing more is asked of anyone: its files may be removed in time."""
        return self in (BatchStatus.UPLOADED, BatchStatus.APPLIED, BatchStatus.DELETED)


class SendStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Account:
    platform: str
    pupil_key: str
    username: str
    status: AccountStatus
    sent: dict[str, str]
    remote_id: str | None = None
    left_on: str | None = None  # ISO date: the pupil's leaving date, or the day they were first missed
    delete_due: str | None = None  # ISO date by which the account must be deleted (PLATFORM_HOLD: when the platform deletes it)
    status_at: str | None = None  # when the status last changed
    created_at: str | None = None

    def held_on(self, today: date) -> bool:
        """The platform holds the pupil's data on ``today``. A platform hold whose day has passed
        is over even before a command records the deletion (``end_platform_holds``)."""
        if self.status is AccountStatus.PLATFORM_HOLD and self.delete_due:
            return self.delete_due >= today.isoformat()
        return self.status.held


@dataclass(frozen=True)
class Holding:
    """What one platform holds today, counted in the state, not account by account: the overview
    and the register count a trust's 350,000 accounts on every run. ``by_status`` counts the
    accounts held today whose pupil the platform has (those only in an import file not yet
    confirmed uploaded are ``awaiting_upload`` instead; see ``State.awaiting_upload``);
    ``ended_holds`` are platform holds past their day, deleted by the platform though no command
    has recorded it yet (``Account.held_on``)."""

    by_status: dict[AccountStatus, int]
    awaiting_upload: int
    deleted: int
    ended_holds: int
    hold_range: tuple[str, str] | None  # first and last day the platform's own hold ends, if any

    @property
    def held(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class PendingSend:
    id: int
    pupil_key: str
    action: str  # create, update, delete
    fields: dict[str, str]
    changed: list[str]


@dataclass(frozen=True)
class SentRecord:
    """One thing done to a pupil's account, as the pupil's history shows it."""

    platform: str
    action: str
    fields: dict[str, str]
    changed: list[str]
    at: str


@dataclass(frozen=True)
class Approval:
    """One approval of a register entry's field list (like an approval receipt)."""

    entry_id: str
    approved_at: str
    approved_by: str
    role: str
    fields_before: list[str]
    fields_after: list[str]
    next_review: str
    note: str = ""


@dataclass(frozen=True)
class RegisterChange:
    """One key of a register entry the school set (``register set`` or ``register edit``)."""

    entry_id: str
    key: str
    value_before: object  # as the entry had it: text, a list of field names, a number, or None
    value_after: object
    changed_at: str
    changed_by: str
    how: str  # "set" or "edit"


class Identity(NamedTuple):
    """Who a pupil key is, as the latest roster said (``state/identities.py``). A named tuple: a
    plan reads one for every pupil held, 50,000 in a trust."""

    key: str
    mis_id: str | None = None  # normalised: no spaces, upper case, no leading zeros
    upn: str | None = None
    match_hash: str | None = None  # keyed hash of legal names and date of birth
    forename: str = ""
    surname: str = ""
    class_name: str = ""
    year_group: str = ""
    shown_id: str = ""  # the id as the school writes it (the MIS id, else the UPN)

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}".strip()


@dataclass(frozen=True)
class Batch:
    id: str
    platform: str
    run_id: int
    file: str
    status: BatchStatus
    created_at: str
    issued_at: str | None
    kind: BatchKind = BatchKind.IMPORT
    due: str | None = None  # a deletion batch: the date by which it must be done


class SlipFile(NamedTuple):
    """A login slip file an API batch wrote, which no finished apply's answer has named yet."""

    platform: str
    batch_id: str
    file: str  # relative to the workspace


def now() -> str:
    """The time the state records, in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")
