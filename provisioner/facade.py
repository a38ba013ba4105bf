"""The one way in for every front end (the command line, the web interface, a script).

``Provisioner`` holds one school's workspace and offers each job the tool does as one method:
it reads the roster under the rules every front end shares, opens the state, holds the
workspace lock while anything changes, and hands back results to render. A front end parses
what the person asked, calls one method, and shows what comes back; it holds no rule.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import files, times
from provisioner.connector import Connector, registry
from provisioner.errors import Aborted, EmptyRosterError, GuardRefused, RosterError, UsageError, WorkspaceNotFound
from provisioner.jobs.status import status_report
from provisioner.state import Approval, AuditHead, Batch, BatchKind, BatchStatus, ChainCheck, State, state_faults
from provisioner.workspace import SETTINGS_FILE, Workspace, connector_class, find_workspace

# A command waits for every module it imports: `status` and `audit verify` open the workspace
# and the state, and need none of the jobs that read a roster, plan, write files or documents.
# So each job's modules (jobs/, planning/, register/, roster/, reports/) are imported in the
# methods that use them; those modules' own imports stay at their tops. (tests/test_startup.py
# holds status to loading none of them.)
if TYPE_CHECKING:
    from provisioner.delivery import ApplyResult, CleanupResult, Progress
    from provisioner.jobs import retention
    from provisioner.jobs.configure import PlatformForm, SettingsChanged
    from provisioner.jobs.requests import AllowResult, ErasureRequest, ErasureResult
    from provisioner.models import Roster
    from provisioner.planning.cleanup import CleanupPlan
    from provisioner.planning.identity import Relink
    from provisioner.planning.provisioning import Plan
    from provisioner.planning.reconcile import Reconciliation
    from provisioner.register import Register, Verdict
    from provisioner.register.edit import EntryEdited
    from provisioner.register.gaps import Gap
    from provisioner.reports import Dpia

Confirm = Callable[[object], bool]  # shown the plan, says whether to go ahead


def platforms() -> dict[str, str]:
    """Every platform the tool knows: id -> name."""
    return {platform: cls.name for platform, cls in registry().items()}


def check_roster(path: Path, workspace: Path | None = None) -> tuple[Roster, dict[str, int] | None]:
    """Read and check a roster, reporting every problem; a workspace's header aliases are used
    when there is one, but checking a file needs none. With a workspace, also how its pupils
    match the pupils held (``identity.summary``); changes nothing."""
    from provisioner.planning import identity
    from provisioner.roster import read_roster
    from provisioner.settings import RosterSettings

    try:
        found = find_workspace(workspace)
    except WorkspaceNotFound:
        if workspace is not None:
            raise
        return read_roster(path, RosterSettings()), None
    roster = read_roster(path, found.settings.roster)
    if not found.state_path.exists():
        return roster, None
    with found.open_state() as state:
        return roster, identity.summary(state, roster)


def is_workspace(path: Path) -> bool:
    """Whether ``path`` holds a workspace (its settings file), without reading it."""
    return (path / SETTINGS_FILE).is_file()


class Provisioner:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    @classmethod
    def find(cls, explicit: Path | None = None) -> Provisioner:
        """The workspace named, else $PROVISIONER_WORKSPACE, else the current folder."""
        return cls(find_workspace(explicit))

    def check_access(self) -> list[str]:
        """Make the workspace owner-only again where something opened it to others: what was
        tightened, for the admin to be told (``owner_only``)."""
        return self.workspace.tighten_access()

    @classmethod
    def create(cls, root: Path, school: str, domain: str, platforms: list[str], approved_by: str = "") -> Provisioner:
        """A new workspace, its first register approved as it stands by ``approved_by``."""
        from provisioner.jobs import create

        return cls(create.init_workspace(root, school, domain, platforms, approved_by))

    @classmethod
    def demo(cls, directory: Path, today: date | None = None) -> tuple[Provisioner, Path]:
        """The demo workspace (made or reused) and its synthetic roster."""
        from provisioner.jobs import create

        workspace, roster = create.prepare_demo(directory, today)
        return cls(workspace), roster

    def _today(self) -> date:
        """Today on the school's clock (``[school] time_zone``), whatever the computer's own zone."""
        return times.today(self.workspace.settings.school.zone)

    # Opening the state

    @contextlib.contextmanager
    def _reading(self) -> Iterator[State]:
        with self.workspace.open_state() as state, state_faults(state.path):
            yield state

    @contextlib.contextmanager
    def _changing(self) -> Iterator[State]:
        """Only one command changes the workspace at a time. Holding the lock, no other run can
        still be going: a run left "running" was killed, and is marked interrupted, and what it
        was part way through writing is removed."""
        with self.workspace.lock(), self.workspace.open_state() as state, state_faults(state.path):
            state.mark_interrupted_runs()
            self.workspace.clear_half_written()
            yield state

    # Rosters

    def read_roster(self, path: Path, *, today: date | None = None, skip_invalid_rows: bool = False,
                    for_cleanup: bool = False, partial: bool = False) -> Roster:  # fmt: skip
        """The roster for a job: any row error stops it unless the admin chose to skip those rows.
        For a cleanup an empty roster is the guard's to refuse: it would remove everyone.
        ``partial``: the admin says it lists only some pupils, so nobody it leaves out has left."""
        from provisioner.roster import read_roster

        try:
            roster = read_roster(path, self.workspace.settings.roster, today=today or self._today())
        except EmptyRosterError as exc:
            if for_cleanup:
                raise GuardRefused(f"{exc.message}; a cleanup from it would remove every account", exc.hint) from None
            raise
        if roster.errors and not skip_invalid_rows:
            raise RosterError(
                f"the roster has {roster.error_count} problem(s) in {roster.invalid_rows} row(s); nothing was changed",
                hint=f"see them with 'provisioner roster check {path}', fix the export, "
                "or pass --skip-invalid-rows to leave those rows out",
                problems=roster.errors,
            )
        roster.partial = partial
        return roster

    def keep_roster(self, name: str, data: bytes) -> Path:
        """Keep a roster chosen in a browser inside the workspace (uploads/), replacing the one
        chosen before: a roster holds every pupil's data, so only the one in use is kept."""
        stem = "".join(ch if ch.isalnum() or ch in "-_ " else "-" for ch in Path(name).stem).strip() or "roster"
        return self._keep_upload(self.workspace.uploads, stem, name, data,
                                 "export the roster from the MIS as Excel (xlsx) or CSV and choose that file")  # fmt: skip

    def keep_export(self, platform: str, name: str, data: bytes) -> Path:
        """Keep a platform's own pupil export chosen in a browser inside the workspace
        (uploads/exports/), replacing the one chosen before, for a reconcile to read."""
        connector_class(platform)
        return self._keep_upload(self.workspace.uploads / "exports", f"{platform}-export", name, data,
                                 "download the pupil list from the platform as Excel (xlsx) or CSV and choose that "
                                 "file")  # fmt: skip

    @staticmethod
    def _keep_upload(folder: Path, stem: str, name: str, data: bytes, hint: str) -> Path:
        """Write an uploaded xlsx or csv as ``folder/stem.suffix``, the folder's other files removed."""
        suffix = Path(name).suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise UsageError(f"'{Path(name).name}' is not an xlsx or csv file", hint=hint)
        files.make_private_dir(folder)
        for older in folder.iterdir():
            if older.is_file():  # the one chosen before (a platform's export is kept in its own folder)
                older.unlink()
        path = folder / f"{stem}{suffix}"
        files.atomic_write_bytes(path, data)
        return path

    def kept_roster(self, name: str) -> Path:
        """The roster kept by ``keep_roster`` under this name; refused once another replaced it."""
        path = self.workspace.uploads / Path(name).name
        if not path.is_file():
            raise UsageError("that roster is no longer kept (another was chosen since)",
                             hint="choose the roster file again")  # fmt: skip
        return path

    def kept_rosters(self) -> list[str]:
        """The roster kept by ``keep_roster`` (none, or one)."""
        folder = self.workspace.uploads
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    def workspace_file(self, relative: str) -> Path:
        """A file of the outbox or the reports folder to hand to the admin; nothing else is given out."""
        root = self.workspace.root
        path = (root / relative).resolve()
        if not any(path.is_relative_to(folder) for folder in (self.workspace.outbox, self.workspace.reports)) \
                or not path.is_file():
            raise UsageError(f"'{relative}' is not a file of the outbox or the reports folder",
                             hint="download files from the Downloads page")  # fmt: skip
        return path

    def outbox_files(self) -> list[str]:
        """Every file in the outbox, relative to the workspace, newest first."""
        outbox = self.workspace.outbox
        found = [p for p in outbox.rglob("*") if p.is_file()] if outbox.is_dir() else []
        found.sort(key=lambda p: (-p.stat().st_mtime, str(p)))
        return [str(p.relative_to(self.workspace.root).as_posix()) for p in found]

    def connectors(self, platforms: list[str] | None = None) -> list[Connector]:
        """The enabled platforms, or the ones named (which must be enabled)."""
        return self.workspace.connectors(platforms)

    # Provisioning

    def plan(self, roster: Path, *, platforms: list[str] | None = None, today: date | None = None,
             skip_invalid_rows: bool = False, partial_roster: bool = False, allow_large_cleanup: bool = False,
             different_pupils: bool = False) -> Plan:  # fmt: skip
        """What apply would do, per platform, with every pupil affected and the fields each
        action sends; the guard's verdict is in ``refusal`` (show the plan, then refuse). Changes nothing."""
        from provisioner.jobs import provisioning

        today = today or self._today()
        loaded = self.read_roster(roster, today=today, skip_invalid_rows=skip_invalid_rows, partial=partial_roster)
        connectors = self.connectors(platforms)
        with self._reading() as state:
            return provisioning.plan(self.workspace, state, loaded, connectors, today, allow_large=allow_large_cleanup,
                                     different_pupils=different_pupils)  # fmt: skip

    def apply(self, roster: Path, *, confirm: Confirm, platforms: list[str] | None = None, today: date | None = None,
              skip_invalid_rows: bool = False, progress: Progress | None = None, partial_roster: bool = False,
              allow_large_cleanup: bool = False, different_pupils: bool = False) -> ApplyResult:  # fmt: skip
        """Recompute the plan, show it through ``confirm``, then carry it out and record it. The
        front end calls ``slips_shown`` once it has shown the answer."""
        from provisioner.faults import crashpoint
        from provisioner.jobs import provisioning

        today = today or self._today()
        loaded = self.read_roster(roster, today=today, skip_invalid_rows=skip_invalid_rows, partial=partial_roster)
        connectors = self.connectors(platforms)
        with self._changing() as state:
            result = provisioning.apply(self.workspace, state, loaded, connectors, today, confirm, progress,
                                        allow_large_cleanup, different_pupils)  # fmt: skip
        crashpoint("answered")  # all recorded, nothing yet shown to the admin
        return result

    def slips_shown(self, result: ApplyResult) -> None:
        """The admin has been shown an apply's answer: the slip files it names are owed no longer.
        Called by the front end once the answer is on the screen, so an apply killed before then
        leaves them to be named again. With another command at work it waits for the next one."""
        if not result.owed_slips:
            return
        with self.workspace.lock_if_free() as free:
            if free:
                with self._reading() as state:
                    state.mark_slips_named(result.run_id, result.owed_slips)

    def relink_pairs(self, roster: Path, *, skip_invalid_rows: bool = False) -> list[Relink]:
        """Pupils of this roster the state holds under other ids, paired by UPN or by legal name
        and date of birth. Changes nothing."""
        from provisioner.planning import identity

        loaded = self.read_roster(roster, skip_invalid_rows=skip_invalid_rows)
        with self._reading() as state:
            return identity.pairings(state, loaded)

    def relink(self, roster: Path, *, confirm: Confirm, skip_invalid_rows: bool = False) -> list[Relink]:
        """Show the pairings through ``confirm``, then record each held pupil under this roster's ids."""
        from provisioner.jobs import provisioning

        loaded = self.read_roster(roster, skip_invalid_rows=skip_invalid_rows)
        with self._changing() as state:
            return provisioning.relink(state, loaded, confirm)

    def reset_passwords(self, platform: str, roster: Path, *, classes: list[str], pupils: list[str],
                        skip_invalid_rows: bool = False) -> tuple[Connector, int]:  # fmt: skip
        """Ask the next apply to give these pupils new passwords and slips on one platform."""
        from provisioner.jobs import provisioning

        loaded = self.read_roster(roster, skip_invalid_rows=skip_invalid_rows)
        [connector] = self.connectors([platform])
        with self._changing() as state:
            return connector, provisioning.request_password_resets(state, loaded, connector, classes, pupils)

    def confirm_uploaded(self, platform: str, batch: str | None = None,
                         today: date | None = None) -> tuple[list[Batch], list[Batch]]:  # fmt: skip
        """The admin uploaded an import: (batches recorded now, ones recorded before). Where the
        upload was School Data Sync's without its leavers, a deletion list follows
        (``deletion_lists_waiting``)."""
        from provisioner.jobs import provisioning

        connector_class(platform)
        with self._changing() as state:
            confirmed, earlier, _issued = provisioning.confirm_uploaded(
                self.workspace, state, self.workspace.connector(platform), batch, today or self._today())
            return confirmed, earlier

    def confirm_deleted(self, platform: str, batch: str | None = None,
                        today: date | None = None,
                        deleted_since_export: bool = False) -> tuple[list[Batch], list[Batch]]:  # fmt: skip
        """The admin deleted a deletion list's accounts: (lists recorded now, ones recorded before).
        Refused while a reconcile found some still on the platform, unless ``deleted_since_export``."""
        from provisioner.jobs import cleanup

        connector_class(platform)
        with self._changing() as state:
            return cleanup.confirm_deleted(state, self.workspace.connector(platform), batch, today or self._today(),
                                           deleted_since_export)

    def reconcile(self, platform: str, path: Path | None, today: date | None = None) -> Reconciliation:
        """Compare the platform's own pupil export with the accounts the tool made there: which
        accounts whose deletion was asked it still holds, which rows the tool did not make, whose
        name or class differ, which accounts in use it lacks; and record the deletions it proves.
        Without ``path``, a platform this tool can ask (Microsoft 365) is read directly."""
        from provisioner.jobs import reconcile
        from provisioner.roster.platform_export import read_platform_export

        connector = self.workspace.connector(platform)
        if path is not None:
            export = read_platform_export(path, connector.name, f"[platforms.{platform}]",
                                          connector.settings.export_columns)  # fmt: skip
        else:  # a platform this tool can ask (Microsoft 365 through Graph)
            export = connector.own_export(self.workspace.settings.school.domain)
            if export is None:
                raise UsageError(f"say which file is {connector.name}'s pupil export",
                                 hint=f"download the pupil list from {connector.name} and run "
                                 f"'provisioner reconcile {platform} FILE'")  # fmt: skip
        with self._changing() as state:
            return reconcile.reconcile_export(self.workspace, state, connector, export, today or self._today())

    def held_until(self, platform: str, batch: str) -> date | None:
        """Until when the platform still holds the accounts a confirmed deletion list sent to its
        own hold (TTRS's Leavers group); None when it holds none of them."""
        with self._reading() as state:
            day = state.held_until(platform, batch)
        return date.fromisoformat(day) if day else None

    def deletion_lists_waiting(self, platform: str) -> list[Batch]:
        """The platform's deletion lists the admin has not yet confirmed."""
        connector_class(platform)
        with self._reading() as state:
            return [b for b in state.batches(platform, status=BatchStatus.ISSUED) if b.kind is BatchKind.DELETION]

    def held_after_deletion(self, platform: str, confirmed_on: date | None = None) -> date | None:
        """Until when the platform still holds accounts confirmed deleted on ``confirmed_on`` (Times
        Tables Rock Stars' Leavers group keeps them 6 months); None when they are gone at once."""
        return self.workspace.connector(platform).held_after_deletion(confirmed_on or self._today())

    # Settings

    def platform_form(self, platform: str) -> PlatformForm:
        """A platform's settings a form may change, and the choices it allows."""
        from provisioner.jobs import configure

        return configure.platform_form(self.workspace, platform)

    def configure_platform(self, platform: str, values: dict[str, object]) -> SettingsChanged:
        """Write a platform's settings into provisioner.toml (its comments kept), checked as it loads."""
        from provisioner.jobs import configure

        with self.workspace.lock():
            return configure.set_platform(self.workspace, platform, values)

    # The leaver cleanup

    def plan_leavers(self, roster: Path, *, platforms: list[str] | None = None, today: date | None = None,
                     skip_invalid_rows: bool = False, partial_roster: bool = False,
                     allow_large_cleanup: bool = False) -> CleanupPlan:  # fmt: skip
        """Who would be disabled, deleted or restored, and what falls due later; the guard's
        verdict is in ``refusal`` (show the plan, then refuse), given ``allow_large_cleanup``."""
        from provisioner.jobs import cleanup

        today = today or self._today()
        loaded = self.read_roster(roster, today=today, skip_invalid_rows=skip_invalid_rows, for_cleanup=True,
                                  partial=partial_roster)  # fmt: skip
        connectors = self.connectors(platforms)
        with self._reading() as state:
            return cleanup.plan(self.workspace, state, loaded, connectors, today, allow_large_cleanup)

    def apply_leavers(self, roster: Path, *, confirm: Confirm, platforms: list[str] | None = None,
                      today: date | None = None, allow_large_cleanup: bool = False,
                      skip_invalid_rows: bool = False, partial_roster: bool = False,
                      progress: Progress | None = None) -> CleanupResult:  # fmt: skip
        """Plan the cleanup, check the guard, show it through ``confirm``, then carry it out;
        ``progress`` hears each platform's steps as it starts and as it ends."""
        from provisioner.jobs import cleanup

        today = today or self._today()
        loaded = self.read_roster(roster, today=today, skip_invalid_rows=skip_invalid_rows, for_cleanup=True,
                                  partial=partial_roster)  # fmt: skip
        connectors = self.connectors(platforms)
        with self._changing() as state:
            return cleanup.apply(self.workspace, state, loaded, connectors, today, confirm, allow_large_cleanup,
                                 progress)  # fmt: skip

    def purge(self, today: date | None = None) -> dict:
        """Forget leavers past the retention period, and old outbox files of finished batches."""
        from provisioner.jobs import retention

        with self._changing() as state:
            return retention.purge(self.workspace, state, today or self._today())

    def login_slips(self) -> list[retention.Slips]:
        """Each apply's login slips still in the outbox, newest first, with the import files of
        the same apply still to upload."""
        from provisioner.jobs import retention

        with self._reading() as state:
            return retention.slips_kept(self.workspace, state)

    def remove_login_slips(self, batch: str) -> retention.Slips:
        """Remove one apply's login slips (PDF, xlsx, a trust's folder of cards) once handed out;
        its import files and deletion lists stay. Recorded in the audit log."""
        from provisioner.jobs import retention

        with self._changing() as state:
            return retention.remove_slips(self.workspace, state, batch)

    # The overview

    def status(self, today: date | None = None) -> dict:
        """The overview. When no other command is working, a run still "running" was killed
        (a purge, an erasure...), and is shown, and recorded, as interrupted."""
        with self._reading() as state:
            with self.workspace.lock_if_free() as idle:
                if idle:
                    state.mark_interrupted_runs()
            return status_report(self.workspace, state, today or self._today())

    # The audit log

    def verify_audit(self, head: str | None = None) -> ChainCheck:
        """Walk the audit log's chain and check it passes through ``head`` (as printed on a
        register or by status, kept on paper), else through the head written after the last change."""
        anchor = None
        if head is not None:
            anchor = AuditHead.parse(head)
            if anchor is None:
                raise UsageError(f"--head {head!r} is not an audit log head",
                                 hint="copy it as printed: the number of events, a colon and the digits, "
                                 "e.g. 5123:9f3a-b1c2-d4e5-f607-1829")  # fmt: skip
        with self._reading() as state:
            return state.verify_audit(anchor)

    def reanchor_audit(self) -> tuple[AuditHead | None, AuditHead]:
        """Anchor the audit log again after its head file was lost or came from another backup
        than the state: recorded as an event; refused while an event itself does not verify.
        Returns (the head recorded before, the new head)."""
        with self._changing() as state:
            return state.reanchor_audit()

    # The processor register

    def register(self, today: date | None = None) -> Register:
        from provisioner.register import build_register

        with self._reading() as state:
            return build_register(self.workspace, state, today or self._today())

    def approve(self, entry: str, by: str, *, role: str = "platform admin", today: date | None = None,
                next_review: date | None = None, note: str = "") -> Approval:  # fmt: skip
        """Record who approved the data a processor receives now, and when it is next reviewed."""
        from provisioner.register import approve

        with self._changing() as state:
            return approve(self.workspace, state, entry, by, role, today or self._today(), next_review, note)

    def check_register(self, today: date | None = None) -> tuple[Register, Verdict]:
        """The register and the check's verdict: the errors that fail it (the register is wrong or
        out of date), and the facts still to collect, which do not."""
        from provisioner.register import verdict

        register = self.register(today)
        return register, verdict(register)

    def register_gaps(self, today: date | None = None) -> list[Gap]:
        """Every open question of the register: each fact to ask a supplier for or for the school
        to record, with the key that fills it."""
        from provisioner.register.gaps import open_gaps

        return open_gaps(self.register(today))

    def set_register_value(self, entry: str, key: str, value: str, *, by: str | None = None) -> EntryEdited:
        """Write one fact into the workspace's file for a register entry, checked as the register
        loads it, and record who set it (``by``, else the computer account's name)."""
        from provisioner.jobs.create import login_name
        from provisioner.register import edit

        with self._changing() as state:
            return edit.set_value(self.workspace, state, entry, key, value, by or login_name())

    def register_items(self) -> dict[str, str]:
        """The facts of an entry that ``set_register_value`` writes as text, each with the heading
        the register shows it under (the pupil data sent is the platform's settings, not here)."""
        from provisioner.register import edit
        from provisioner.register.entries import ITEMS

        return {key: heading for key, heading in ITEMS if key in edit.TEXT_KEYS}

    def edit_register_entry(self, entry: str, *, open_editor: Callable[[Path], None], by: str | None = None
                            ) -> EntryEdited:  # fmt: skip
        """Open the workspace's file for a register entry (made from a template of its keys and
        text now) with ``open_editor``, which returns once the editor is closed; then check the
        file and record what changed. The workspace is not locked while the editor is open."""
        from provisioner.jobs.create import login_name
        from provisioner.register import edit

        path, before = edit.prepare_edit(self.workspace, entry)
        open_editor(path)
        with self._changing() as state:
            return edit.finish_edit(self.workspace, state, entry, before, by or login_name())

    def export_register(self, fmt: str, *, out: Path | None = None, today: date | None = None) -> tuple[Path, Register]:
        """Write the register as ``fmt`` (pdf, html, xlsx, md, notice, notice-docx; questions: a folder of
        letters to the suppliers), by default into reports/."""
        from provisioner import reports
        from provisioner.register import build_register

        with self._reading() as state:
            register = build_register(self.workspace, state, today or self._today())
            check = state.verify_audit() if fmt == "pdf" else None
            audit = reports.AuditCheck(check.entries, check.head.text, check.problem()) if check else None
        path = out or self.workspace.reports / reports.default_name(register, fmt)
        reports.write_register(register, fmt, path, audit)
        return path, register

    def supplier_letters(self, today: date | None = None) -> tuple[str, bytes] | None:
        """The letters to the suppliers (the ``questions`` export's folder) as one zip made in
        memory, for a browser: (its file name, its bytes); None when no supplier has a fact to
        ask for."""
        from provisioner import reports

        register = self.register(today)
        data = reports.questions_zip_bytes(register)
        return None if data is None else (f"{reports.default_name(register, 'questions')}.zip", data)

    def write_dpia(self, platform: str, *, fmt: str = "pdf", out: Path | None = None,
                   today: date | None = None) -> tuple[Path, Dpia]:  # fmt: skip
        """Write a draft DPIA for one platform of the register (pdf or docx), by default into
        reports/: what the tool knows filled in, the school's judgements marked "To decide"."""
        from provisioner import reports

        content = reports.dpia_draft(self.register(today), platform)
        path = out or self.workspace.reports / reports.dpia_name(content, fmt)
        reports.write_dpia(content, fmt, path)
        return path, content

    # A parent's requests

    def pupil_report(self, pupil: str, today: date | None = None) -> dict:
        """What every processor holds about one pupil (an access request). ``pupil``: a MIS id in
        any zero-padding, a UPN or a name (``requests.find_pupil``)."""
        from provisioner.jobs import requests

        with self._reading() as state:
            return requests.access_report(self.workspace, state, pupil, today or self._today())

    def write_pupil_report_pdf(self, report: dict, path: Path) -> None:
        files.atomic_write_bytes(path, self.pupil_report_pdf(report))

    def pupil_report_pdf(self, report: dict) -> bytes:
        """The access request's answer as a PDF, to hand over without keeping a copy."""
        from provisioner.reports import access_pdf_bytes

        return access_pdf_bytes(report)

    def write_erasure_letter(self, result: ErasureResult, path: Path) -> None:
        """The letter to the parent saying what the erasure did on each platform (it names the child)."""
        files.atomic_write_bytes(path, self.erasure_letter_pdf(result))

    def erasure_request(self, pupil: str, today: date | None = None) -> ErasureRequest:
        """What an erasure of this pupil would be asked (which child, what each platform does),
        without erasing: the question a front end shows on one page and answers on the next."""
        asked: list[ErasureRequest] = []

        def look_only(request: ErasureRequest) -> bool:
            asked.append(request)
            return False

        try:
            self.erase_pupil(pupil, confirm=look_only, today=today)
        except Aborted:
            if asked:
                return asked[0]
            raise
        raise AssertionError("an erasure went ahead without a yes")

    def erase_pupil(self, pupil: str, *, confirm: Confirm, today: date | None = None) -> ErasureResult:
        """Erase one pupil from every platform at once (an erasure request). ``confirm`` is shown
        an ``ErasureRequest`` naming the child; a front end asks for the name or id typed back
        and checks it with ``ErasureRequest.confirmed_by``."""
        from provisioner.jobs import requests

        with self._changing() as state:
            return requests.erase(self.workspace, state, pupil, today or self._today(), confirm)

    def erasure_letter_pdf(self, result: ErasureResult) -> bytes:
        """The erasure letter as a PDF, to hand over without keeping a copy."""
        from provisioner.reports import erasure_letter_pdf_bytes

        return erasure_letter_pdf_bytes(result.as_dict())

    def allow_pupil(self, pupil: str) -> AllowResult:
        """Lift an erasure request; says who it was for and whether there was one."""
        from provisioner.jobs import requests

        with self._changing() as state:
            return requests.allow(state, pupil)
