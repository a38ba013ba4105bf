"""An account's life after it is made: the day its pupil left or was first missed and when the
account must be gone, and each change of its status (disabled, deleted, held by the platform,
restored). Each change is one named operation writing the account, the pupil's history row and
its audit event in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date

from provisioner.state.accounts import NO_FIELDS
from provisioner.state.records import AccountStatus, RunStatus, SendStatus, now
from provisioner.state.texts import EACH_KEY, KEYS_GIVEN, keys_given


class StatusLedger:
    """Mixed into ``State``: needs ``db``, ``transaction``, ``audit`` and ``audit_each``,
    ``recall_tokens`` and the runs (``begin_run``, ``finish_run``)."""

    def record_leaving(self, platform: str, leavers: Iterable[tuple[str, str, str | None]]) -> None:
        """(pupil key, the day they left or were first missed, when the account must be gone) for
        each leaver, so the grace period runs from then and overdue deletions can be shown. A day
        already recorded is kept. A leaver is recorded again at every cleanup until their account
        is deleted, nearly always with the days recorded before: only the accounts whose days
        change are updated, the others found and left as they are."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE accounts SET left_on = COALESCE(left_on, ?1), delete_due = COALESCE(?2, delete_due)"
                " WHERE platform = ?3 AND pupil_key = ?4"
                " AND (left_on IS NULL OR delete_due IS NOT COALESCE(?2, delete_due))",
                [(left_on, delete_due, platform, key) for key, left_on, delete_due in leavers],
            )

    def deletions_due(self, today: date) -> bool:
        """Whether an account in use or disabled has a deletion due by ``today`` recorded (its
        leaver's grace period run out): a cleanup today lists it."""
        return self.db.execute(
            "SELECT 1 FROM accounts WHERE status IN (?, ?) AND delete_due <= ? LIMIT 1",
            (AccountStatus.ACTIVE, AccountStatus.DISABLED, today.isoformat()),
        ).fetchone() is not None

    def mark_disabled(self, run_id: int, platform: str, details: Mapping[str, dict]) -> None:
        """These accounts can no longer sign in (checked on the platform); ``details``: key -> why."""
        self._change_status(run_id, platform, details, AccountStatus.DISABLED, "disable")

    def mark_deleted(self, run_id: int, platform: str, details: Mapping[str, dict]) -> None:
        """These accounts are gone from the platform."""
        self._change_status(run_id, platform, details, AccountStatus.DELETED, "delete")

    def mark_restored(self, run_id: int, platform: str, details: Mapping[str, dict]) -> None:
        """These pupils are back before their accounts were deleted: active again, and the
        leaving date they were counted from is forgotten."""
        self._change_status(run_id, platform, details, AccountStatus.ACTIVE, "restore")

    def end_platform_holds(self, today: date) -> int:
        """Accounts a platform kept after the admin removed them (TTRS's Leavers group) whose day
        has passed: the platform has deleted them on its own schedule, so they are deleted here
        too, in a run of their own. Every command that changes accounts calls this first. Returns
        how many."""
        due = self.db.execute(
            "SELECT platform, pupil_key, delete_due FROM accounts WHERE status = ? AND delete_due < ?",
            (AccountStatus.PLATFORM_HOLD, today.isoformat()),
        ).fetchall()
        if not due:
            return 0
        with self.transaction():
            run_id = self.begin_run("platform deletions", None)
            for platform, key, held_until in due:
                self._set_status(run_id, platform, key, AccountStatus.DELETED, "deleted_by_platform",
                                 {"held_until": held_until, "reason": "deleted by the platform's own schedule"},
                                 history=True)  # fmt: skip
            self.finish_run(run_id, RunStatus.OK, {"deleted_by_platform": len(due)})
        return len(due)

    def record_unconfirmed(self, run_id: int, platform: str, action: str, pupil_keys: Iterable[str]) -> None:
        """Changes the platform did not show when read back: logged; the accounts stay as they were."""
        with self.transaction():
            for key in pupil_keys:
                self.audit(run_id, f"account.{action}.failed", platform, key,
                           detail={"reason": "not confirmed by reading back"})  # fmt: skip

    def _change_status(self, run_id: int | None, platform: str, details: Mapping[str, dict], status: AccountStatus,
                       action: str, history: bool = True) -> None:  # fmt: skip
        with self.transaction():
            self._set_statuses(run_id, platform, details, status, action, history)

    def _set_status(self, run_id: int | None, platform: str, key: str, status: AccountStatus, action: str,
                    detail: dict, history: bool, delete_due: str | None = None) -> None:  # fmt: skip
        """One account's new status, as ``_set_statuses``. Call inside a transaction."""
        self._set_statuses(run_id, platform, {key: detail}, status, action, history, delete_due)

    def _set_statuses(self, run_id: int | None, platform: str, details: Mapping[str, dict], status: AccountStatus,
                      action: str, history: bool, delete_due: str | None = None) -> None:  # fmt: skip
        """These accounts' new status (``details``: pupil key -> the event's detail), each one's row
        in the pupil's history (unless a batch holds it) and its audit event (``delete_due``: a new
        day for the deletion). One statement each for all of them, the keys given as one JSON
        array: a trust's cleanup changes thousands. Call inside a transaction."""
        stamp = now()
        returned = status is AccountStatus.ACTIVE
        keys = keys_given(details)
        self.db.execute(
            "UPDATE accounts SET status = ?, status_at = ?, delete_due = COALESCE(?, delete_due)"
            + (", left_on = NULL, delete_due = NULL" if returned else "")
            + f" WHERE platform = ? AND pupil_key IN {KEYS_GIVEN}",
            (status, stamp, delete_due, platform, keys),
        )
        if history:
            self.db.execute(
                "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status, sent_at)"
                f" SELECT ?, ?, NULL, value, ?, '{{}}', {NO_FIELDS}, ?, ? FROM {EACH_KEY}",  # noqa: S608 (fixed)
                (run_id, platform, action, SendStatus.DONE, stamp, keys),
            )
        self.recall_tokens(details)
        event = f"account.{action}"
        self.audit_each(run_id, platform, ((event, key, detail) for key, detail in _alike(details)))


# Values two details can be found equal by: equal ones are written the same in JSON (True and 1
# are equal in Python, not in JSON; nor are 1 and 1.0); any other is made JSON on its own.
_PLAIN = (str, int, type(None))


def _alike(details: Mapping[str, dict]) -> Iterator[tuple[str, dict]]:
    """Each (pupil key, detail), equal details of plain values given as one dict: a cleanup's
    thousands of events say one of a few things (the reason, the list), and ``audit_each`` makes
    each distinct dict JSON once."""
    seen: dict[tuple, dict] = {}
    for key, detail in details.items():
        if all(type(value) in _PLAIN for value in detail.values()):
            detail = seen.setdefault(tuple(detail.items()), detail)
        yield key, detail
