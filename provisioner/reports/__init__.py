"""The processor register as documents: a PDF and an HTML page for the governors, Markdown, an
xlsx for the data protection officer, the privacy notice's sections on pupils' programs and
data sharing (Markdown or Word), a DPIA draft for one platform (PDF or Word), the letters asking
suppliers for the register's missing facts, the PDF answer to a pupil access request, and the letter
confirming an erasure to a parent.

Every format is drawn from one content model (content.py), with a module per format around it:
pdf.py (and the PDF drawing access.py and dpia.py share), html.py, markdown.py, xlsx.py,
notice.py (its own content, for parents), word.py, dpia.py, questions.py, access.py and erasure.py;
plain.py makes a register entry's text fit for parents and governors. This module names the formats and
writes a register (the letters: to a folder, one file per supplier), or a DPIA, to a file.
"""

from __future__ import annotations

from pathlib import Path

from provisioner import files
from provisioner.errors import UsageError
from provisioner.register import Register
from provisioner.reports.access import access_pdf_bytes
from provisioner.reports.content import SUMMARY_HEADER, AuditCheck
from provisioner.reports.dpia import Dpia, dpia_draft, dpia_pdf_bytes
from provisioner.reports.erasure import erasure_letter_pdf_bytes
from provisioner.reports.html import register_html
from provisioner.reports.markdown import register_markdown
from provisioner.reports.notice import notice_content, privacy_notice
from provisioner.reports.pdf import register_pdf_bytes
from provisioner.reports.questions import questions_zip_bytes, write_questions
from provisioner.reports.word import dpia_docx_bytes, notice_docx_bytes
from provisioner.reports.xlsx import register_xlsx_bytes

__all__ = [
    "DPIA_FORMATS",
    "AuditCheck",
    "FORMATS",
    "SUMMARY_HEADER",
    "Dpia",
    "access_pdf_bytes",
    "default_name",
    "dpia_draft",
    "dpia_docx_bytes",
    "dpia_name",
    "dpia_pdf_bytes",
    "erasure_letter_pdf_bytes",
    "notice_docx_bytes",
    "privacy_notice",
    "questions_zip_bytes",
    "register_html",
    "register_markdown",
    "register_pdf_bytes",
    "register_xlsx_bytes",
    "write_dpia",
    "write_questions",
    "write_register",
]

FORMATS = ("pdf", "html", "xlsx", "md", "notice", "notice-docx", "questions")
DPIA_FORMATS = ("pdf", "docx")


def default_name(register: Register, fmt: str) -> str:
    """The file name a format is written under by default, dated as of the register."""
    day = register.today.isoformat()
    if fmt == "notice":
        return f"privacy-notice-section-{day}.md"
    if fmt == "notice-docx":
        return f"privacy-notice-section-{day}.docx"
    if fmt == "questions":
        return f"questions-for-suppliers-{day}"  # a folder: a letter per supplier
    _check_format(fmt)
    return f"processor-register-{day}.{fmt}"


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown register format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")


def write_register(register: Register, fmt: str, path: Path, audit: AuditCheck | None = None) -> Path:
    """Write the register (or the privacy notice's sections) as ``fmt`` to ``path``, atomically;
    the whole document is made in memory first, so a failure leaves any old file as it was. The
    suppliers' letters ("questions") go into ``path`` as a folder, each letter written the same way.
    ``audit``: what checking the audit log found, for the PDF's summary for governors."""
    _check_format(fmt)
    if fmt == "pdf":
        files.atomic_write_bytes(path, register_pdf_bytes(register, audit))
    elif fmt == "xlsx":
        files.atomic_write_bytes(path, register_xlsx_bytes(register))
    elif fmt == "html":
        files.atomic_write_text(path, register_html(register))
    elif fmt == "md":
        files.atomic_write_text(path, register_markdown(register))
    elif fmt == "notice-docx":
        files.atomic_write_bytes(path, notice_docx_bytes(notice_content(register)))
    elif fmt == "questions":
        write_questions(register, path)
    else:
        files.atomic_write_text(path, privacy_notice(register))
    return path


def write_dpia(content: Dpia, fmt: str, path: Path) -> Path:
    """Write a DPIA draft as ``fmt`` (pdf or docx) to ``path``, atomically and owner-only."""
    if fmt not in DPIA_FORMATS:
        raise UsageError(f"unknown DPIA format '{fmt}'", hint=f"use one of: {', '.join(DPIA_FORMATS)}")
    files.atomic_write_bytes(path, dpia_pdf_bytes(content) if fmt == "pdf" else dpia_docx_bytes(content))
    return path


def dpia_name(content: Dpia, fmt: str) -> str:
    """The file name a DPIA draft is written under by default, dated as of the register."""
    return f"dpia-{content.platform}-{content.today.isoformat()}.{fmt}"
