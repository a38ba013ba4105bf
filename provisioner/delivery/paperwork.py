"""What the admin is handed: login slips for new passwords, deletion lists for accounts to
delete by hand, and, for a platform that takes whole uploads, the next upload without the
leavers (which only marks them inactive there: their deletion is a deletion list of its own).

Login slips come in the school's ``[slips] style``. Per platform, each batch's slips sit with its
file. Combined (the default), one card per child covers every file platform of the apply:
``outbox/login-slips-<batch>.pdf`` and ``.xlsx`` (a trust's batch: a folder
``outbox/login-slips-<batch>/`` of PDFs of whole classes, see ``card_batches.CardsToDraw``),
drawn once per apply, not once per platform. An apply draws them while it writes its files (``early_cards``):
it makes every file platform's first passwords before it records anything, keeps them in memory
(the state holds no password), and hands them, the plan's usernames and the roster's names and
classes, as plain data, to a worker on the other core, which makes and draws a trust's cards while
the files are written (a school's, too few to pay for starting one, are made in the apply from
the same data and drawn once the files are); once every file is whole and marked written, the
cards are written, the xlsx last. Where a file did not take exactly those passwords (it was there
already, a row had none made, a platform failed), the cards are drawn from the files themselves
(``print_cards``, each read back with ``passwords_in``), so a card never shows a password that
is in no file. That read-back is also the crash recovery: an apply killed after a file was
written but before its cards owes them, and the next apply draws the cards of every
batch of an interrupted or failed run whose cards are missing or older than its files
(``cards_owed``) from those files, so no password in a written file is left on no card.

Microsoft 365 through Graph keeps its own slips: its passwords are set on the platform as they
are made and are in no file, so the combined cards could not be drawn from them. Nor could they
be drawn again: the state records each of its slip files with the outcomes it shows, as owed to
the admin until an apply's answer names it. An apply killed after recording its accounts, before
it answered, leaves slips nobody was told of; the next apply names them (``slips_not_named``),
and so do ``status`` and the home page until then.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import collector, files, passwords
from provisioner.connector import Connector
from provisioner.delivery.base import IssuedBatch, Job, UnnamedSlips, crashpoint
from provisioner.models import Pupil
from provisioner.planning.actions import CREATE, ERASED
from provisioner.settings import COMBINED
from provisioner.state import Batch, BatchKind, BatchStatus, State, now
from provisioner.workspace import Workspace

# The slips', cards' and checklists' writers (PDF pages, fonts, xlsx) are imported where paper is
# written: every command builds the connectors, whose strategies import this module, and most
# (status, plan, audit verify) print nothing.
if TYPE_CHECKING:
    from provisioner.card_batches import CardFacts, CardsToDraw, CardWorker
    from provisioner.planning.cleanup import Step
    from provisioner.planning.provisioning import Plan
    from provisioner.slips import Slip


def print_slips(job: Job, connector: Connector, batch_id: str, slips: list[Slip], *,
                keep_earlier: bool = False) -> list[Path]:  # fmt: skip
    """Write a batch's login slips (PDF and xlsx) next to its files; none when no password is new.

    ``keep_earlier``: the passwords were set on the platform as they were made, so slips an
    earlier run of the same batch wrote hold passwords that are in force and nowhere else: this
    run's slips get names of their own (``-2``, ``-3``...), never the earlier ones'. (A file
    platform's slips are rewritten with the file they match.)"""
    if not slips:
        return []
    folder = files.make_private_dir(job.workspace.outbox / connector.id)
    named = batch_id
    if keep_earlier:
        part = 1
        while any((folder / connector.slips_file_name(named, suffix)).exists() for suffix in (".pdf", ".xlsx")):
            part += 1
            named = f"{batch_id}-{part}"
    paths = [folder / connector.slips_file_name(named, suffix) for suffix in (".pdf", ".xlsx")]
    from provisioner.slips import write_slips

    write_slips(*paths, job.workspace.settings.school.name, slips)
    return paths


def slips_not_named(workspace: Workspace, state: State) -> list[UnnamedSlips]:
    """The login slips an apply wrote that no apply's answer has named yet, per batch, oldest
    first: those still in the outbox (once the admin removed them they are handed out)."""
    found: dict[tuple[str, str], list[Path]] = {}
    for slip in state.slips_not_named():
        path = workspace.root / slip.file
        if path.exists():
            found.setdefault((slip.platform, slip.batch_id), []).append(path)
    return [UnnamedSlips(platform, batch_id, paths) for (platform, batch_id), paths in found.items()]


def cards_paths(job: Job, batch_id: str) -> list[Path]:
    return [job.workspace.outbox / f"login-slips-{batch_id}{suffix}" for suffix in (".pdf", ".xlsx")]


def slip_files(workspace: Workspace, batch_id: str, connectors: Iterable[Connector]) -> list[Path]:
    """The files of a batch's login slips still in the outbox: each platform's own (PDF and
    xlsx, and those a later run of the same batch wrote beside them, ``-2``, ``-3``...: see
    ``print_slips``) and the combined cards (PDF, or a trust's folder of parts, and xlsx). Never
    an import file or a deletion list: only the names the slips are written under."""
    found = []
    for connector in connectors:
        folder = workspace.outbox / connector.id
        for suffix in (".pdf", ".xlsx"):
            found += [folder / connector.slips_file_name(named, suffix)
                      for named in (batch_id, *later_runs(folder, connector, batch_id, suffix))]  # fmt: skip
    cards = [workspace.outbox / f"login-slips-{batch_id}{suffix}" for suffix in (".pdf", ".xlsx")]
    found += [*cards, cards[0].with_suffix("")]  # a trust's cards: a folder named as the PDF
    return [path for path in found if path.exists()]


def later_runs(folder: Path, connector: Connector, batch_id: str, suffix: str) -> list[str]:
    """The names (``<batch>-2``, ``<batch>-3``...) under which later runs of a batch wrote its
    slips in ``folder``, in order."""
    stem = connector.slips_file_name(batch_id, suffix).removesuffix(suffix)
    numbers = []
    if folder.is_dir():
        for path in folder.glob(f"{stem}-*{suffix}"):
            number = path.name.removeprefix(f"{stem}-").removesuffix(suffix)
            if number.isdigit():
                numbers.append(int(number))
    return [f"{batch_id}-{number}" for number in sorted(numbers)]


def print_cards(job: Job, batch_ids: Iterable[str]) -> dict[tuple[str, str], list[Path]]:
    """Draw the combined cards of each batch from every import file of it: (batch id, platform)
    -> the cards' paths, for each platform whose file holds a new password. Nothing with
    per-platform slips."""
    from provisioner.card_batches import WORKERS_FROM, CardsToDraw, card_workers

    wanted = set(batch_ids)
    if job.workspace.settings.slips.style != COMBINED or not wanted:
        return {}
    issued = [b for b in job.state.batches() if b.id in wanted and b.kind is BatchKind.IMPORT]
    written = {}
    for batch_id in sorted(wanted):
        # A trust's cards are hundreds of thousands of objects that live until they are drawn
        # (see collector.py): reading its files back spent about two fifths of its time
        # rescanning them.
        with collector.paused(), ExitStack() as workers_started:
            slips, workers, started, names = {}, None, False, {}
            for batch in (b for b in issued if b.id == batch_id):
                slips[batch.platform] = slips_in_file(job, batch, names)
                # One file alone with that many children makes the parts the workers draw:
                # they start now, while the other files are read.
                if not started and len(slips[batch.platform]) > WORKERS_FROM:
                    workers, started = workers_started.enter_context(card_workers()), True
            if any(slips.values()):
                files.make_private_dir(job.workspace.outbox)
                cards = CardsToDraw(job.workspace.settings.school.name, [s for some in slips.values() for s in some])
                platforms = [platform for platform, some in slips.items() if some]
                del slips
                if workers is None and cards.worth_workers:
                    workers = workers_started.enter_context(card_workers())
                cards.draw(workers)
                paths = cards.write(*cards_paths(job, batch_id))
                written.update({(batch_id, platform): paths for platform in platforms})
    return written


class EarlyCards:
    """The combined cards of an apply's own batch, drawn while its files are written.

    A card shows the passwords each platform's file holds. The first passwords of every file
    platform's rows are made before anything is recorded (``first_passwords``), kept in the
    ``Job`` (never in the state or a log), and what the cards show of them, the plan's usernames
    and the roster's names gathered as plain data (``card_batches.CardFacts``: a few lists a platform,
    and once a pupil their name and class). A trust's is handed to a worker on the other core,
    which makes the slips, the cards and their parts and draws them in memory
    (``card_batches.CardsDrawnAway``), while this process records the intents and writes the files
    (``FileDelivery.resume`` writes each row's pre-made password into its file); a school's
    cards are made here from the same data (``card_batches.slips_of``) and drawn as they are written.
    Once every file is whole and marked written, ``write`` writes the drawn cards, the xlsx last;
    nothing of them reaches the disk before.

    Where a file did not take exactly the passwords drawn (it existed already, a row had none
    made), ``write`` writes nothing and says so, and the apply draws the cards from the files
    (``print_cards``), as it does for a batch finished after a crash. Where a platform failed,
    ``drop`` stops the drawing, and the apply draws the cards of the files it wrote from them."""

    def __init__(self, facts: CardFacts, children: int, platforms: list[str], made: set[str]):
        self.facts: CardFacts | None = facts
        self.children = children  # how many cards
        self.platforms = platforms  # those whose files hold new passwords: each on the cards
        self.made = made  # those whose first passwords were made up front
        self.cards: CardsToDraw | None = None

    @property
    def for_a_worker(self) -> bool:
        """Whether the cards are a trust's, with parts enough to pay for starting a worker."""
        from provisioner import card_batches

        return self.children > max(card_batches.TRUST_CHILDREN, card_batches.WORKERS_FROM)

    def draw(self, school: str, workers: Sequence[CardWorker] | None) -> None:
        """Hand the cards to the worker to gather and draw, or gather them here (drawn as written)."""
        from provisioner.card_batches import CardsDrawnAway, CardsToDraw, slips_of

        facts, self.facts = self.facts, None
        if workers:
            self.cards = CardsDrawnAway(school, facts, workers[0])
            return
        with collector.paused():  # the slips live until they are packed (see collector.py)
            self.cards = CardsToDraw(school, slips_of(facts))

    def write(self, job: Job) -> dict[tuple[str, str], list[Path]] | None:
        """The cards written, as ``print_cards`` answers; None where a file holds other passwords
        than those drawn (nothing is written: the caller draws them from the files)."""
        if job.first_passwords_kept != self.made or job.first_passwords:
            return None
        files.make_private_dir(job.workspace.outbox)
        paths = self.cards.write(*cards_paths(job, job.batch_id))
        return {(job.batch_id, platform): paths for platform in self.platforms}

    def drop(self) -> None:
        """The apply failed: what is not yet drawn is not drawn (the files' cards are drawn from them)."""
        if self.cards is not None:
            self.cards.cancel()


@contextmanager
def early_cards(job: Job, connectors: Sequence[Connector], plan: Plan) -> Iterator[EarlyCards | None]:
    """Where the school prints combined cards: the apply's first passwords made (into
    ``job.first_passwords``) and its cards handed to a worker to gather and draw while the files
    are written (``EarlyCards``); None where there are none to draw, or some file platform's
    passwords or pupils cannot be known before its file is written (its cards are then drawn
    from the files). The workers, and their memory with every password, end with the block."""
    from provisioner.card_batches import card_workers

    if job.workspace.settings.slips.style != COMBINED:
        yield None
        return
    early = gather_early(job, connectors, plan)
    if early is None:
        job.first_passwords = {}  # each file's made as it is written, as after a crash
        yield None
        return
    with card_workers(EARLY_WORKERS) if early.for_a_worker else nullcontext(None) as workers:
        early.draw(job.workspace.settings.school.name, workers)
        yield early


def gather_early(job: Job, connectors: Sequence[Connector], plan: Plan) -> EarlyCards | None:
    """The first passwords made and what the cards show of them gathered (``early_cards``): for
    each platform, its rows' pupils, usernames as the pupils sign in and passwords; once for each
    pupil, their key, name and class as ``slip_maker`` gives them."""
    from provisioner.card_batches import CardFacts, texts_packed

    made = first_passwords(connectors, plan)
    if not made:
        return None
    job.first_passwords = made
    domain = job.workspace.settings.school.domain
    by_id = {connector.id: connector for connector in connectors}
    keys = sorted(set().union(*made.values()))
    pupils = list(map(job.pupil, keys))
    if None in pupils:  # a pupil the roster does not hold: named from the state's record once it is made
        return None
    number = {key: n for n, key in enumerate(keys)}
    rows, platforms, carded = [], [], set()
    for platform, first in made.items():  # in the connectors' order, as the files' batches are read back
        connector = by_id[platform]
        made_for, passwords, ends = first.packed()
        username_of = {c.pupil_key: c.username for c in plan.platforms[platform].to_send}
        sign_in_name = connector.sign_in_name
        usernames = [sign_in_name(username, domain) if username else ""
                     for username in map(username_of.__getitem__, made_for)]  # fmt: skip
        del username_of
        pupils_of = array("L", map(number.__getitem__, made_for))
        rows.append((connector.name, connector.effective_sign_in_url, connector.slip_school_code, pupils_of,
                     texts_packed(usernames), (passwords, ends)))  # fmt: skip
        if any(usernames):
            platforms.append(platform)
            carded.update(n for n, username in zip(pupils_of, usernames) if username)
    if not carded:
        return None
    facts = CardFacts(tuple(map(texts_packed, (keys, [p.display_name for p in pupils],
                                               [p.class_name or "" for p in pupils], [p.forename for p in pupils],
                                               [p.surname for p in pupils]))), rows)  # fmt: skip
    return EarlyCards(facts, len(carded), platforms, set(made))


# Processes drawing an apply's cards while its files are written: this process records and
# writes them on one core, so one worker has the other core to itself.
EARLY_WORKERS = 1


def first_passwords(connectors: Sequence[Connector], plan: Plan) -> dict[str, FirstPasswords] | None:
    """Platform -> pupil key -> the first password its import file will hold, for every file
    platform of the plan whose file holds passwords, made by the rule ``FileDelivery.resume``
    follows (a create, or an update changing the password; the platform's own password rule).
    None where a platform's passwords cannot be known before its file is written (a file
    delivery other than an import file, or one listing every pupil)."""
    from provisioner.delivery.file_import import FileDelivery, FileImport

    made = {}
    for connector in connectors:
        delivery, platform_plan = connector.delivery, plan.platforms[connector.id]
        if not isinstance(delivery, FileDelivery) or not connector.issues_passwords or not platform_plan.to_send:
            continue
        if not isinstance(delivery, FileImport) or delivery.full_set:
            return None
        if not {"username", "password"} <= {source for _, source in delivery.file_columns}:
            continue  # the file holds no passwords: no card shows any
        fresh = passwords.supply(connector.effective_password_rule)
        made[connector.id] = FirstPasswords((c.pupil_key, next(fresh)) for c in platform_plan.to_send
                                            if c.action == CREATE or "password" in c.changed)  # fmt: skip
    return made


class FirstPasswords(Mapping[str, str]):
    """One platform's first passwords by pupil key, held compactly until its file is written: the
    keys in order (the plan's own strings) and the passwords as one text, a pupil's found by
    bisection. A trust's quarter of a million as a dict of strings each were 20 MB of the
    apply's memory at its peak; held so, about 5."""

    __slots__ = ("_keys", "_text", "_ends")

    def __init__(self, made: Iterable[tuple[str, str]]):
        pairs = sorted(made)
        self._keys = [key for key, _ in pairs]
        self._text = "".join(password for _, password in pairs)
        self._ends = array("L", itertools.accumulate(len(password) for _, password in pairs))

    def __getitem__(self, key: str) -> str:
        at = bisect_left(self._keys, key)
        if at == len(self._keys) or self._keys[at] != key:
            raise KeyError(key)
        return self._text[self._ends[at - 1] if at else 0:self._ends[at]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def packed(self) -> tuple[list[str], str, array]:
        """The keys in order, the passwords as one text, and where each password ends in it."""
        return self._keys, self._text, self._ends

    def pairs(self) -> dict[str, str]:
        """Every pupil's, as a dict (made in one pass, for one platform's cards at a time)."""
        starts = itertools.chain((0,), self._ends)
        return {key: self._text[start:end] for key, start, end in zip(self._keys, starts, self._ends)}


def cards_owed(job: Job) -> set[str]:
    """Batches of an apply that was killed or failed before it drew its cards: an import file of
    theirs awaits upload, and their cards are missing or older than it."""
    if job.workspace.settings.slips.style != COMBINED:
        return set()
    unfinished = job.state.unfinished_runs()
    owed = set()
    for batch in job.state.batches(status=BatchStatus.ISSUED):
        if batch.kind is not BatchKind.IMPORT or batch.run_id not in unfinished or not batch.file:
            continue
        file = job.workspace.root / batch.file
        cards = cards_paths(job, batch.id)[1]  # the xlsx, written after the PDF or a trust's folder of PDFs
        if file.exists() and (not cards.exists() or cards.stat().st_mtime < file.stat().st_mtime):
            owed.add(batch.id)
    return owed


def slips_in_file(job: Job, batch: Batch, names: dict[str, str] | None = None) -> list[Slip]:
    """The slips of a batch's import file as written: each of its pupils whose password is in it.
    ``names``: each pupil's name as the slips show it, by key, shared by the files of one batch
    (a trust's child is on five of them: their name is made once)."""
    connector = job.workspace.connector(batch.platform)
    if not connector.issues_passwords or not connector.delivery.can_resume(batch):
        return []  # no passwords, or the file was written another way than the settings now say
    written = connector.delivery.passwords_in(job.workspace.root / batch.file)
    if not written:
        return []
    domain, sign_in_name = job.workspace.settings.school.domain, connector.sign_in_name

    def password(key: str, username: str) -> str | None:  # the file may spell the username as the pupil signs in
        return written.get(username) or written.get(sign_in_name(username, domain))

    return batch_slips(job, connector, job.state.usernames_in_batch(batch.platform, batch.id), password, names,
                       gone=True)  # fmt: skip


def batch_slips(job: Job, connector: Connector, usernames: Mapping[str, str],
                password: Callable[[str, str], str | None], names: dict[str, str] | None = None,
                gone: bool = False) -> list[Slip] | None:  # fmt: skip
    """The slips of one platform's batch: each pupil (key -> username) with a username and a
    password (``password(key, username)``), in the order of their keys. ``names``: as
    ``slip_maker``'s. A pupil who left the roster between a crash and this resume is named from
    what was recorded where ``gone``; else there is no such pupil, or the answer is None."""
    domain = job.workspace.settings.school.domain
    keys = sorted(usernames)
    pupils = list(map(job.pupil, keys))  # each looked up once, for both uses below
    missing = [key for key, pupil in zip(keys, pupils) if pupil is None]
    if missing and not gone:
        return None
    recorded = job.state.accounts_of(connector.id, missing) if missing else {}
    slip = slip_maker(connector, domain, names)
    slips = []
    for key, pupil in zip(keys, pupils):  # a trust's file holds tens of thousands: each slip's shared parts made once
        username = usernames[key]
        secret = password(key, username)
        if username and secret:
            slips.append(slip(username, secret, pupil, key, recorded[key].sent if key in recorded else {}))
    return slips


def login_slip(connector: Connector, values: Mapping[str, str], pupil: Pupil | None, school_domain: str,
               key: str = "") -> Slip:  # fmt: skip
    """One pupil's slip. The name and class come from the roster: slips stay in school, so they
    may show what the platform does not receive. Where to sign in and the school code come from
    the platform's settings, since some platforms' pupils cannot find their school without them."""
    return slip_maker(connector, school_domain)(values["username"], values["password"], pupil, key, values)


def slip_maker(connector: Connector, school_domain: str, names: dict[str, str] | None = None) -> Callable[..., Slip]:
    """``login_slip`` for one platform's slips, given (username, password, pupil, key, the values
    recorded for a pupil the roster no longer has): the platform's name, where to sign in and the
    school code are the same on each of them, so they are looked up once. ``names``: the roster
    pupils' names made so far for other slips (``slips_in_file``), each kept once, with its key."""
    from provisioner.slips import Slip

    platform, url, code = connector.name, connector.effective_sign_in_url, connector.slip_school_code
    sign_in_name = connector.sign_in_name
    names = {} if names is None else names

    def slip(username: str, password: str, pupil: Pupil | None, key: str, recorded: Mapping[str, str]) -> Slip:
        if pupil is not None:
            key = pupil.key  # the same text, the roster's own
            name = names.get(key)
            if name is None:
                name = names[key] = pupil.display_name
            return Slip(name, pupil.class_name or "", platform, sign_in_name(username, school_domain),
                        password, url, code, pupil.forename, pupil.surname, key)  # fmt: skip
        # Left the roster between a crash and this resume: what was recorded will do.
        forename, surname = recorded.get("forename", ""), recorded.get("surname", "")
        name = " ".join(v for v in (forename, surname) if v) or username
        return Slip(name, recorded.get("class_name", ""), platform, sign_in_name(username, school_domain), password,
                    url, code, forename, surname, key)  # fmt: skip

    return slip


def issue_deletion_list(job: Job, connector: Connector, steps: Sequence[Step], *, hold: bool = False,
                        at_once: bool = False, sign_in_names: bool = False, title: str = "",
                        instruction: str = "") -> IssuedBatch:  # fmt: skip
    """A checklist asking the admin to delete these accounts, to print and tick. ``hold``: the
    admin sends them to the platform's own hold (TTRS's Leavers group), so confirming it records
    them held until the platform deletes them; ``at_once``: the list asks for deletion now
    whatever the school's usual choice (an erasure); ``sign_in_names``: the accounts are listed by
    the name they sign in with (Microsoft Entra's user@domain), which is how the platform finds them.
    ``title`` and ``instruction`` replace the usual ones where the admin is asked something else
    first (to check that a broker's platform removed them)."""
    state, workspace, platform = job.state, job.workspace, connector.id
    batch_id = state.next_batch_id(job.today.isoformat())
    folder = files.make_private_dir(workspace.outbox / platform)
    due = job.today + timedelta(days=workspace.settings.leavers.confirm_within_days)
    keys = [step.pupil_key for step in steps]
    # Each account's username and values as the plan read them (``Step.sent``); those of steps
    # made otherwise (an upload confirmed) are read here.
    accounts = {s.pupil_key: (s.username, s.sent) for s in steps if s.sent is not None}
    unread = [key for key in keys if key not in accounts]
    if unread:
        accounts.update({key: (a.username, a.sent) for key, a in state.accounts_of(platform, unread).items()})
    school = workspace.settings.school

    def username(held: str) -> str:
        if not held:
            return "(the platform's own: find the pupil by name and class)"
        return connector.sign_in_name(held, school.domain) if sign_in_names else held

    # A platform that reads the MIS holds names the tool never copied: a leaver's name as the
    # roster gave it (or last recorded) finds the pupil; a pupil being erased is named as the
    # state last recorded them (their identity), with the MIS id, so the admin can find them on
    # the platform and in the MIS. The identities are read only for the rows that need them: a
    # trust's leavers are named by the values sent or the plan.
    def given(step: Step) -> tuple[str, str]:
        """The name and class the values sent or the plan give (either may be empty)."""
        sent, leaver = accounts[step.pupil_key][1], _leaver(step)
        return _name(sent) or leaver.name, sent.get("class_name") or leaver.class_name

    named = {s.pupil_key: given(s) for s in steps}
    unnamed = [key for key, (name, class_name) in named.items() if not (name and class_name)]
    identities = state.identities_of(unnamed) if unnamed else {}

    def row(step: Step) -> tuple[str, str, str]:
        held, known = accounts[step.pupil_key][0], identities.get(step.pupil_key)
        name, class_name = named[step.pupil_key]
        if not name:
            recorded = " ".join(v for v in (known.forename, known.surname) if v) if known else ""
            kind, _, key_id = step.pupil_key.partition(":")
            record = f"MIS record {known.shown_id if known and known.shown_id and kind == 'mis' else key_id}"
            name = f"{recorded} ({record})" if recorded else record
        return username(held), name, class_name or (known.class_name if known else "") or ""

    rows = sorted(row(s) for s in steps)
    written = [folder / f"{platform}-deletions-{batch_id}{suffix}" for suffix in (".pdf", ".xlsx")]
    from provisioner.checklist import start_checklist

    # Drawn on the other core in a trust's cleanup (``job.checklists``) while the list is
    # recorded here; the record commits only once both files are written, as it always has.
    checklist = start_checklist(
        job.checklists,
        *written,
        title=f"{title or deletion_list_title(connector, steps, hold)} (batch {batch_id})",
        lines=[f"{school.name}. {instruction or connector.deletion_instruction(at_once=at_once)}, tick it, then run: "
               f"provisioner confirm {platform} deleted --batch {batch_id}", f"Do this by {due.isoformat()}."],
        header=["Username", "Name", "Class"],
        rows=rows,
    )  # fmt: skip
    stamp = now()
    batch = Batch(batch_id, platform, job.run_id, written[0].relative_to(workspace.root).as_posix(),
                  BatchStatus.ISSUED, stamp, stamp, BatchKind.DELETION, due.isoformat())  # fmt: skip
    with state.transaction():
        state.issue_deletion_list(batch, {s.pupil_key: s.reason for s in steps}, action="hold" if hold else "delete")
        checklist.written()
        crashpoint("deletion-list")  # written, its record not committed: the next run writes it again under the same id
    return IssuedBatch(platform, batch_id, written[0], len(steps), slips=written)


def deletion_list_title(connector: Connector, steps: Sequence[Step], hold: bool) -> str:
    """What a deletion list is, as its title says: an erasure request's accounts, leavers' accounts
    (to delete, or to move to the platform's own hold), or both."""
    erased = sum(1 for s in steps if s.reason == ERASED)
    if erased == len(steps):
        return f"{connector.name}: accounts to delete for an erasure request"
    if erased:
        return f"{connector.name}: leavers' accounts, and accounts under an erasure request, to delete"
    if hold:
        return f"{connector.name}: leavers' accounts to move to {connector.held_where()}"
    return f"{connector.name}: leavers' accounts to delete"


def issue_leaver_upload(job: Job, connector: Connector, steps: Sequence[Step]) -> IssuedBatch:
    """For a platform that takes whole uploads (School Data Sync): the next upload without these
    leavers, which marks them inactive there once uploaded. It deletes nothing: confirming it
    leaves the accounts disabled, and their deletion is asked for separately."""
    state, workspace, platform = job.state, job.workspace, connector.id
    batch_id = state.next_batch_id(job.today.isoformat())
    folder = files.make_private_dir(workspace.outbox / platform)
    due = job.today + timedelta(days=workspace.settings.leavers.confirm_within_days)
    path = folder / f"{platform}-leavers-{batch_id}"
    leaving = {s.pupil_key for s in steps}
    connector.delivery.write(path, connector.delivery.everyone_else(job, leaving), workspace.settings.school.name)
    stamp = now()
    batch = Batch(batch_id, platform, job.run_id, path.relative_to(workspace.root).as_posix(), BatchStatus.ISSUED,
                  stamp, stamp, BatchKind.LEAVER_UPLOAD, due.isoformat())  # fmt: skip
    state.issue_deletion_list(batch, {s.pupil_key: s.reason for s in steps}, action="disable")
    return IssuedBatch(platform, batch_id, path, len(steps), leaver_upload=True)


def _leaver(step: Step) -> Step:
    """The step as a checklist may name it: an erasure's without the name and class."""
    return replace(step, name="", class_name="") if step.reason == ERASED else step


def _name(sent: Mapping[str, str]) -> str:
    """A name for the checklist from what the platform was sent (so it matches what it shows)."""
    if sent.get("forename") or sent.get("surname"):
        return " ".join(v for v in (sent.get("forename"), sent.get("surname")) if v)
    return sent.get("full_name", "")
