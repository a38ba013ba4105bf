"""A draft data protection impact assessment (DPIA) for one platform, on the ICO's seven steps:
identify the need, describe the processing, consult, assess necessity and proportionality,
identify and assess the risks, the measures that reduce them, then sign off and record the
outcomes.

The tool fills in what it knows, and only that: the fields the platform is sent and why (the
connector's declarations and the entry's ``[needs]``), how many pupils it holds now and which
year groups it serves, the leaver policy, the minimisation the tool enforces, where the data
goes and the state of the contract (from the register entry, through plain.py, so no research
note is written as a fact). Everything that is the school's judgement is a marked question
("To decide: ..."), shaded and bold as the register's gaps are; what the supplier has not told
the school is a question to send it (step 3). The DPO's advice and the headteacher's sign-off
are boxes to fill in by hand.

``dpia_draft`` builds the content (``Dpia``: steps made of ``Part``s of ``Cell``s);
``dpia_pdf_bytes`` draws it with the register PDF's document (pdf.py); word.py writes the same
content as a Word document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from provisioner.errors import UsageError
from provisioner.fields import FIELDS, short_label, short_labels
from provisioner.register import Processor, Register
from provisioner.reports.content import Cell, long_date, policy
from provisioner.reports.pdf import ALERT_RGB, Document, make_pdf
from provisioner.reports.plain import kept_after_deletion, open_question, questions, stated, supplier
from provisioner.slips import SANS, SANS_BOLD, printable

DECIDE = "To decide: "

# Why each field is sent, where the entry's [needs] does not say: what the account uses it for.
# A field with no reason here or in [needs] is a question for the school.
WHY_SENT: dict[str, str] = {
    "forename": "So the pupil and the teacher recognise the account.",
    "surname": "So the teacher can tell apart pupils with the same first name.",
    "year_group": "To put the pupil in their year's work and groups.",
    "class_name": "To put the pupil in their class, so their teacher sees their work.",
    "pseudonymous_id": "To find the same pupil's account at the next upload without sending the UPN: a code "
    "number made for this platform alone, which does not show who the pupil is.",
    "username": "To sign in.",
    "password": "To sign in the first time: printed on the login slip; the tool does not keep it.",
    "email": "The pupil's sign-in and address in the school's own accounts.",
}

# The ICO's template rates each risk on these scales.
LIKELIHOOD = "remote, possible or probable"
SEVERITY = "minimal, significant or severe"
OVERALL = "low, medium or high"


@dataclass(frozen=True)
class Part:
    """One piece of a step: paragraphs ("text", a row of one cell each; an alert cell is a marked
    question), a sub-heading ("heading"), label and text ("pairs"), a table under ``header``
    ("table"), a bulleted "list", or the sign-off boxes ("signoff", a table with room to write).
    ``widths``: the columns' shares of the page width."""

    kind: str
    rows: list[list[Cell]]
    header: tuple[str, ...] = ()
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Step:
    title: str
    parts: list[Part]
    whole: bool = False  # kept on one page where it fits on one (the sign-off)


@dataclass(frozen=True)
class Dpia:
    platform: str
    name: str
    supplier: str
    school: str
    today: date
    pupils_held: int | None
    steps: list[Step]
    questions: list[str]  # for the supplier (step 3)
    intro: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Data protection impact assessment (draft): {self.name}"

    @property
    def subtitle(self) -> str:
        return f"{self.school}. Drafted on {long_date(self.today)} from the school's processor register."

    @property
    def to_decide(self) -> list[str]:
        """The marked questions that stand as paragraphs ("To decide: ..."), in order; a table's
        "To decide" cells and a fact's "To decide" note are marked too, but not counted here."""
        return [cell.text for step in self.steps for part in step.parts for row in part.rows for cell in row
                if cell.alert and cell.text.startswith(DECIDE)]  # fmt: skip

    def as_dict(self) -> dict:
        return {"platform": self.platform, "name": self.name, "supplier": self.supplier, "school": self.school,
                "as_of": self.today.isoformat(), "pupils_held": self.pupils_held,
                "steps": [step.title for step in self.steps], "to_decide": self.to_decide,
                "questions_for_supplier": self.questions}  # fmt: skip


# --- building blocks ----------------------------------------------------------------------------


def _text(*paragraphs: str) -> Part:
    return Part("text", [[Cell(p)] for p in paragraphs if p])


def _decide(*questions: str) -> Part:
    return Part("text", [[Cell(DECIDE + q, True)] for q in questions])


def _heading(text: str) -> Part:
    return Part("heading", [[Cell(text)]])


def _pairs(rows: list[tuple[str, Cell]]) -> Part:
    return Part("pairs", [[Cell(label), cell] for label, cell in rows], widths=(0.27, 0.73))


def _known(processor: Processor, key: str, school_decides: str = "") -> Cell:
    """A register item as far as it is known: its facts; where the supplier has not said, a
    pointer to the question in step 3; where it is the school's to record, a marked question."""
    found = stated(processor.fact(key))
    parts = [found.text[0].upper() + found.text[1:]] if found.text else []
    alert = False
    if open_question(processor, key):
        parts.append(f"Not confirmed by {supplier(processor)} yet: see the questions in step 3.")
        alert = True
    if found.school_decides and school_decides:
        parts.append(DECIDE + school_decides)
        alert = True
    if not parts:
        parts.append(DECIDE + (school_decides or "the school records this."))
        alert = True
    return Cell(" ".join(parts), alert)


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def leaver_process(processor: Processor, today: date) -> str:
    """What happens to a leaver's account on this platform, as the tool carries it out."""
    connector = processor.connector
    if connector is None:
        return "The school deletes leavers' accounts by hand; the tool does not track them."
    if not connector.delivery.makes_accounts:
        return (f"{processor.name} reads pupils from the school's MIS itself and ends a leaver's access when the MIS "
                "shows they have left; the tool records which pupils it holds.")  # fmt: skip
    disable_days, delete_days = policy(connector)
    deleted = "on the day the pupil leaves" if delete_days == 0 else f"{_days(delete_days)} after the pupil leaves"
    switched = "" if disable_days is None else (
        "switched off on the day they leave and " if disable_days == 0 else f"switched off {_days(disable_days)} "
        "after they leave and ")  # fmt: skip
    how = ("The tool deletes it through the platform's API and reads the result back." if connector.delivery.kind
           == "api" else "The tool puts it on a deletion list for the admin, and tracks it until the admin "
           "confirms it is done.")  # fmt: skip
    kept = kept_after_deletion(processor, today)
    if kept:
        kept = f" {supplier(processor)} then keeps a deleted account for {kept} before erasing it (the school's setting)."
    return f"A leaver's account is {switched}deleted {deleted}. {how}{kept}"


def _find(register: Register, platform: str) -> Processor:
    found = next((p for p in register.processors if p.id == platform), None)
    platforms = ", ".join(p.id for p in register.platforms()) or "none"
    if found is None:
        raise UsageError(f"'{platform}' is not a platform in this school's register",
                         hint=f"use one of: {platforms} (a platform appears once it is enabled)")  # fmt: skip
    if found.entry.kind != "platform":
        raise UsageError(f"'{platform}' is an organisation the school shares data with, not a platform",
                         hint=f"a DPIA draft is made for a platform: use one of: {platforms}")  # fmt: skip
    return found


# --- the seven steps ------------------------------------------------------------------------------


def _step1(p: Processor, who: str) -> Step:
    earlier = stated(p.fact("dpia")).text
    return Step("Step 1: Identify the need for a DPIA", [
        _pairs([("What it is for", _known(p, "purpose")), ("Who provides it", _known(p, "entity"))]),
        _text(
            f"Pupils' personal data goes to {who}, an outside organisation, to make and run their accounts on {p.name}. "
            "The pupils are children, whose data needs particular care (UK GDPR, Recital 38). A DPIA is required "
            "where processing is likely to result in a high risk to people (Article 35); the ICO also advises one "
            "for any major project that uses personal data.",
            f"The register's record of a DPIA for {p.name}: {earlier}" if earlier else
            f"The register records no earlier DPIA for {p.name}.",
        ),
        _decide(f"is the use of {p.name} likely to result in a high risk to pupils (then this DPIA is required "
                "before it goes on)? Does this DPIA replace an earlier one?"),
    ])  # fmt: skip


def _field_rows(p: Processor) -> list[list[Cell]]:
    rows = []
    needs = p.entry.needs
    for name in p.fields:
        label = FIELDS[name].label if name in FIELDS else name
        reason = stated(needs[name]).text if name in needs else WHY_SENT.get(name, "")
        rows.append([Cell(label), Cell(reason) if reason else Cell(f"{DECIDE}why {p.name} needs it.", True)])
    stale = p.evidence.no_longer_sent if p.evidence else []
    for name in stale:
        rows.append([Cell(f"{short_label(name)} (still held, no longer sent)"),
                     Cell("Sent before the school stopped sending it; it goes as accounts are updated or deleted.")])  # fmt: skip
    return rows


def _held_words(p: Processor, today: date) -> str:
    """The pupils the platform holds, and any whose accounts wait in a file not yet uploaded."""
    evidence = p.evidence
    waiting = (f"; {evidence.awaiting_upload} more in an import file the school has not yet uploaded"
               if evidence.awaiting_upload else "")  # fmt: skip
    return f"{evidence.pupils_held} (the tool's records on {long_date(today)}){waiting}"


def _step2(p: Processor, who: str, today: date) -> Step:
    connector = p.connector
    delivery = p.evidence.provisioning if p.evidence is not None else ""
    how = {
        "file": f"The admin exports the pupil list from the school's MIS; the tool writes an import file from it, "
                f"which the admin uploads to {p.name}"
                + (", and prints first passwords on login slips." if connector and connector.issues_passwords else "."),
        "api": f"The admin exports the pupil list from the school's MIS; the tool sends each account to {p.name} "
               "through its API, and reads the result back.",
        "mis-sync": f"{p.name} reads the pupils from the school's MIS itself. {stated(p.entry.source_of_data).text}",
    }.get(delivery, f"The school sends {p.name} its data by hand; the tool does not send it.")  # fmt: skip
    held = p.evidence.pupils_held if p.evidence else None
    scope = p.scope
    which = (f"{scope.describe()}" + ("" if scope.limited else ", every pupil on roll")) if scope else \
        stated(p.fact("data_subjects")).text  # fmt: skip
    in_words, which = which, which[:1].upper() + which[1:]
    often = {
        "mis-sync": f"As often as {p.name}'s own link to the MIS runs; the tool records which pupils it holds each "
                    "time the admin runs it.",
        "": "Whenever the school sends it.",
    }.get(delivery, "Each time the admin runs the tool with a new export from the MIS: joiners get accounts, "
                    "changes are sent, leavers' accounts are closed.")  # fmt: skip
    return Step("Step 2: Describe the processing", [
        _heading("Nature: how the data is collected, used, stored and deleted"),
        _pairs([
            ("How it gets there", Cell(how.strip())),
            ("Supplier's role", _known(p, "role", "is the supplier a processor for all of this, or does it use "
                                       "pupils' data for its own purposes too (then it is a controller for those)?")),
            ("Where it is held", _known(p, "hosting", "where the school's own data is held (its settings).")),
            ("Transfers outside the UK", _known(p, "transfers")),
            ("Other companies involved", _known(p, "sub_processors")),
            ("Security", _known(p, "security", "the school's own measures: who holds admin accounts, where import "
                                "files and slips are kept.")),
            ("When a pupil leaves", Cell(leaver_process(p, today))),
            ("What the supplier keeps after deletion", _known(p, "retention")),
        ]),
        _heading("Scope: the data, how much, how many pupils"),
        Part("table", _field_rows(p), ("Pupil data it receives", "Why"), (0.35, 0.65)),
        _pairs([
            ("Pupils with an account now", Cell(_held_words(p, today) if held is not None else "Not tracked by the tool.")),
            ("Which pupils", Cell(which or "Not recorded.")),
            ("Special-category data", Cell(p.fact("special_category"))),
            ("How often", Cell(often)),
        ]),
        _heading("Context"),
        _text(f"The pupils are children in a primary school ({in_words or 'the year groups the school chooses'}). "
              f"The privacy notice's section written from the register tells parents what {p.name} holds, why, "
              "where and for how long."),
        _decide(f"would pupils and their parents expect this use of their data? Is there public concern about "
                f"{who}, or a security problem the school knows of?"),
        _heading("Purposes"),
        _pairs([
            ("Purpose", _known(p, "purpose")),
            ("Lawful basis", _known(p, "lawful_basis", "which lawful basis the school relies on.")),
        ]),
        _decide(f"what pupils and the school gain from {p.name}."),
    ])  # fmt: skip


def _step3(p: Processor, who: str, asked: list[str]) -> Step:
    return Step("Step 3: Consultation", [
        _text("The ICO expects the school to seek the views of the people affected or their representatives "
              "where it is appropriate, to ask its data protection officer (DPO) for advice, and to ask the "
              "supplier whatever the school needs to know."),
        _heading(f"Questions to send to {who}"),
        Part("list", [[Cell(q)] for q in asked]) if asked else
        _text(f"None: the register records an answer from {who} for each item."),
        _decide(f"who else to consult (teachers who use {p.name}, IT support, parents or a parent governor) "
                "and how; record what they said here."),
    ])  # fmt: skip


def _enforced(p: Processor) -> list[str]:
    """The minimisation the tool enforces for this platform, as facts about it today."""
    connector = p.connector
    if connector is None:
        return [f"The tool does not send {p.name} anything: the register lists what the school sends by hand."]
    if not connector.delivery.makes_accounts:
        return [f"The tool sends {p.name} nothing: it reads the school's MIS itself, so what it takes is set in "
                f"its own settings ({short_labels(p.fields)}). The tool records which pupils it holds."]
    found = [f"Only the fields declared for {p.name} are sent: {short_labels(p.fields)}. Every other column of the "
             "MIS export stays in school."]  # fmt: skip
    if p.approvals:
        last = p.approvals[-1]
        found.append(f"The tool refuses to send a field list nobody approved; this one was approved on "
                     f"{last.approved_at[:10]} by {last.approved_by} ({last.role}).")  # fmt: skip
    if "pseudonymous_id" in p.fields:
        found.append(f"Each pupil is matched on a code number made for {p.name} alone, not on the Unique Pupil "
                     "Number, which is not sent.")  # fmt: skip
    elif "upn" not in p.fields:
        found.append("The Unique Pupil Number is not sent.")
    if "date_of_birth" not in p.fields:
        found.append("Date of birth is not sent.")
    scope = p.scope
    if scope is not None and scope.limited:
        found.append(f"Only pupils in {scope.describe()} get an account.")
    if connector.issues_passwords:
        found.append("First passwords are printed on login slips; the tool does not keep them.")
    found.append("When a parent asks for their child's data to be erased, the tool deletes the account (or lists it "
                 "for the admin to delete) and never sends that pupil's data again.")
    return found


def _step4(p: Processor, who: str) -> Step:
    decide = [f"does {p.name} achieve its purpose, and could it do so with less pupil data?"]
    if p.approvals == [] and p.connector is not None and p.connector.delivery.makes_accounts:
        decide.append(f"approve the field list (provisioner register approve {p.id}); nothing is sent until then.")
    if "surname" in p.fields:
        decide.append(f"does {p.name} need pupils' full surnames, or would an initial do?")
    for name, words in (("date_of_birth", "pupils' dates of birth"), ("upn", "the Unique Pupil Number")):
        if name in p.fields:
            decide.append(f"does {p.name} need {words}, or would it work without?")
    decide += [
        f"is there a signed contract with {who} with the terms UK GDPR Article 28 requires (acting only on the "
        "school's instructions, confidentiality, security, other companies only with the school's agreement, "
        "help with pupils' rights, deletion or return of the data at the end)?",
        "how are parents told (the privacy notice), and how do they use their rights (access, correction, "
        "erasure)?",
    ]
    if stated(p.fact("transfers")).text.lower().startswith("yes"):
        decide.append("is the safeguard for the transfer outside the UK in place?")
    return Step("Step 4: Necessity and proportionality", [
        _heading("What the tool enforces"),
        Part("list", [[Cell(line)] for line in _enforced(p)]),
        _pairs([("Contract", _known(p, "contract", "the signed contract's link and date."))]),
        _decide(*decide),
    ])  # fmt: skip


def _risks(p: Processor, who: str, today: date) -> list[tuple[str, str]]:
    """(the risk to pupils, what reduces it now): a standard list, with what the tool does about each
    where it makes the accounts, and what the school does by hand where it does not."""
    security = stated(p.fact("security")).text
    contract = stated(p.fact("contract")).text
    hosting = stated(p.fact("hosting")).text
    connector = p.connector
    makes_accounts = connector is not None and connector.delivery.makes_accounts
    if makes_accounts:
        sent = ("The fields are declared for each platform and approved; a changed list is refused until it is "
                "approved again; the register shows what is held now.")
        matched = ("Pupils are matched on the MIS admission number, then the UPN"
                   + ("" if "upn" in p.fields else f", which is not sent to {p.name}") + "; the plan is shown "
                   "before anything is sent, and a possible match under other ids is paired only when the admin "
                   "agrees.")
        leavers = f"{leaver_process(p, today)} The register and the status show any deletion overdue."
    elif connector is not None:
        sent = (f"{p.name} takes what the school's MIS reports give it; the register records the fields it "
                "holds, and who approved them.")
        matched = f"{p.name} takes each pupil from the school's MIS itself."
        leavers = leaver_process(p, today)
    else:
        sent = "The register lists the fields the school sends by hand, and who approved them."
        matched = "The school makes these accounts by hand."
        leavers = leaver_process(p, today)
    risks = [
        (f"A breach at {who} exposes pupils' data.",
         f"Only the fields in step 2 are sent. {security or 'Its own measures are still to confirm (step 3).'}"),
        (f"More pupil data goes to {p.name} than it needs.", sent),
        (f"{who} uses pupils' data for its own purposes (its products, analytics, marketing).",
         contract or "The contract is still to confirm (step 3)."),
        ("Pupils' data is held outside the UK without a safeguard.",
         hosting or "Where it is held is still to confirm (step 3)."),
        ("Leavers' accounts are kept after they leave, or deleted late.", leavers),
        ("A pupil's account goes to the wrong child, or a child gets two accounts.", matched),
    ]  # fmt: skip
    if connector is not None and connector.issues_passwords:
        risks.append(("Login slips or import files, which hold first passwords, are lost or left in a shared folder.",
                      "They are written readable only by the user account that ran the tool; purge removes "
                      "outbox files of finished uploads; the tool does not keep passwords."))  # fmt: skip
    return risks


def _step5(risks: list[tuple[str, str]]) -> Step:
    rows = [[Cell(risk), Cell("To decide", True), Cell("To decide", True), Cell("To decide", True)] for risk, _ in risks]
    return Step("Step 5: Identify and assess risks", [
        _text(f"Likelihood of harm: {LIKELIHOOD}. Severity of harm: {SEVERITY}. Overall risk: {OVERALL}."),
        Part("table", rows, ("Risk to pupils", "Likelihood", "Severity", "Overall risk"), (0.55, 0.15, 0.15, 0.15)),
        _decide("any other risk for this platform (for example chat, photos, pupils' work shared outside school)."),
    ])  # fmt: skip


def _step6(risks: list[tuple[str, str]]) -> Step:
    rows = [[Cell(risk), Cell(now), Cell("To decide", True)] for risk, now in risks]
    return Step("Step 6: Identify measures to reduce risk", [
        Part("table", rows, ("Risk", "What reduces it now", "Further measures, residual risk (low, medium or high), "
                             "approved?"), (0.27, 0.48, 0.25)),  # fmt: skip
    ])


def _step7(p: Processor) -> Step:
    blank = Cell("")
    review = p.next_review
    return Step("Step 7: Sign off and record outcomes", [
        Part("signoff", [[Cell(label), blank] for label in (
            "Measures approved by", "Residual risks approved by", "DPO advice provided on",
            "Summary of the DPO's advice", "DPO advice accepted or overruled by (if overruled, why)",
            "Consultation responses reviewed by", "This DPIA will be kept under review by")],
            ("Item", "Name, date and notes"), (0.4, 0.6)),
        _text("If a high risk remains that the measures cannot reduce, the school must consult the ICO before the "
              "processing starts (UK GDPR Article 36).",
              f"The register's next review of {p.name}: {review}." if review else ""),
        _heading("Sign-off"),
        Part("signoff", [[Cell("Data protection officer"), blank, blank, blank, blank],
                         [Cell("Headteacher"), blank, blank, blank, blank]],
             ("", "Name", "Role", "Date", "Signature"), (0.22, 0.24, 0.18, 0.14, 0.22)),
    ], whole=True)  # fmt: skip


def dpia_draft(register: Register, platform: str) -> Dpia:
    """The DPIA draft for one platform of the register, on the ICO's seven steps."""
    p = _find(register, platform)
    who = supplier(p)
    asked = questions(p)
    risks = _risks(p, who, register.today)
    intro = [
        "This draft follows the ICO's seven steps for a data protection impact assessment. What the school's "
        "processor register and the tool's records show is filled in.",
        f"Each \u201cTo decide\u201d is for the school to answer with its data protection officer (DPO); the "
        f"questions in step 3 are for {who}. When every one has an answer, the DPO gives advice and the "
        "headteacher signs off (step 7).",
    ]
    steps = [_step1(p, who), _step2(p, who, register.today), _step3(p, who, asked), _step4(p, who), _step5(risks),
             _step6(risks), _step7(p)]  # fmt: skip
    held = p.evidence.pupils_held if p.evidence else None
    return Dpia(p.id, p.name, who, register.school, register.today, held, steps, asked, intro)


# --- as a PDF ---------------------------------------------------------------------------------------

TEXT_SIZE = 9.0
TABLE_SIZE = 8.0
KEEP_WITH_NEXT_MM = 40.0  # a heading this close to the foot of a page starts the next one instead


def _paragraph(pdf: Document, cell: Cell, size: float = TEXT_SIZE) -> None:
    face = SANS_BOLD if cell.alert else SANS
    pdf.set_font(face.family, face.style, size)
    pdf.set_text_color(*(ALERT_RGB if cell.alert else (0, 0, 0)))
    pdf.multi_cell(0, size * 0.45, printable(cell.text), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(1.2)


def _heading_pdf(pdf: Document, text: str, size: float) -> None:
    if pdf.will_page_break(KEEP_WITH_NEXT_MM):
        pdf.add_page()
    pdf.ln(1.5)
    pdf.write_line(text, size, bold=True, gap=1)


def _signoff(pdf: Document, part: Part, widths: list[float]) -> None:
    """A table with room to write in each box."""
    pdf.set_font(SANS.family, SANS.style, TABLE_SIZE)
    with pdf.table(col_widths=tuple(widths), width=sum(widths), align="LEFT", text_align="LEFT",
                   line_height=TABLE_SIZE * 0.45, padding=1.2, first_row_as_headings=bool(any(part.header)),
                   v_align="TOP") as table:  # fmt: skip
        if any(part.header):
            table.row([printable(h) for h in part.header])
        for row in part.rows:
            line = table.row(min_height=14)
            for cell in row:
                line.cell(printable(cell.text))
    pdf.ln(2)


def _draw_part(pdf: Document, part: Part) -> None:
    widths = [pdf.epw * share for share in part.widths]
    if part.kind == "heading":
        _heading_pdf(pdf, part.rows[0][0].text, 10.5)
    elif part.kind == "text":
        for [cell] in part.rows:
            _paragraph(pdf, cell)
    elif part.kind == "list":
        pdf.bullets(part.rows, TEXT_SIZE)
    elif part.kind == "pairs":
        pdf.grid((), part.rows, widths, TABLE_SIZE, heading_column=True)
    elif part.kind == "table":
        pdf.grid(part.header, part.rows, widths, TABLE_SIZE)
    else:
        _signoff(pdf, part, widths)


def _draw_step(pdf: Document, step: Step) -> None:
    _heading_pdf(pdf, step.title, 13)
    for part in step.parts:
        _draw_part(pdf, part)


def dpia_pdf_bytes(content: Dpia) -> bytes:
    """The DPIA draft as an A4 portrait PDF: the steps one after another, a heading never left at
    the foot of a page."""

    def draw(pdf: Document) -> None:
        pdf.add_page()
        pdf.write_line(content.title, 15, bold=True, gap=1)
        pdf.write_line(content.subtitle, 9.5, gap=2)
        for line in content.intro:
            _paragraph(pdf, Cell(line))
        for step in content.steps:
            if step.whole:
                with pdf.offset_rendering() as trial:
                    _draw_step(trial, step)
                if trial.page_break_triggered and pdf.get_y() > pdf.t_margin + 1:
                    pdf.add_page()
            _draw_step(pdf, step)

    return make_pdf(content.title, f"{content.school} \u00b7 DPIA draft: {content.name}", draw)
