"""The delivery strategy: how one platform is reached. Three small classes implement it
(``FileImport``, ``ApiDelivery``, ``MisSync``); a connector chooses one from its settings, and
the core calls the strategy without asking which it is.

A strategy carries out its platform's part of a plan (``deliver``), finishes a batch an
interrupted apply recorded (``resume``), and acts on the leaver cleanup's steps (``clean_up``).
Each reports what it did into the run's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from provisioner.connector import ApiSession, Connector
from provisioner.faults import CRASH_ENV, crashpoint  # noqa: F401 (the strategies' and jobs' fault points)
from provisioner.models import Pupil, Roster
from provisioner.state import Batch, BatchKind, BatchStatus, PendingSend, State, now
from provisioner.workspace import Workspace

# The plans are only read here, not made: every command loads the strategies with the
# connectors, and most (status, audit verify) plan nothing (planning/actions.py).
if TYPE_CHECKING:
    from provisioner.checklist import ChecklistWorker
    from provisioner.delivery.paperwork import FirstPasswords
    from provisioner.planning.cleanup import CleanupPlan, PlatformCleanup
    from provisioner.planning.provisioning import Plan, PlatformPlan

Progress = Callable[[str, int, int], None]  # (platform, done, total)


@dataclass
class IssuedBatch:
    platform: str
    batch_id: str
    path: Path | None  # the import file (or deletion list); None for a platform reached through its API
    rows: int
    resumed: bool = False
    slips: list[Path] = field(default_factory=list)  # login slips (PDF, xlsx), or a deletion list's files
    leaver_upload: bool = False  # among a cleanup's lists, an upload without the leavers: confirmed as uploaded


@dataclass(frozen=True)
class UnnamedSlips:
    """Login slips an earlier apply wrote for one batch (their passwords set on the platform)
    that no finished apply's answer named: it was killed, or stopped with an error (whose hint
    may have named them; they are named again, never lost), before it finished."""

    platform: str
    batch_id: str
    files: list[Path]  # the slips' files still in the outbox (PDF and xlsx)

    def as_dict(self) -> dict:
        return {"platform": self.platform, "batch": self.batch_id, "slips": [str(path) for path in self.files]}


@dataclass
class ApplyResult:
    plan: Plan
    batches: list[IssuedBatch] = field(default_factory=list)
    recorded: dict[str, int] = field(default_factory=dict)  # MIS-sync platform -> pupils recorded
    earlier_slips: list[UnnamedSlips] = field(default_factory=list)  # named now: an earlier apply stopped first
    # The slip files this answer names that the state counts as owed (workspace-relative), and
    # the run naming them: marked named once the answer has been shown (``Provisioner.slips_shown``).
    owed_slips: list[str] = field(default_factory=list)
    run_id: int | None = None

    def as_dict(self) -> dict:
        out = self.plan.as_dict()
        out["batches"] = [
            {"platform": b.platform, "batch": b.batch_id, "file": str(b.path) if b.path else None, "rows": b.rows,
             "resumed": b.resumed, "slips": [str(path) for path in b.slips]}
            for b in self.batches
        ]  # fmt: skip
        out["recorded"] = self.recorded
        out["earlier_slips"] = [slips.as_dict() for slips in self.earlier_slips]
        return out


@dataclass
class CleanupResult:
    plan: CleanupPlan
    done: dict[str, dict[str, int]] = field(default_factory=dict)  # platform -> action -> count
    deletion_lists: list[IssuedBatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = self.plan.as_dict()
        out["done"] = self.done
        out["deletion_lists"] = [{"platform": b.platform, "batch": b.batch_id, "file": str(b.path),
                                  "files": [str(p) for p in b.slips], "rows": b.rows,
                                  "confirm": "uploaded" if b.leaver_upload else "deleted"}
                                 for b in self.deletion_lists]  # fmt: skip
        out["notes"] = self.notes
        return out


@dataclass
class Job:
    """What a strategy works with during one run: the workspace, the open state, the run, the
    roster (None for an erasure, which has none), the API sessions opened for the run."""

    workspace: Workspace
    state: State
    today: date
    run_id: int | None = None
    roster: Roster | None = field(default=None, repr=False)  # pupil data: never in a repr or traceback
    progress: Progress | None = None
    sessions: dict[str, ApiSession] = field(default_factory=dict, repr=False)
    batch_id: str | None = None  # one id for every platform's batch of an apply
    checklists: ChecklistWorker | None = field(default=None, repr=False)  # a trust's cleanup draws its lists aside
    # Platform -> pupil key -> the first password its file of this apply's batch is to hold, made
    # up front for the combined cards drawn while the files are written (``paperwork.early_cards``):
    # in memory only, never in the state or a log. ``FileDelivery.resume`` takes a platform's
    # out as it writes its file, and names the platform in ``first_passwords_kept`` where the file
    # holds exactly them.
    first_passwords: dict[str, FirstPasswords] = field(default_factory=dict, repr=False)
    first_passwords_kept: set[str] = field(default_factory=set)
    _by_key: dict[str, Pupil] | None = field(default=None, init=False, repr=False)

    def pupil(self, key: str) -> Pupil | None:
        """The roster's record of a pupil (for names on slips), if the roster has them."""
        if self.roster is None:
            return None
        if self._by_key is None:
            self._by_key = {p.key: p for p in self.roster.pupils}
        return self._by_key.get(key)


class Delivery:
    """How one platform is reached. Subclasses say what they can do in the class attributes:

    - ``kind``: a short name for people and scripts ("file", "api", "mis-sync").
    - ``makes_accounts``: False when the platform makes its own accounts from the MIS and the
      tool only records which pupils and fields it holds (no usernames, no values kept).
    - ``works_offline``: False when it needs a tenant and credentials (not in the demo).
    - ``erasure_effect``: what an erasure does to an account here, in words for the admin.
    - ``sent_by``: who sends the platform its pupils when this tool does not (a data broker's
      name); empty when this tool does.
    - ``removes_leavers``: True when ``sent_by`` removes leavers' accounts itself, so the school
      need not check; False where the school deletes them (or checks they are gone).
    - ``full_set``: see below.
    """

    kind: ClassVar[str]
    makes_accounts: ClassVar[bool] = True
    works_offline: ClassVar[bool] = True
    erasure_effect: ClassVar[str]
    sent_by: ClassVar[str] = ""
    removes_leavers: ClassVar[bool] = False
    # Each upload lists every pupil the platform holds, since it takes absence as leaving; a
    # deletion list is then the next upload without the leavers (``write`` makes it).
    full_set: ClassVar[bool] = False

    def __init__(self, connector: Connector):
        self.connector = connector

    @property
    def can_disable(self) -> bool:
        """Whether a leaver's account can be stopped from signing in, short of deleting it."""
        return False

    def accounts_made_by(self) -> str:
        """Who makes the platform's accounts, in words for the register's readers."""
        raise NotImplementedError

    def leaver_effect(self) -> str:
        """What the cleanup does with a leaver's account, in words for the admin, where it is not
        the usual disable and delete; empty otherwise."""
        return ""

    def sent_fields(self) -> tuple[str, ...]:
        """The fields the platform receives this way."""
        return self.connector.enabled_fields

    def connect(self, school_domain: str) -> ApiSession | None:
        """Sign in before anything is planned, where the platform is called; None elsewhere."""
        return None

    def can_resume(self, batch: Batch) -> bool:
        """Whether this way of delivery can finish a batch an interrupted apply left (one begun
        another way, before the school changed the setting, it cannot)."""
        return False

    def deliver(self, job: Job, plan: PlatformPlan, result: ApplyResult) -> None:
        """Carry out this platform's part of an apply, and report it into ``result``."""
        raise NotImplementedError

    def resume(self, job: Job, batch: Batch) -> IssuedBatch:
        """Finish a batch an interrupted apply recorded but did not complete."""
        raise NotImplementedError

    def clean_up(self, job: Job, cleanup: PlatformCleanup, result: CleanupResult) -> int:
        """Act on the leaver cleanup's steps due now; report into ``result``. Returns how many
        changes could not be confirmed."""
        raise NotImplementedError

    def confirm_upload(self, job: Job, batch: Batch) -> list[IssuedBatch]:
        """Record that the admin uploaded ``batch``; returns any deletion list that follows from it
        (School Data Sync's leaver upload marks leavers inactive, and asks for their deletion)."""
        job.state.confirm_upload(batch)
        return []

    def settings_template(self) -> list[str]:
        """Commented lines for a new provisioner.toml: the settings only this way of delivery reads."""
        return []

    def erasure_note(self) -> str | None:
        """What the admin must also do after an erasure, where the tool cannot do it all."""
        return None


def record_intent(job: Job, plan: PlatformPlan, kind: BatchKind, file: str) -> Batch:
    """Record what a batch will send before anything is written or sent."""
    return record_rows(job, plan, kind, file)[0]


def record_rows(job: Job, plan: PlatformPlan, kind: BatchKind, file: str) -> tuple[Batch, list[PendingSend]]:
    """``record_intent``, and the rows recorded as ``State.pending_sends`` would read them back:
    a trust's file is written from the 50,000 rows the apply has just recorded, not from a
    second reading of them (an interrupted batch's are read back when it is finished)."""
    batch = Batch(job.batch_id, plan.platform, job.run_id, file, BatchStatus.WRITING, now(), None, kind)
    sends = job.state.record_intent(batch, plan.sending())
    crashpoint("prepared")
    return batch, sends
