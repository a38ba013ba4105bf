"""Files the admin uploads: the tool writes the platform's import file and login slips to the
outbox; the admin uploads the file and confirms it. Leavers go on a deletion list.

``FileDelivery`` is the flow, whatever the files are; ``FileImport`` is the usual file, one CSV
in the platform's column layout; ``PasteSheet`` is the same columns as an xlsx, for a platform
whose admin copies rows from a spreadsheet into a form (Bug Club). (School Data Sync's folder of files is another
``FileDelivery``, kept with its platform in connectors/microsoft_365/sds.py.)

Crash safety: the intent (every row, every username) is recorded before any file is written,
and the rows are marked sent in one transaction after the file is whole. First passwords go only
into the file and the slips. Per-platform slips are drawn when the file is written, after it (so
no slip shows a password no file holds) and before the batch is marked written (so a file whose
slips were not drawn is finished again). Combined cards (paperwork.py) are drawn while the files
are written: an apply makes its first passwords up front, in memory only (``Job.first_passwords``),
and ``resume`` writes each row's into this apply's new file; the cards reach the disk only once
every file is whole, and where a file did not take exactly those passwords they are drawn from
the files instead. After a crash before the commit the passwords are made afresh and the files
rewritten, and the cards drawn from the files by the next apply, so the slips always match the
file the admin uploads (a file written whole before the crash keeps its passwords: it may be
uploaded).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import files, passwords
from provisioner.connector import ImportFileConnector, PupilView
from provisioner.connector.settings import CSV_KEYS, FILE_KEYS
from provisioner.delivery.base import (
    ApplyResult, CleanupResult, Delivery, IssuedBatch, Job, crashpoint, record_rows,
)  # fmt: skip
from provisioner.delivery.mis_sync import MisSync
from provisioner.delivery.paperwork import issue_deletion_list, login_slip, print_slips
from provisioner.errors import ProvisionerError
from provisioner.planning.actions import CREATE, DELETE, ERASED, RESTORE
from provisioner.settings import COMBINED, toml_string
from provisioner.state import AccountStatus, Batch, BatchKind, BatchStatus, PendingSend, decode_sent

if TYPE_CHECKING:
    from provisioner.planning.cleanup import PlatformCleanup
    from provisioner.planning.provisioning import PlatformPlan


class FileDelivery(Delivery):
    """Files the admin uploads. Subclasses say what the files are: ``file_name``, ``write`` and
    ``passwords_in`` (the passwords in a file written whole before a crash)."""

    kind = "file"
    erasure_effect = "put on a deletion list for you to carry out"

    def accounts_made_by(self) -> str:
        return "this tool (files uploaded by the school's admin)"

    def file_name(self, batch_id: str) -> str:
        raise NotImplementedError

    def write(self, path: Path, pupils: list[PupilView], school_name: str) -> None:
        """Write one batch's files at ``path``, whole or not at all (passwords are in the views)."""
        raise NotImplementedError

    def passwords_in(self, path: Path) -> dict[str, str]:
        """Username -> password from files this tool wrote whole at ``path`` (empty if none)."""
        raise NotImplementedError

    def can_resume(self, batch: Batch) -> bool:
        return batch.kind is BatchKind.IMPORT

    # Carrying out a plan

    def deliver(self, job: Job, plan: PlatformPlan, result: ApplyResult) -> None:
        if not plan.to_send:
            return
        file = (Path("outbox") / plan.platform / self.file_name(job.batch_id)).as_posix()
        batch, sends = record_rows(job, plan, BatchKind.IMPORT, file)
        result.batches.append(self.resume(job, batch, sends))

    def resume(self, job: Job, batch: Batch, sends: list[PendingSend] | None = None) -> IssuedBatch:
        """Write the batch's files from its recorded rows, then mark every row sent, in one transaction.
        ``sends``: the rows as just recorded (``record_rows``); an interrupted batch's are read back."""
        connector, state = self.connector, job.state
        platform = connector.id
        sends = state.pending_sends(platform, batch.id) if sends is None else sends
        path = job.workspace.root / batch.file
        if not batch.file or job.workspace.outbox not in path.parents:
            raise ProvisionerError(f"batch {batch.id} of {connector.name} names no file in the outbox")
        school = job.workspace.settings.school
        issues = connector.issues_passwords
        # A file written whole before a crash may already be uploaded: keep its passwords.
        earlier = self.passwords_in(path) if issues else {}
        # This apply's first passwords where they were made up front for its cards (paperwork.py),
        # for a file not there before; the cards are drawn from the file if it takes any other.
        made = job.first_passwords.pop(platform, None) if batch.id == job.batch_id else None
        # Looked up as a dict while this file is written (one platform's, a few MB): by bisection
        # each row took twice as long, a quarter of a second more for a trust's five files.
        made = made.pairs() if made is not None and not path.exists() else None
        as_made = made is not None
        # Its own slips only where the school prints them per platform: combined cards are drawn
        # by the apply from its first passwords, or from the written files (paperwork.py).
        own_slips = job.workspace.settings.slips.style != COMBINED
        rows, slips, new_passwords = [], [], 0
        fresh = passwords.supply(connector.effective_password_rule) if issues else None
        # A row of declared fields only (nearly every one) is viewed as it is, not checked and copied again.
        declared = connector.declared
        for done, send in enumerate(sends, start=1):
            if issues:  # the password is a declared field (``issues_passwords``): one view with it
                new_password = send.action == CREATE or "password" in send.changed
                password = ""
                if new_password:
                    if earlier:  # the file may spell the username as the pupil signs in (IXL's name@code)
                        username = send.fields.get("username", "")
                        password = earlier.get(username) or earlier.get(connector.sign_in_name(username, school.domain))
                    elif made is not None:
                        password = made.get(send.pupil_key, "")
                        as_made = as_made and bool(password)
                    password = password or next(fresh)
                values = {**send.fields, "password": password}
                view = PupilView.of_declared(platform, values, declared) if values.keys() <= declared \
                    else connector.view(values)  # fmt: skip
                new_passwords += new_password
                if new_password and own_slips:
                    slips.append(login_slip(connector, dict(view), job.pupil(send.pupil_key), school.domain,
                                            send.pupil_key))  # fmt: skip
            else:
                view = connector.view(send.fields)
            rows.append(view)
            if job.progress and (done % 200 == 0 or done == len(sends)):
                job.progress(platform, done, len(sends))
        if self.full_set:
            rows += self.everyone_else(job, {send.pupil_key for send in sends}, batch.id)
        files.make_private_dir(path.parent)
        files.remove_stale_temporaries(path.parent)
        self.write(path, rows, school.name)
        del rows  # written: a trust's 50,000 views let go before their rows are marked sent
        crashpoint("between-documents")
        # Per-platform slips after the file, so none shows a password no file holds; killed
        # before them, the batch is still being written, and finishing it reads the file's
        # passwords back and draws the slips from them.
        slip_paths = print_slips(job, connector, batch.id, slips)
        crashpoint("written")
        state.mark_written(batch, sends, passwords=new_passwords)
        crashpoint("committed")
        if as_made and new_passwords == len(made):
            job.first_passwords_kept.add(platform)
        return IssuedBatch(platform, batch.id, path, len(sends), slips=slip_paths)

    def everyone_else(self, job: Job, leaving_out: set[str], batch_id: str | None = None) -> list[PupilView]:
        """For a full-set upload: every other pupil the platform holds, as last sent, so nobody
        looks like a leaver. A first password in an earlier upload not yet confirmed is carried,
        so uploading only the newest files still sets the password its slip shows."""
        connector, state, platform = self.connector, job.state, self.connector.id
        carried: dict[str, str] = {}
        if connector.issues_passwords:
            for earlier in state.batches(platform, status=BatchStatus.ISSUED):
                if earlier.kind is BatchKind.IMPORT and earlier.id != batch_id:
                    carried.update(self.passwords_in(job.workspace.root / earlier.file))
        rows = []
        # As the state holds them, decoded only for the active accounts of those staying: a
        # trust's leaver upload is every other pupil's values.
        for key, username, sent in state.active_values(platform):
            if key not in leaving_out:
                values = decode_sent(sent)
                if connector.issues_passwords:
                    values["password"] = carried.get(username, "")
                rows.append(connector.view(values))
        return rows

    def clean_up(self, job: Job, cleanup: PlatformCleanup, result: CleanupResult) -> int:
        """Returners are active again at once; accounts to delete go on a deletion list. Where
        the school sends leavers to the platform's own hold (TTRS's Leavers group), leavers go on
        a list saying so, and erasures on one that asks for deletion now."""
        done = self.restore(job, cleanup, result)
        deletes = cleanup.of(DELETE)
        for step in deletes:
            if step.was is AccountStatus.PLATFORM_HOLD:
                result.notes.append(f"{self.connector.name}: {step.username} has left use, but the account and its "
                                    f"data are still in {self.connector.held_where()}: delete it from there now (or "
                                    "ask the platform's support to), then confirm the deletion list")  # fmt: skip
        holds = self.connector.held_after_deletion(job.today) is not None
        at_once, kept = [], []
        for step in deletes:
            now = not holds or step.reason == ERASED or step.was is AccountStatus.PLATFORM_HOLD
            (at_once if now else kept).append(step)
        for steps, hold in ((kept, True), (at_once, False)):
            if steps:
                result.deletion_lists.append(issue_deletion_list(job, self.connector, steps, hold=hold,
                                                                 at_once=holds and not hold))  # fmt: skip
        if deletes:
            done["deletion_requested"] = len(deletes)
        result.done[self.connector.id] = dict(done)
        return 0

    def restore(self, job: Job, cleanup: PlatformCleanup, result: CleanupResult) -> Counter:
        """Returners are active again at once; the admin is told what only they can undo."""
        connector, done = self.connector, Counter()
        restores = cleanup.of(RESTORE)
        if restores:
            job.state.mark_restored(job.run_id, connector.id, {s.pupil_key: {"reason": s.reason} for s in restores})
            done[RESTORE] = len(restores)
        for step in restores:
            if step.was is AccountStatus.DELETION_REQUESTED:
                result.notes.append(f"{connector.name}: {step.username} is back; if their account is on a deletion "
                                    "list, leave it off")  # fmt: skip
            elif step.was is AccountStatus.PLATFORM_HOLD:
                result.notes.append(f"{connector.name}: {step.username} is back, and their account is still in "
                                    f"{connector.held_where()}: restore it there, so they keep their username and "
                                    "work (a new account is not made while the old one is held)")  # fmt: skip
        return done


class FileImport(FileDelivery):
    """The platform's import file: one CSV laid out as its ``columns`` say (or the school's
    ``columns`` setting), one row per pupil."""

    connector: ImportFileConnector

    @property
    def file_columns(self) -> tuple[tuple[str, str], ...]:
        """(header, source) of the import file: the school's layout if it set one, else the platform's."""
        connector = self.connector
        if connector.settings.columns is not None:
            return tuple(connector.settings.columns.items())
        enabled = {*connector.fields, *connector.settings.optional_fields}
        return tuple(
            (header, source)
            for header, source in connector.columns
            if all(name in enabled for name in connector.derived.get(source, (source,)))
        )

    @property
    def header(self) -> list[str]:
        return [header for header, _ in self.file_columns]

    def sent_fields(self) -> tuple[str, ...]:
        """Only the fields some column of the file is made from: a field the layout leaves out is not sent."""
        derived = self.connector.derived
        used = {name for _, source in self.file_columns for name in derived.get(source, (source,))}
        return tuple(name for name in self.connector.enabled_fields if name in used)

    def accounts_made_by(self) -> str:
        return "this tool (import file uploaded by the school's admin)"

    def through_broker(self, broker: str, fields: tuple[str, ...]) -> MisSync:
        """The platform fed by a data broker instead: no file, the broker's pupils recorded."""
        return MisSync(self.connector, broker, fields)

    def file_name(self, batch_id: str) -> str:
        return self.connector.import_file_name(batch_id)

    def import_row(self, pupil: PupilView) -> list[str]:
        """One row of the import file, in ``file_columns`` order, dates and year groups in the
        forms the platform's file settings say."""
        return next(self.import_rows([pupil]))

    def import_rows(self, pupils: list[PupilView]) -> Iterator[list[str]]:
        """``import_row`` of each pupil, the layout worked out once (not once a row), each row made
        as it is read: the file writer takes them a thousand at a time (``files.csv_bytes``), so a
        trust's file of 50,000 never holds every row's formatted values at once."""
        sources = [source for _, source in self.file_columns]
        formatted = self.connector.formatted_values_of(pupils)
        return ([values.get(source, "") for source in sources] for values in formatted)

    def write(self, path: Path, pupils: list[PupilView], school_name: str) -> None:
        """The file in the platform's encoding, delimiter and quoting (``ImportFileConnector.file_setting``)."""
        setting = self.connector.file_setting
        data = files.csv_bytes(self.header, self.import_rows(pupils), encoding=setting("encoding"),
                               delimiter=setting("delimiter"), quote_all=setting("quoting") == "all")  # fmt: skip
        files.atomic_write_bytes(path, data)

    def passwords_in(self, path: Path) -> dict[str, str]:
        if not self.may_hold_passwords(path):
            return {}
        # A file written before the delimiter changed does not read back as this header, so its
        # passwords are not trusted: the batch is written afresh, slips and all.
        return self.passwords_of(files.csv_rows(path.read_bytes(), delimiter=self.connector.file_setting("delimiter")))

    def may_hold_passwords(self, path: Path) -> bool:
        """The file is there, and this layout has a username and a password column to read."""
        sources = {source for _, source in self.file_columns}
        return path.is_file() and {"username", "password"} <= sources

    def passwords_of(self, rows: list[list[str]]) -> dict[str, str]:
        """Username -> password from a file's rows as read back, or none when its header is not
        this layout's (written with other columns: not trusted, written afresh)."""
        header, sources = zip(*self.file_columns)  # worked out once, not once a row
        user, secret, width = sources.index("username"), sources.index("password"), len(header)
        if not rows or rows[0] != list(header):
            return {}
        return {row[user]: row[secret] for row in rows[1:] if len(row) == width and row[secret]}

    def settings_template(self) -> list[str]:
        return self.file_template("import file", FILE_KEYS,
                                  "How the file is written (set any key here to change it; the README lists the values)")

    def file_template(self, what: str, keys: tuple[str, ...], how: str) -> list[str]:
        """The commented settings of the file: its columns, the keys that shape it, and the broker option."""
        note = "" if self.connector.verified else " (no public template was found: check against the one you download)"
        pairs = ", ".join(f"{toml_string(h)} = {toml_string(f)}" for h, f in self.file_columns)
        chosen = ", ".join(f"{name} = {toml_string(self.connector.file_setting(name))}" for name in keys)
        return [f"# The {what}'s columns in order{note}:", f"# columns = {{ {pairs} }}", f"# {how}: {chosen}",
                *self.broker_notes()]

    def broker_notes(self) -> list[str]:
        """The commented settings that hand the platform to a data broker instead."""
        return ["# If a data broker (Wonde, Groupcall Xporter on Demand) already feeds it from the MIS, this tool",
                "# must not make a second account: it then writes nothing and records what the broker sends",
                '# provisioning = "broker"',
                '# broker = "Wonde"',
                f"# broker_fields = [{', '.join(toml_string(f) for f in self.connector.broker_fields)}]"]


SHEET_KEYS = tuple(key for key in FILE_KEYS if key not in CSV_KEYS)  # what an xlsx still takes


class PasteSheet(FileImport):
    """The import file's columns as an xlsx the admin opens in Excel and copies rows from into the
    platform's form. Every cell is formatted as Text, so Excel shows a date of birth as 04/03/2018
    (not a date it may turn round by locale) and keeps a leading zero; a value that would start a
    formula is neutralised as in a CSV, since a copied cell loses Excel's quote prefix and could
    be pasted into another spreadsheet. The CSV settings (encoding, delimiter, quoting) do not
    apply; the date and year-group forms do.

    A connector that lets the school choose has a ``file_format`` setting; set to "csv", its file
    is named .csv and this writes the usual CSV (``FileImport``). The file's name decides, so a
    batch begun before the setting changed is finished as it was named. The choice is made here,
    not by the connector replacing its strategy, so whatever the connector does with its strategy
    (a broker feeding it) still holds."""

    SHEET_TITLE = "Pupils"

    @property
    def as_csv(self) -> bool:
        return getattr(self.connector.settings, "file_format", "xlsx") == "csv"

    def write(self, path: Path, pupils: list[PupilView], school_name: str) -> None:
        if path.suffix != ".xlsx":
            return super().write(path, pupils, school_name)
        from provisioner import xlsx  # loaded where a sheet is written or read (see paperwork.py)

        rows = ([files.neutralise(value) for value in row] for row in self.import_rows(pupils))
        sheet = xlsx.Sheet(self.SHEET_TITLE, [files.neutralise(h) for h in self.header], rows, as_text=True)
        # Streamed: a trust's sheet is thousands of rows, each cell styled as Text (see xlsx.py).
        files.atomic_write_bytes(path, xlsx.xlsx_bytes([sheet], streamed=True))

    def passwords_in(self, path: Path) -> dict[str, str]:
        if path.suffix != ".xlsx":
            return super().passwords_in(path)
        from provisioner import xlsx

        return self.passwords_of(xlsx.text_rows(path)) if self.may_hold_passwords(path) else {}

    def settings_template(self) -> list[str]:
        if self.as_csv:
            return super().settings_template()
        return self.file_template("sheet", SHEET_KEYS, "How dates and year groups are written (set any key here to change it)")
