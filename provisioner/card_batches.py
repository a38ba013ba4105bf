"""An apply's batch of login cards written: a school's as one PDF, a trust's split into files of
whole classes drawn in worker processes on the other core (``CardsToDraw``), and the xlsx of
every card's rows. In an apply the worker is handed plain data (``CardFacts``: a few lists a
platform, and a pupil's name and class once) while the files are written, makes the slips, the
cards and their parts itself (``CardsDrawnAway``) and keeps each file until the apply writes it.
What a card is and how it is drawn is cards.py's.
"""

from __future__ import annotations

import itertools
import os
import pickle
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from provisioner import collector, files
from provisioner.cards import Card, CardRow, cards_of, cards_pdf_bytes, printed_chars
from provisioner.pdfpages import face_glyphs
from provisioner.slips import FACES, NO_CLASS, XLSX_HEADER, Slip, metrics, slips_xlsx_bytes
from provisioner.workers import spawned_pool
from provisioner.xlsx import Sheet, xlsx_bytes

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future
    from multiprocessing.synchronize import Event



# A batch of more children than this (a trust's, not a school's) has its cards split into files of
# whole classes, up to PART_CHILDREN children each (a bigger class alone): each file opens and prints
# quickly. Not one file per class: each PDF embeds its own subset of the four fonts, which costs
# about 0.2 s a file whatever its size, so 1,700 classes would take minutes.
TRUST_CHILDREN = 600
PART_CHILDREN = 600
WORKERS = 2  # processes drawing the parts and making the xlsx
POOL_PARTS = 4  # fewer parts are drawn here: they take less time than starting the workers


def parts_of(groups: list[tuple[str, list[Card]]],
             part_children: int | None = None) -> list[list[tuple[str, list[Card]]]]:  # fmt: skip
    """Whole classes, in print order, gathered into parts of at most ``part_children``
    (PART_CHILDREN) children."""
    limit = PART_CHILDREN if part_children is None else part_children
    parts: list[list[tuple[str, list[Card]]]] = []
    children = 0
    for group in groups:
        if parts and children + len(group[1]) <= limit:
            parts[-1].append(group)
            children += len(group[1])
        else:
            parts.append([group])
            children = len(group[1])
    return parts


def part_file_name(number: int, part: list[tuple[str, list[Card]]], digits: int = 2) -> str:
    """"03 Class 4B to 5C.pdf": numbered in print order, named by its first and last class (only
    letters, digits, spaces, dots, hyphens and underscores, so any file system takes it)."""
    def shown(name: str) -> str:
        return re.sub(r"[^\w .-]", "-", unicodedata.normalize("NFC", name), flags=re.ASCII).strip(" .") or "-"

    first, last = part[0][0], part[-1][0]
    classes = shown(first) if first == last else f"{shown(first)} to {shown(last)}"
    return f"{number:0{digits}d} {'' if first == NO_CLASS else 'Class '}{classes}.pdf"


# A batch of more children than this has POOL_PARTS parts or more, so is drawn by the workers:
# one known to be that big may start them before its cards are gathered (``card_workers``).
WORKERS_FROM = PART_CHILDREN * (POOL_PARTS - 1)


class CardWorker(NamedTuple):
    """A process drawing a trust's cards (a pool of one), and how to ask it to stop between the
    files it draws (``gather_kept``, which draws a whole batch in one piece of work)."""

    pool: Executor
    stop: Event


@contextmanager
def card_workers(count: int | None = None) -> Iterator[list[CardWorker] | None]:
    """``count`` (WORKERS) processes that draw a trust's parts and make its xlsx (None on one core),
    each a pool of its own, so that what one drew is taken from it (``CardsToDraw``); started
    now, so that their start (a fresh interpreter each, its fonts read) overlaps the parent's own
    work; ended, and their memory with every password, when the block ends (work not yet begun
    is cancelled, as when an apply fails)."""
    count = WORKERS if count is None else count
    if count < 1 or (os.cpu_count() or 1) < 2:
        yield None
        return
    import multiprocessing

    # Fresh interpreters (see workers.py): starting one takes about half a second, hence POOL_PARTS.
    with ExitStack() as started:
        workers = []
        for _ in range(count):
            stop = multiprocessing.get_context("spawn").Event()
            worker = spawned_pool(1, partial(_start_drawing, stop))
            started.callback(worker.shutdown, wait=True, cancel_futures=True)
            worker.submit(int)  # the pool starts its process for the first piece of work it is given
            workers.append(CardWorker(worker, stop))
        yield workers


def packed(part: list[tuple[str, list[Card]]]) -> bytes:
    """A part as a worker is sent it (``draw_packed`` and ``sheet_of`` unpack it): plain tuples, a
    class's heading and each card's name, class, rows (``CardRow``'s fields) and, only where a row
    names the child otherwise (a pupil who left the roster, named from each platform's record),
    each row's name for the xlsx; pickled here, so that the parts waiting for a worker hold a few
    bytes a row rather than a tuple each."""
    return pickle.dumps([(name, [(card.display_name, card.class_name,
                                  [(r.platform, r.sign_in_url, r.school_code, r.username, r.password) for r in card.rows],
                                  _row_names(card))
                                 for card in cards]) for name, cards in part], protocol=pickle.HIGHEST_PROTOCOL)  # fmt: skip


def _row_names(card: Card) -> tuple[str, ...] | None:
    """Each row's name for the xlsx where one differs from the card's (else None)."""
    if all(row.display_name == card.display_name for row in card.rows):
        return None
    return tuple(row.display_name for row in card.rows)


def draw_packed(school: str, part: bytes, with_codes: bool, chars: frozenset[str]) -> bytes:
    """In a worker: the PDF of a ``packed`` part (``cards_pdf_bytes``)."""
    with collector.paused():  # a part's cards live until it is drawn (see collector.py)
        groups = [(name, [Card(display_name, class_name, tuple(map(CardRow._make, rows)))
                          for display_name, class_name, rows, _ in cards]) for name, cards in pickle.loads(part)]  # fmt: skip
        return cards_pdf_bytes(school, groups, with_codes, chars)


def sheet_of(parts: Sequence[bytes]) -> bytes:
    """In a worker (or the parent, where no worker draws): the cards' xlsx of a batch's ``packed``
    parts, the rows ``slips_xlsx_bytes`` writes (``SlipRows``: a row per child and platform, in
    the cards' order)."""
    with collector.paused():
        rows = [(class_name, names[number] if names else display_name, platform, username, password, url or "", code)
                for part in parts for _, cards in pickle.loads(part) for display_name, class_name, rows, names in cards
                for number, (platform, url, code, username, password) in enumerate(rows)]  # fmt: skip
        return xlsx_bytes([Sheet("Login slips", XLSX_HEADER, rows)], streamed=True)


# In a worker: what it drew, kept until the parent takes it (``CardsToDraw``), by (batch, file).
_drawn: dict[tuple[int, int], bytes] = {}
_batches = itertools.count()
SHEET = -1  # the xlsx's number among a batch's files


def draw_kept(batch: int, number: int, make: Callable[..., bytes], *args) -> int:
    """In a worker: ``make(*args)`` (a part's PDF, or the xlsx), kept here until taken; its size."""
    _drawn[batch, number] = made = make(*args)
    return len(made)


def take_drawn(batch: int, number: int) -> bytes:
    """In a worker: what ``draw_kept`` made, handed over and let go."""
    return _drawn.pop((batch, number))


# In a worker: set when the parent asks it to draw no more (``CardsDrawnAway.cancel``).
_stop: Event | None = None


def _start_drawing(stop: Event) -> None:
    """In a worker, as it starts: what asks it to stop, and the fonts every part draws with."""
    global _stop
    _stop = stop
    for face in FACES:
        metrics(face)
        face_glyphs(face)


class CardFacts(NamedTuple):
    """What a batch's cards show, as plain data: what an apply hands a worker to gather, group,
    pack and draw its cards from (``CardsDrawnAway``), each list of texts as one text and where
    each ends in it (``texts_packed``): a few dozen objects to pickle, not one a row or a value.

    ``pupils``: five packed lists, a pupil each: their key, their name as the cards show it, their
    class ("" for none), forename and surname (the order within a class). ``platforms``: a tuple
    each, in the order the rows are gathered: the platform's name, sign-in address and school code
    (the same on each of its rows), then its rows' pupils (their numbers in ``pupils``), usernames
    as the pupil signs in ("" for a row without a username: it has no card row) and passwords,
    packed."""

    pupils: tuple[Packed, Packed, Packed, Packed, Packed]
    platforms: list[tuple[str, str, str, array, Packed, Packed]]


Packed = tuple[str, array]


def texts_packed(texts: Sequence[str]) -> Packed:
    """``texts`` as one text and where each ends in it."""
    return "".join(texts), array("L", itertools.accumulate(map(len, texts)))


def texts_unpacked(packed: Packed) -> list[str]:
    """The texts ``texts_packed`` packed."""
    text, ends = packed
    return [text[start:end] for start, end in zip(chain((0,), ends), ends)]


def slips_of(facts: CardFacts) -> list[Slip]:
    """The slips of ``facts``, in its platforms' order and each platform's rows' order: every
    row with a username and a password, on its pupil's card (``Slip.card``, the pupil's key)."""
    keys, names, classes, forenames, surnames = map(texts_unpacked, facts.pupils)
    slips = []
    for platform, url, code, pupils, usernames, passwords in facts.platforms:
        for n, username, password in zip(pupils, texts_unpacked(usernames), texts_unpacked(passwords)):
            if username and password:
                slips.append(Slip(names[n], classes[n], platform, username, password, url, code, forenames[n],
                                  surnames[n], keys[n]))  # fmt: skip
    return slips


# In a worker: the facts of a batch it was handed (``take_facts``), until it gathers them.
_facts: dict[int, CardFacts] = {}


def take_facts(batch: int, facts: CardFacts) -> None:
    """In a worker: ``facts`` kept for ``gather_kept``. Handed over in a piece of work of their
    own, so that the parent lets go of them once they are here, not once the cards are drawn."""
    _facts[batch] = facts


def gather_kept(batch: int, school: str, trust_children: int, part_children: int) -> list[str]:
    """In a worker: a trust's cards gathered from the facts it was handed (``take_facts``,
    ``slips_of``), grouped, ordered and packed (``CardsToDraw``, with the parent's limits), then
    the xlsx and each part made and kept (as ``draw_kept`` keeps them) until the parent takes
    them; the parts' file names. It stops between two files once the parent asks (the apply
    failed)."""
    with collector.paused():  # the slips and cards live until they are packed (see collector.py)
        cards = CardsToDraw(school, slips_of(_facts.pop(batch)), trust_children, part_children)
    if cards.groups is not None:
        raise ValueError("a school's batch is drawn as it is written, not by a worker")
    for number in (SHEET, *range(len(cards.names))):
        if _stop is not None and _stop.is_set():
            break
        _drawn[batch, number] = cards.made(number)
    return cards.names


class CardsToDraw:
    """A batch's combined cards, grouped, ordered and packed for drawing: the slips they were
    made from can go once this is made. ``draw`` hands a trust's parts and its xlsx to the
    workers (``card_workers``), which draw them and keep them in their own memory; ``write``
    takes each from its worker and writes it, the parts in order, the xlsx last. Nothing is
    written, nor held by this process, before ``write``: an apply hands its cards to a worker
    as its files begin to be written (a trust's as ``CardFacts``, made into this class in the
    worker: ``CardsDrawnAway``), and writes them once every file is whole
    (``paperwork.EarlyCards``), the drawn cards (a fifth of a MiB a part) never adding to the
    memory of the apply at its peak.

    A school's batch (at most ``trust_children``, TRUST_CHILDREN, children) is one PDF, drawn here
    as it is written. A trust's is a folder named as the PDF without ``.pdf``, holding the cards in
    files of whole classes (``parts_of``, at most ``part_children`` children each: a worker is
    given its parent's limits). Raises ValueError as ``write_slips`` does (for a trust's, from
    ``write``: a part is drawn in a worker)."""

    def __init__(self, school: str, slips: Sequence[Slip], trust_children: int | None = None,
                 part_children: int | None = None):  # fmt: skip
        if not slips:
            raise ValueError("there are no login slips to write")
        self.school = school
        groups = cards_of(slips)
        self.groups: list[tuple[str, list[Card]]] | None = None
        self.drawing: dict[int, tuple[Executor, Future]] = {}  # each file's worker and drawing (SHEET: the xlsx)
        self.batch = next(_batches)
        trust_from = TRUST_CHILDREN if trust_children is None else trust_children
        if sum(len(cards) for _, cards in groups) <= trust_from:
            self.groups = groups
            return
        parts = parts_of(groups, part_children)
        digits = max(2, len(str(len(parts))))
        self.names = [part_file_name(number, part, digits) for number, part in enumerate(parts, start=1)]
        self.with_codes = any(row.school_code for _, cards in groups for card in cards for row in card.rows)
        self.chars = printed_chars(school, groups)
        self.packed = [packed(part) for part in parts]

    @property
    def worth_workers(self) -> bool:
        """Whether the batch has parts enough to pay for starting workers to draw them."""
        return self.groups is None and len(self.packed) >= POOL_PARTS

    def draw(self, workers: Sequence[CardWorker] | None) -> None:
        """Hand a trust's xlsx and parts to ``workers`` (``card_workers``) in turn, to make and
        keep now; without workers, or for a school's batch, they are made as ``write`` writes
        them. The xlsx goes first: it is made of every part, which the pool holds here until the
        work it was sent for is done."""
        if not workers or self.groups is not None or self.drawing:
            return
        for number, (make, *args) in enumerate([(sheet_of, self.packed), *(
                (draw_packed, self.school, part, self.with_codes, self.chars) for part in self.packed)], start=SHEET):  # fmt: skip
            worker = workers[(number - SHEET) % len(workers)]
            drawn = worker.pool.submit(draw_kept, self.batch, number, make, *args)
            self.drawing[number] = (worker.pool, drawn)
        self.packed = []

    def cancel(self) -> None:
        """Draw no more: the parts and xlsx the workers have not begun are not made (each worker
        still holds what it drew until it ends, with the apply)."""
        for worker, drawn in self.drawing.values():
            drawn.cancel()

    def made(self, number: int) -> bytes:
        """A part's PDF (or the xlsx), from the worker that drew it (raising what the drawing
        raised), or drawn here."""
        if number in self.drawing:
            worker, drawn = self.drawing.pop(number)
            drawn.result()
            return worker.submit(take_drawn, self.batch, number).result()
        if number == SHEET:
            return sheet_of(self.packed)
        return draw_packed(self.school, self.packed[number], self.with_codes, self.chars)

    def write(self, pdf_path: Path, xlsx_path: Path) -> list[Path]:
        """Write the cards, atomic and owner-only, the xlsx last (so a file newer than it has cards
        still to draw); the paths written."""
        for path in (pdf_path, xlsx_path):  # an earlier drawing killed part way
            files.remove_stale_temporaries(path.parent, path.name)
        if self.groups is not None:
            rows = [(name, [row for card in cards for row in card.rows]) for name, cards in self.groups]
            pdf = cards_pdf_bytes(self.school, self.groups)
            workbook = slips_xlsx_bytes(rows, streamed=True)
            files.atomic_write_bytes(pdf_path, pdf)
            files.atomic_write_bytes(xlsx_path, workbook)
            return [pdf_path, xlsx_path]
        folder = files.make_private_dir(pdf_path.with_suffix(""))
        written = [folder / name for name in self.names]
        for number, path in enumerate(written):  # each taken and written in turn: one held here at a time
            files.atomic_write_bytes(path, self.made(number))
        for stale in set(folder.glob("*.pdf")) - set(written):  # an earlier drawing of this batch's cards
            stale.unlink()
        files.remove_stale_temporaries(folder)
        files.atomic_write_bytes(xlsx_path, self.made(SHEET))
        return [folder, xlsx_path]


class CardsDrawnAway(CardsToDraw):
    """A trust's cards gathered, grouped and packed as well as drawn by one worker, from the plain
    ``CardFacts`` an apply hands it (``gather_kept``): this process makes no slip, card or part of
    them, and takes each file from the worker as ``write`` writes it, as ``CardsToDraw`` does.
    Only a batch known to be a trust's (more than TRUST_CHILDREN children) is drawn so."""

    def __init__(self, school: str, facts: CardFacts, worker: CardWorker):
        self.school, self.groups, self.packed, self.drawing = school, None, [], {}
        self.batch = next(_batches)
        self.worker = worker
        self.handed = worker.pool.submit(take_facts, self.batch, facts)
        self.gathered = worker.pool.submit(gather_kept, self.batch, school, TRUST_CHILDREN, PART_CHILDREN)

    @property
    def worth_workers(self) -> bool:
        return True

    def draw(self, workers: Sequence[CardWorker] | None) -> None:
        """Drawn already: handed to its worker when made."""

    def cancel(self) -> None:
        self.handed.cancel()
        self.gathered.cancel()
        self.worker.stop.set()

    def made(self, number: int) -> bytes:
        return self.worker.pool.submit(take_drawn, self.batch, number).result()

    def write(self, pdf_path: Path, xlsx_path: Path) -> list[Path]:
        self.handed.result()
        self.names = self.gathered.result()  # raising what the gathering or drawing raised
        return super().write(pdf_path, xlsx_path)


def write_cards(pdf_path: Path, xlsx_path: Path, school: str, slips: Sequence[Slip],
                workers: Sequence[CardWorker] | None = None) -> list[Path]:  # fmt: skip
    """Write the combined login cards, one per child, as a printable PDF and as an xlsx (a row
    per child and platform, in the cards' order), both atomic and owner-only; the paths written
    (``CardsToDraw``). A trust's parts and xlsx are made by ``workers`` (``card_workers``) if the
    caller started them, else by workers started here where the parts are worth them."""
    cards = CardsToDraw(school, slips)
    started = card_workers() if workers is None and cards.worth_workers else nullcontext(workers)
    with started as pool:
        cards.draw(pool)
        return cards.write(pdf_path, xlsx_path)
