"""Letters asking each supplier for the facts the register lacks: one Word document per supplier,
from the school ("we"), in plain words, each missing fact a question with a box for the answer.

A Word document, not a PDF: the school adds who signs it and where to reply, and a supplier
can type its answers into the boxes. A letter goes to each platform's supplier with a question
to answer (``register/gaps.py``); the bodies the school sends data to outside this tool (the
DfE, the local authority, the next school) are asked by the school's own channels, so their
open questions are in ``provisioner register gaps`` only.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.shared import Pt

from provisioner import files
from provisioner.fields import short_label
from provisioner.register import Processor, Register
from provisioner.register.gaps import SUPPLIER, gaps_of, supplier_name
from provisioner.reports.content import long_date
from provisioner.reports.notice import PLAIN

ANSWER_LINES = 3  # empty lines in each answer box
# The data sent, in words for the supplier (the privacy notice's words are for parents).
SENT_WORDS = {
    **PLAIN,
    "mis_id": "our admission number for the pupil",
    "pseudonymous_id": "a code number made for your platform only, which does not show who the pupil is",
    "password": "a first password",
}


@dataclass(frozen=True)
class Letter:
    """One supplier's letter: who it is to, what the school sends them, and the questions."""

    processor: str  # the entry's id
    platform: str
    company: str
    school: str
    date: str
    sent: str  # the pupil data the school sends, in plain words
    questions: list[str]

    @property
    def file_name(self) -> str:
        return letter_name(self.processor)


def letter_name(entry_id: str) -> str:
    return f"questions-for-{entry_id}.docx"


def letters(register: Register) -> list[Letter]:
    """A letter for each platform whose supplier has a question to answer, in the register's order."""
    found = []
    for processor in register.platforms():
        questions = list(dict.fromkeys(g.question for g in gaps_of(processor) if g.who == SUPPLIER and g.question))
        if questions:
            found.append(Letter(processor.id, processor.name, supplier_name(processor), register.school,
                                long_date(register.today), _sent(processor), questions))  # fmt: skip
    return found


def _sent(processor: Processor) -> str:
    words = [SENT_WORDS.get(name, short_label(name).lower()) for name in processor.fields]
    if not words:
        return "no pupil data from our records"
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def letter_docx_bytes(letter: Letter) -> bytes:
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    document.core_properties.title = f"Questions for {letter.company} about {letter.platform}"
    document.core_properties.author = letter.school
    document.core_properties.comments = ""
    document.core_properties.last_modified_by = letter.school
    document.add_paragraph().add_run(letter.school).bold = True
    document.add_paragraph(letter.date)
    document.add_paragraph(f"To: {letter.company}, about {letter.platform}")
    document.add_paragraph("Dear data protection team,")
    document.add_paragraph(
        f"We are {letter.school}, and our pupils use {letter.platform}. As a school we keep a record of the "
        "organisations that handle our pupils' personal data for us, and what each one does with it (UK GDPR "
        f"Article 30). Our record for {letter.platform} is missing the facts below, and we would be grateful for "
        "your help with them."
    )
    document.add_paragraph(f"For each pupil, we send you: {letter.sent}.")
    document.add_paragraph(
        "Could you answer the questions below? You can write in the box under each question and send the letter "
        "back to us, or answer by email. Where one of your documents already answers a question (your data "
        "processing agreement or privacy notice, for example), a link to it is enough."
    )
    for number, question in enumerate(letter.questions, start=1):
        document.add_paragraph().add_run(f"{number}. {question}").bold = True
        box = document.add_table(rows=1, cols=1)
        box.style = "Table Grid"
        cell = box.cell(0, 0)
        cell.paragraphs[0].add_run("Your answer:").italic = True
        for _ in range(ANSWER_LINES):
            cell.add_paragraph()
    document.add_paragraph()
    document.add_paragraph("Thank you for your help.")
    document.add_paragraph("Yours sincerely,")
    for label in ("Name", "Role", "Email"):
        document.add_paragraph(f"{label}: ______________________________")
    document.add_paragraph(letter.school)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_questions(register: Register, folder: Path) -> list[Path]:
    """Write each supplier's letter into ``folder``, atomically and owner-only; a letter written
    earlier for a supplier with nothing left to ask is removed, so the folder holds only letters
    to send."""
    written = []
    wanted = letters(register)
    if wanted:
        files.make_private_dir(folder)
    for letter in wanted:
        path = folder / letter.file_name
        files.atomic_write_bytes(path, letter_docx_bytes(letter))
        written.append(path)
    asking = {letter.processor for letter in wanted}
    for processor in register.platforms():
        if processor.id not in asking:
            (folder / letter_name(processor.id)).unlink(missing_ok=True)
    return written


def questions_zip_bytes(register: Register) -> bytes | None:
    """Every supplier's letter in one zip, named as ``write_questions`` names them in its folder,
    for a browser to download; None when no supplier has a question to answer."""
    wanted = letters(register)
    if not wanted:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in wanted:
            archive.writestr(letter.file_name, letter_docx_bytes(letter))
    return buffer.getvalue()
