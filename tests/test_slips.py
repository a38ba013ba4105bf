"""Login slips: real PDF and xlsx files, read back with pypdf and openpyxl. Every name is made up."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError
from pypdf import PdfReader

from conftest import TODAY, Cli, apply, import_rows, set_platform
from provisioner import files
from provisioner.card_batches import write_cards
from provisioner.connector import PlatformSettings, registry
from provisioner.connector.base import SCHOOL_SIGN_IN_WORDS
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.slips import (
    CREDENTIAL_BOX,
    MONO_BOLD,
    NAME_BOX,
    PRIVACY_NOTE,
    SANS_BOLD,
    SLIPS_PER_PAGE,
    URL_BOX,
    VALUE_W,
    Slip,
    class_key,
    fit,
    folded,
    metrics,
    printable,
    write_slips,
)

SCHOOL = "Hollowbrook Primary School"
PLATFORM = "Times Tables Rock Stars"
URL = "https://play.example.test/hollowbrook"
HEADING = re.compile(r"^(Class: (?P<class>.+?)|(?P<none>No class)) \u00b7 ", re.MULTILINE)


def slip(n: int, name: str, class_name: str, url: str = URL) -> Slip:
    # Fixed-width tokens: no username or password is part of another.
    return Slip(name, class_name, PLATFORM, f"usr{n:04d}q", f"Pw{n:04d}-kite", url)


def write(tmp_path: Path, slips: list[Slip]) -> tuple[list[str], list[tuple]]:
    pdf, xlsx = tmp_path / "slips.pdf", tmp_path / "slips.xlsx"
    write_slips(pdf, xlsx, SCHOOL, slips)
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    rows = list(load_workbook(xlsx)["Login slips"].iter_rows(values_only=True))
    return pages, rows


def page_class(text: str) -> str:
    """The class a page's header names ("" for "No class")."""
    match = HEADING.search(text)
    assert match, text[:200]
    return "" if match["none"] else match["class"]


def mixed_school() -> list[Slip]:
    names = {
        "10A": ["Orla Pennant", "Kit Marrow", "Dov Lark", "Suki Fenn"],
        "2B": ["Rafe Quill", "Ines Dapple", "Bo Tarrant"],
        "": ["Ned Yarrow", "Cleo Brisk"],
    }
    out, n = [], 0
    for class_name, pupils in names.items():
        for name in pupils:
            out.append(slip(n, name, class_name))
            n += 1
    return out


def test_a4_pages_and_every_slip_on_a_page_of_its_class(tmp_path: Path):
    slips = mixed_school()
    pdf = tmp_path / "slips.pdf"
    write_slips(pdf, tmp_path / "slips.xlsx", SCHOOL, slips)
    reader = PdfReader(pdf)
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(595.28, abs=1)
        assert float(page.mediabox.height) == pytest.approx(841.89, abs=1)
    texts = [page.extract_text() for page in reader.pages]
    for s in slips:
        pages = [i for i, text in enumerate(texts) if s.username in text]
        assert len(pages) == 1, s.username
        text = texts[pages[0]]
        assert s.password in text
        assert s.display_name in text
        assert page_class(text) == s.class_name
    for text in texts:
        assert SCHOOL in text and PLATFORM in text and PRIVACY_NOTE in text
        assert "Cut along the dashed lines" in text


def test_classes_start_new_pages_in_natural_order_no_class_last(tmp_path: Path):
    pages, _ = write(tmp_path, mixed_school())
    assert [page_class(text) for text in pages] == ["2B", "10A", ""]
    assert all("Page 1 of 1" in text for text in pages)


def test_names_sorted_within_a_class_accents_folded(tmp_path: Path):
    names = ["Zara Wilde", "émile Frost", "Ben Arden", "amy Cotton", "Łucja Brook", "Adam Hurst"]
    pages, rows = write(tmp_path, [slip(i, name, "3C") for i, name in enumerate(names)])
    expected = ["Adam Hurst", "amy Cotton", "Ben Arden", "émile Frost", "Łucja Brook", "Zara Wilde"]
    (text,) = pages
    positions = [text.index(name) for name in expected]
    assert positions == sorted(positions)
    assert [row[1] for row in rows[1:]] == expected


def test_unicode_and_formula_like_names_print_literally(tmp_path: Path):
    names = ["Zoë Quenby", "Łucja Wrenfield", "Nguyễn Thảo", "Ōkubo Rin", "Siobhán Dray", "=SUM(A1) Pell"]
    pages, rows = write(tmp_path, [slip(i, name, "4D") for i, name in enumerate(names)])
    (text,) = pages
    for name in names:
        assert name in text
    assert sorted(row[1] for row in rows[1:]) == sorted(names)


def test_a_class_of_23_spans_three_pages_of_ten(tmp_path: Path):
    slips = [slip(i, f"Pupil {chr(65 + i)}{chr(97 + i)} Tern", "5E") for i in range(23)]
    pages, _ = write(tmp_path, slips)
    assert SLIPS_PER_PAGE == 10
    assert len(pages) == 3
    counts = [sum(s.username in text for s in slips) for text in pages]
    assert counts == [10, 10, 3]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of 3" in text
        assert page_class(text) == "5E"
    # Name order carries across the page breaks.
    first_on_each = [next(s.display_name for s in slips if s.username in text) for text in pages]
    assert first_on_each == [slips[0].display_name, slips[10].display_name, slips[20].display_name]


def test_xlsx_rows_match_the_pdf_order(tmp_path: Path):
    slips = mixed_school()
    pages, rows = write(tmp_path, slips)
    assert rows[0] == ("Class", "Name", "Platform", "Username", "Password", "Sign-in address", "School code")
    by_username = {s.username: s for s in slips}
    pdf_order = []
    for text in pages:
        on_page = [s.username for s in slips if s.username in text]
        pdf_order += sorted(on_page, key=text.index)
    assert [row[3] for row in rows[1:]] == pdf_order
    for row in rows[1:]:
        s = by_username[row[3]]
        assert row == (s.class_name or None, s.display_name, PLATFORM, s.username, s.password, s.sign_in_url, None)


def test_files_are_owner_only_and_nothing_else_is_written(tmp_path: Path, capsys, caplog):
    slips = [slip(0, "Mira Holt", "1A"), slip(1, "王芳 Holt", "1A")]  # a name DejaVu cannot draw
    write(tmp_path, slips)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slips.pdf", "slips.xlsx"]
    if files.POSIX:
        for name in ("slips.pdf", "slips.xlsx"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert not any(s.password in record.getMessage() for record in caplog.records for s in slips)
    assert not any("\u738b" in record.getMessage() for record in caplog.records)


def test_characters_the_font_lacks_show_as_replacement_marks(tmp_path: Path):
    assert printable("王芳 Holt") == "\ufffd\ufffd Holt"
    assert printable("Nguye\u0302\u0303n  \tThảo\u200b") == "Nguyễn Thảo"  # NFC, whitespace, format chars
    pages, _ = write(tmp_path, [slip(0, "王芳 Holt", "1A")])
    assert "\ufffd\ufffd Holt" in pages[0]


def test_long_values_shrink_or_wrap_within_their_box():
    url = "https://www.example.test/schools/hollowbrook-primary-academy-trust/pupils/sign-in?return=/home"
    size, lines = fit(url, MONO_BOLD, VALUE_W, URL_BOX, words=False, shorten=False)
    assert "".join(lines) == url  # nothing dropped
    assert len(lines) > 1
    assert all(metrics(MONO_BOLD).width(line, size) <= VALUE_W for line in lines)
    assert len(lines) * size * 25.4 / 72 * 1.2 <= URL_BOX[0]

    name = "Maximiliana-Josephina Kowalczyk-Wiśniewska " * 4
    size, lines = fit(name, SANS_BOLD, 87, NAME_BOX, words=True, shorten=True)
    assert size == NAME_BOX[2] and lines[-1].endswith("\u2026")
    assert all(metrics(SANS_BOLD).width(line, size) <= 87 for line in lines)

    assert fit("x" * 400, MONO_BOLD, VALUE_W, CREDENTIAL_BOX, words=False, shorten=False) is None


def test_long_values_still_write(tmp_path: Path):
    long = Slip(
        "Maximiliana-Josephina Kowalczyk-Wiśniewska van der Berg",
        "Year 6 Kingfishers and Herons",
        "A platform with a remarkably long name for a primary school",
        "maximiliana.kowalczyk-wisniewska",
        "correct-horse-battery-staple-42",
        "https://www.example.test/schools/hollowbrook-primary/sign-in",
    )
    pages, rows = write(tmp_path, [long])
    text = pages[0].replace("\n", "")
    assert long.username in text and long.password in text
    assert rows[1][3:] == (long.username, long.password, long.sign_in_url, None)


def test_unprintable_credentials_are_refused_without_showing_them(tmp_path: Path):
    good = slip(0, "Mira Holt", "1A")
    for value in ("Pw\x07bell", "Pw\u200bzero", "x" * 400):
        with pytest.raises(ValueError) as error:
            write_slips(tmp_path / "s.pdf", tmp_path / "s.xlsx", SCHOOL, [replace(good, password=value)])
        assert value not in str(error.value) and "password" in str(error.value)
    assert not list(tmp_path.iterdir())  # neither file is written
    with pytest.raises(ValueError):
        write_slips(tmp_path / "s.pdf", tmp_path / "s.xlsx", SCHOOL, [])


def test_no_sign_in_address_leaves_the_line_out(tmp_path: Path):
    pages, rows = write(tmp_path, [slip(0, "Mira Holt", "1A", url="")])
    assert "Website" not in pages[0]
    assert "usr0000q" in pages[0]
    assert rows[1][5] is None


# --- where to sign in, and the order of a class list -------------------------------------------

CODE = "HB7Q2"


def test_the_sign_in_page_and_school_code_are_on_every_card(tmp_path: Path):
    slips = [replace(slip(i, f"Pupil{i:02d} Tern", "4A" if i < 13 else "4B"), school_code=CODE) for i in range(16)]
    pages, rows = write(tmp_path, slips)
    assert len(pages) == 3  # 4A over two pages, then 4B
    for text in pages:
        cards = sum(s.username in text for s in slips)
        assert cards and text.count(CODE) == cards and text.count(URL) == cards
        assert text.count("School code") == cards and text.count("Website") == cards
    assert all(row[5:] == (URL, CODE) for row in rows[1:])


def test_a_card_without_a_school_code_has_no_code_line(tmp_path: Path):
    pages, rows = write(tmp_path, [slip(0, "Mira Holt", "1A")])
    assert "School code" not in pages[0] and URL in pages[0]
    assert rows[1][6] is None


def test_long_values_with_a_school_code_still_fit(tmp_path: Path):
    long = Slip("Maximiliana-Josephina Kowalczyk-Wiśniewska van der Berg", "Year 6 Kingfishers and Herons",
                PLATFORM, "maximiliana.kowalczyk-wisniewska", "correct-horse-battery-staple-42",
                "https://www.example.test/schools/hollowbrook-primary-academy-trust/pupils/sign-in?return=/home",
                "HOLLOWBROOK-PRIMARY-ACADEMY-01")  # fmt: skip
    pages, _ = write(tmp_path, [long])
    text = pages[0].replace("\n", "")
    assert long.username in text and long.password in text and long.school_code in text


def test_cards_are_in_class_then_surname_then_forename_order(tmp_path: Path):
    pupils = [("10A", "Zara", "Arden"), ("3C", "amy", "Cotton"), ("3C", "Zara", "Arden"), ("3C", "Ben", "arden"),
              ("3C", "Émile", "Cotton"), ("3C", "Cleo", "Lyle"), ("3C", "Adam", "Łukasik"), ("3C", "Oona", ""),
              ("", "Ned", "Yarrow")]  # fmt: skip
    slips = [replace(slip(i, f"{fore} {sur}".strip(), cls), forename=fore, surname=sur)
             for i, (cls, fore, sur) in enumerate(pupils)]  # fmt: skip
    pages, rows = write(tmp_path, slips)
    expected = ["Ben arden", "Zara Arden", "amy Cotton", "Émile Cotton", "Adam Łukasik", "Cleo Lyle", "Oona",
                "Zara Arden", "Ned Yarrow"]  # fmt: skip
    assert [row[1] for row in rows[1:]] == expected
    assert [row[0] for row in rows[1:]] == ["3C"] * 7 + ["10A", None]
    by_username = {s.username: s for s in slips}
    pdf_order = []
    for text in pages:
        on_page = [s.username for s in slips if s.username in text]
        pdf_order += sorted(on_page, key=text.index)
    assert [by_username[u].display_name for u in pdf_order] == expected


# --- what the platform's pupils need to sign in --------------------------------------------------


def test_a_missing_school_code_for_ttrs_is_said_once_and_apply_still_prints_slips(tmp_path: Path, roster_file: Path):
    workspace = init_workspace(tmp_path / "ws", "Test Primary School", "test.sch.uk", ["tt-rockstars", "ixl"])
    planned = Provisioner(workspace).plan(roster_file, today=TODAY)
    warning = planned.platforms["tt-rockstars"].slips_lack
    assert "Times Tables Rock Stars" in warning and "school code" in warning and "school_code" in warning
    assert not planned.platforms["ixl"].slips_lack  # nothing declared for it here
    shown = Cli(workspace)("plan", str(roster_file), "--as-of", TODAY.isoformat()).output
    assert " ".join(shown.split()).count(" ".join(warning.split())) == 1

    result = apply(workspace, roster_file)  # a warning, not a refusal
    [slips] = [b.slips for b in result.batches if b.platform == "tt-rockstars"]
    assert "School code" not in PdfReader(slips[0]).pages[0].extract_text()


def test_the_school_code_once_set_is_on_the_slips_and_the_warning_goes(workspace, roster_file: Path):
    assert Provisioner(workspace).plan(roster_file, today=TODAY).platforms["purple-mash"].slips_lack
    set_platform(workspace, "purple-mash", school_code='"HB7Q2"')
    assert not Provisioner(workspace).plan(roster_file, today=TODAY).platforms["purple-mash"].slips_lack
    result = apply(workspace, roster_file)
    [(pdf, xlsx)] = [b.slips for b in result.batches]
    texts = [page.extract_text() for page in PdfReader(pdf).pages]
    rows = list(load_workbook(xlsx)["Login slips"].iter_rows(values_only=True))[1:]
    assert sum(text.count("HB7Q2") for text in texts) == len(rows) > 0
    assert all(row[5:] == ("https://www.purplemash.com/", "HB7Q2") for row in rows)


def test_a_purple_mash_school_page_is_enough(workspace, roster_file: Path):
    set_platform(workspace, "purple-mash", sign_in_url='"https://www.purplemash.com/sch/hollowbrook"')
    assert not Provisioner(workspace).plan(roster_file, today=TODAY).platforms["purple-mash"].slips_lack


@pytest.mark.parametrize("code", ["", "AB 12", "AB\tC", "Zoë1", "X" * 31])
def test_a_school_code_is_short_printable_ascii(code: str):
    with pytest.raises(ValidationError):
        PlatformSettings(school_code=code)
    assert PlatformSettings(school_code="hb-7Q2").school_code == "hb-7Q2"


def test_what_a_platform_says_its_pupils_need_is_a_setting_it_has():
    declared = {platform: cls.school_sign_in for platform, cls in registry().items() if cls.school_sign_in}
    assert {"tt-rockstars", "bug-club", "purple-mash"} <= set(declared)
    for platform, keys in declared.items():
        assert set(keys) <= set(SCHOOL_SIGN_IN_WORDS), platform
        assert set(keys) <= set(registry()[platform].Settings.model_fields), platform


# --- combined cards: one per child ---------------------------------------------------------------

CARD_HEADER = re.compile(r"^(?P<name>.+) Class (?P<class>\S+)$")


def cards_in(pdf: Path, platforms: set[str]) -> list[tuple[str, str, list[str]]]:
    """(name, class, platforms listed) of each card in print order, read from the PDF's text."""
    cards: list[tuple[str, str, list[str]]] = []
    for page in PdfReader(pdf).pages:
        for line in page.extract_text().splitlines():
            if match := CARD_HEADER.match(line):
                cards.append((match["name"], match["class"], []))
            elif line in platforms:
                cards[-1][2].append(line)
    return cards


def set_slips_style(workspace, style: str) -> None:
    text = workspace.settings_path.read_text(encoding="utf-8")
    workspace.settings_path.write_text(text.replace('style = "combined"', f'style = "{style}"'), encoding="utf-8")
    workspace.__dict__.pop("settings", None)


COMBINED = ("purple-mash", "tt-rockstars", "ixl", "education-city", "bug-club")


@pytest.fixture
def combined(tmp_path: Path, roster_file: Path):
    workspace = init_workspace(tmp_path / "cards", "Hollowbrook Primary School", "hollowbrook.sch.uk", list(COMBINED))
    set_platform(workspace, "ixl", school_code='"hollowbrook"')
    set_platform(workspace, "tt-rockstars", school_code='"HB7Q2"')
    return workspace, apply(workspace, roster_file)


def test_combined_cards_one_per_child_listing_every_platform_sorted(combined, pupils):
    workspace, result = combined
    [(pdf, xlsx)] = {tuple(b.slips) for b in result.batches}
    assert (pdf.parent, pdf.name) == (workspace.outbox, f"login-slips-{result.batches[0].batch_id}.pdf")
    assert files.is_private(pdf) and files.is_private(xlsx)
    names = {workspace.connector(p).name: workspace.connector(p) for p in COMBINED}
    on_roll = [p for p in pupils if not (p.get("leaving_date") and p["leaving_date"] <= TODAY)]
    expected = sorted(on_roll, key=lambda p: (class_key(p["class_name"]), folded(p["preferred_surname"]),
                                              folded(p["preferred_forename"])))  # fmt: skip
    cards = cards_in(pdf, set(names))
    assert len(cards) == len(on_roll), "one card per child"
    for card, pupil in zip(cards, expected, strict=True):
        assert card[:2] == (f"{pupil['preferred_forename']} {pupil['preferred_surname']}", pupil["class_name"])
        serving = sorted((n for n, c in names.items() if c.scope.includes(pupil["year_group"], pupil["class_name"])),
                         key=str.casefold)  # fmt: skip
        assert card[2] == serving, "every platform the child got a password on, once each"
    header, *rows = load_workbook(xlsx)["Login slips"].iter_rows(values_only=True)
    assert len(rows) == sum(len(card[2]) for card in cards)
    assert [(r[1], r[0]) for r in rows] == [(c[0], c[1]) for c in cards for _ in c[2]], "the xlsx in card order"


def test_ixl_prints_its_school_code_once_in_the_username(combined):
    workspace, result = combined
    [(pdf, xlsx)] = {tuple(b.slips) for b in result.batches}
    header, *rows = load_workbook(xlsx)["Login slips"].iter_rows(values_only=True)
    ixl = [dict(zip(header, r)) for r in rows if r[2] == "IXL"]
    ttrs = [dict(zip(header, r)) for r in rows if r[2] == PLATFORM]
    assert ixl and all(r["Username"].endswith("@hollowbrook") and not r["School code"] for r in ixl)
    assert ttrs and all(r["School code"] == "HB7Q2" for r in ttrs), "a platform with a code box keeps it"
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert text.count("School code") == len(ttrs), "labelled only where the child types it in a box of its own"


def test_the_per_platform_style_gives_each_platform_its_own_slips(tmp_path: Path, roster_file: Path):
    workspace = init_workspace(tmp_path / "ws", "Hollowbrook Primary School", "hollowbrook.sch.uk",
                               ["purple-mash", "ixl"])  # fmt: skip
    set_platform(workspace, "ixl", school_code='"hollowbrook"')
    set_slips_style(workspace, "per-platform")
    result = apply(workspace, roster_file)
    assert not list(workspace.outbox.glob("login-slips-*"))
    for batch in result.batches:
        pdf, xlsx = batch.slips
        assert pdf.parent == workspace.outbox / batch.platform and batch.platform in pdf.name
        rows = list(load_workbook(xlsx)["Login slips"].iter_rows(values_only=True))[1:]
        assert {r[2] for r in rows} == {workspace.connector(batch.platform).name}
        if batch.platform == "ixl":
            assert "School code" not in "".join(page.extract_text() for page in PdfReader(pdf).pages)
            assert all(r[3].endswith("@hollowbrook") for r in rows)


def test_an_unknown_slips_style_is_refused_naming_the_choices(workspace, roster_file: Path):
    set_slips_style(workspace, "one-big-sheet")
    result = Cli(workspace)("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert result.exit_code == 2
    assert "slips.style" in result.output and "per-platform" in result.output and "Traceback" not in result.output


def test_cards_fit_a4_however_many_platforms_and_long_values(tmp_path: Path):
    platforms = [f"Platform {chr(65 + n)} with a long name" for n in range(7)]
    slips = [Slip(f"Pupil{i:02d} Featherstonehaugh-Wolstenholme", "4A", p, f"{'u' * 20}{i:02d}@{'c' * 20}",
                  f"Pw{i:02d}{n}-window-kite", f"https://example.test/{'s' * 80}", "HB7Q2" if n % 2 else "",
                  forename=f"Pupil{i:02d}", surname="Featherstonehaugh-Wolstenholme", card=str(i))
             for i in range(5) for n, p in enumerate(platforms)]  # fmt: skip
    pdf, xlsx = tmp_path / "cards.pdf", tmp_path / "cards.xlsx"
    write_cards(pdf, xlsx, SCHOOL, slips)
    reader = PdfReader(pdf)
    assert len(reader.pages) == 3, "two seven-platform cards a page"
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(595.28, abs=1)
        assert float(page.mediabox.height) == pytest.approx(841.89, abs=1)
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert all(s.password in text and s.username in text for s in slips), "wrapped, never cut"


# --- a trust's batch: the cards split into files of whole classes ----------------------------


def trust_batch(classes: int, per_class: int = 30) -> list[Slip]:
    """Two platforms a child, one with a school code; made-up names, fixed-width tokens."""
    slips = []
    for n in range(classes * per_class):
        class_name, forename, surname = f"{3 + n // 120}{'ABCD'[n // 30 % 4]}", f"Kit{n:04d}", "Marrow"
        slips += [Slip(f"{forename} {surname}", class_name, PLATFORM, f"usr{n:04d}q", f"Pw{n:04d}-kite", URL,
                       forename=forename, surname=surname, card=f"mis:{n}"),
                  Slip(f"{forename} {surname}", class_name, "Bug Club", f"bug{n:04d}q", f"Bc{n:04d}-moss",
                       "https://example.test/bug", "HB7Q2", forename=forename, surname=surname,
                       card=f"mis:{n}")]  # fmt: skip
    return slips


def test_a_trust_batch_gets_a_folder_of_files_of_whole_classes_and_one_xlsx(tmp_path: Path):
    slips = trust_batch(25)  # 750 children: more than a school
    pdf, xlsx = tmp_path / "login-slips-b1.pdf", tmp_path / "login-slips-b1.xlsx"
    written = write_cards(pdf, xlsx, SCHOOL, slips)
    folder = tmp_path / "login-slips-b1"
    assert written == [folder, xlsx] and not pdf.exists()
    parts = sorted(folder.iterdir())
    assert [p.name for p in parts] == ["01 Class 3A to 7D.pdf", "02 Class 8A to 9A.pdf"]
    seen, classes_of = [], []
    for part in parts:
        pages = [page.extract_text() for page in PdfReader(part).pages]
        classes = [page_class(text) for text in pages]
        assert len(set(re.findall(r"usr(\d{4})q", "".join(pages)))) <= 600, "each file at most 600 children"
        seen += classes
        classes_of.append(set(classes))
        if files.POSIX:
            assert part.stat().st_mode & 0o777 == 0o600
    assert seen == sorted(seen, key=class_key), "in print order across the files"
    assert len(set(seen)) == 25 and not classes_of[0] & classes_of[1], "each class whole, in one file"
    text = "".join(page.extract_text() for part in parts for page in PdfReader(part).pages)
    assert all(s.password in text and s.username in text for s in slips)
    assert "School code" in text and "HB7Q2" in text
    rows = list(load_workbook(xlsx)["Login slips"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(slips)
    assert [r[4] for r in rows[1:3]] == ["Bc0000-moss", "Pw0000-kite"], "the cards' order: platforms by name"


def test_a_trust_batchs_xlsx_names_each_row_as_its_slip_does(tmp_path: Path):
    """The xlsx of a trust's batch is made from the parts sent to the drawing (one name a card):
    a child who left the roster is named from each platform's own record, and a row whose record
    names them otherwise keeps that name, as a school's batch's xlsx does."""
    slips = trust_batch(25)
    slips[1] = replace(slips[1], display_name="Kit Marrow-Lane")  # the same child's Bug Club row
    pdf, xlsx = tmp_path / "login-slips-b1.pdf", tmp_path / "login-slips-b1.xlsx"
    write_cards(pdf, xlsx, SCHOOL, slips)
    rows = list(load_workbook(xlsx)["Login slips"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(slips)
    named = {(row[1], row[2]) for row in rows if row[3] in ("usr0000q", "bug0000q")}
    assert named == {("Kit0000 Marrow", PLATFORM), ("Kit Marrow-Lane", "Bug Club")}
    assert rows[:2] == [("3A", "Kit Marrow-Lane", "Bug Club", "bug0000q", "Bc0000-moss", "https://example.test/bug",
                         "HB7Q2"), ("3A", "Kit0000 Marrow", PLATFORM, "usr0000q", "Pw0000-kite", URL, None)]  # fmt: skip


def test_a_trust_batch_drawn_again_keeps_no_file_of_the_earlier_drawing(tmp_path: Path):
    pdf, xlsx = tmp_path / "login-slips-b1.pdf", tmp_path / "login-slips-b1.xlsx"
    write_cards(pdf, xlsx, SCHOOL, trust_batch(45))
    assert len(list((tmp_path / "login-slips-b1").iterdir())) == 3
    write_cards(pdf, xlsx, SCHOOL, trust_batch(25))
    assert [p.name for p in sorted((tmp_path / "login-slips-b1").iterdir())] == [
        "01 Class 3A to 7D.pdf", "02 Class 8A to 9A.pdf"]  # fmt: skip


def test_cards_drawn_again_after_a_kill_leave_no_half_written_file(tmp_path: Path):
    # A kill part way through drawing leaves the atomic writes' dot-named files; drawing again
    # (the next apply redraws cards it owes) clears them, a trust's folder and the outbox alike.
    pdf, xlsx = tmp_path / "login-slips-b1.pdf", tmp_path / "login-slips-b1.xlsx"
    folder = tmp_path / "login-slips-b1"
    folder.mkdir()
    half_written = [folder / ".01 Class 3A to 7D.pdf.tmp-4242", tmp_path / ".login-slips-b1.xlsx.tmp-4242"]
    for path in half_written:
        path.write_bytes(b"%PDF-1.4 cut short")
    someone_elses = tmp_path / ".other.xlsx.tmp-4242"
    someone_elses.write_bytes(b"not the cards'")
    write_cards(pdf, xlsx, SCHOOL, trust_batch(25))
    assert not any(path.exists() for path in half_written)
    assert someone_elses.exists(), "only the cards' own temporaries are cleared"
    assert [p.name for p in sorted(folder.iterdir())] == ["01 Class 3A to 7D.pdf", "02 Class 8A to 9A.pdf"]


def test_a_trust_batch_drawn_on_both_cores_is_the_same_as_on_one(tmp_path: Path, monkeypatch):
    import provisioner.card_batches

    monkeypatch.setattr(provisioner.card_batches, "PART_CHILDREN", 120)  # seven parts: enough to draw in workers
    slips = trust_batch(25)
    texts = []
    for workers in (1, 2):
        monkeypatch.setattr(provisioner.card_batches, "WORKERS", workers)
        folder = tmp_path / str(workers)
        write_cards(folder / "cards.pdf", folder / "cards.xlsx", SCHOOL, slips)
        texts.append([[page.extract_text() for page in PdfReader(part).pages]
                      for part in sorted((folder / "cards").iterdir())])  # fmt: skip
    assert len(texts[0]) == 7 and texts[0] == texts[1]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [*(p.name for p in (tmp_path / "1" / "cards").iterdir()), "cards.xlsx"] * 2), "no other file"  # fmt: skip


def test_a_trust_part_that_cannot_be_written_stops_the_cards_before_their_xlsx(tmp_path: Path, monkeypatch):
    # The parts are taken from the workers that drew them and written in order: a part that
    # cannot be written fails the drawing, and the xlsx (written last, so the next apply sees
    # cards owed) is not written.
    import provisioner.card_batches

    monkeypatch.setattr(provisioner.card_batches, "PART_CHILDREN", 120)
    monkeypatch.setattr(provisioner.card_batches, "WORKERS", 2)
    pdf, xlsx = tmp_path / "cards.pdf", tmp_path / "cards.xlsx"
    (tmp_path / "cards" / "03 Class 5A to 5D.pdf").mkdir(parents=True)  # in the way of the third part
    with pytest.raises(OSError):
        write_cards(pdf, xlsx, SCHOOL, trust_batch(25))
    assert not xlsx.exists()
    assert (tmp_path / "cards" / "02 Class 4A to 4D.pdf").is_file(), "the parts before it are written"


def test_a_school_sized_batch_keeps_its_one_pdf(tmp_path: Path):
    pdf, xlsx = tmp_path / "login-slips-b1.pdf", tmp_path / "login-slips-b1.xlsx"
    assert write_cards(pdf, xlsx, SCHOOL, trust_batch(20)) == [pdf, xlsx]  # 600 children
    assert not (tmp_path / "login-slips-b1").exists()


def embedded_fonts(pdf) -> dict[str, bytes]:
    reader = PdfReader(pdf)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    return {name: font["/DescendantFonts"][0]["/FontDescriptor"]["/FontFile2"].get_data()
            for name, font in fonts.items()}  # fmt: skip


def test_every_file_of_a_trust_batch_embeds_the_same_fonts_holding_every_name_it_prints(tmp_path: Path):
    slips = trust_batch(25)
    slips[-2:] = [replace(s, display_name="Zoë Øyelowo-Ŵyn", forename="Zoë", surname="Øyelowo-Ŵyn") for s in slips[-2:]]
    pdf, xlsx = tmp_path / "login-slips-b1.pdf", tmp_path / "login-slips-b1.xlsx"
    write_cards(pdf, xlsx, SCHOOL, slips)
    first, last = sorted((tmp_path / "login-slips-b1").iterdir())
    assert embedded_fonts(first) == embedded_fonts(last), "the batch's fonts, made once"
    assert "Zoë Øyelowo-Ŵyn" in "".join(page.extract_text() for page in PdfReader(last).pages)


def test_a_card_prints_a_letter_its_batch_was_not_told_of(tmp_path: Path):
    """The fonts hold the characters the batch was counted to print; a letter drawn beyond them
    still prints (the file gets fonts of its own), never a blank or a missing glyph."""
    from provisioner.cards import cards_of, cards_pdf_bytes

    slips = [Slip("Ŵyn Ødegård", "4A", PLATFORM, "usr0001q", "Pw0001-kite", URL, forename="Ŵyn", surname="Ødegård")]
    path = tmp_path / "cards.pdf"
    path.write_bytes(cards_pdf_bytes(SCHOOL, cards_of(slips), chars=frozenset("abc")))
    text = PdfReader(path).pages[0].extract_text()
    assert "Ŵyn Ødegård" in text and "usr0001q" in text and "Pw0001-kite" in text and SCHOOL in text


def cards_as_printed(workspace, batch_id: str) -> tuple[list[tuple], dict[str, list[str]]]:
    """A batch's combined cards as the admin gets them: the xlsx's cells, and each PDF's text
    page by page (a trust's folder of parts by file name)."""
    rows = list(load_workbook(workspace.outbox / f"login-slips-{batch_id}.xlsx").active.iter_rows(values_only=True))
    single, folder = workspace.outbox / f"login-slips-{batch_id}.pdf", workspace.outbox / f"login-slips-{batch_id}"
    pdfs = sorted(folder.iterdir()) if folder.is_dir() else [single]
    return rows, {pdf.name: [page.extract_text() for page in PdfReader(pdf).pages] for pdf in pdfs}


def drawn_from_files(workspace, roster_file: Path, batch_id: str) -> dict:
    """The batch's cards drawn again from its files alone (``print_cards``, as after a crash)."""
    from provisioner.delivery import Job, print_cards
    from provisioner.planning import identity

    roster = Provisioner(workspace).read_roster(roster_file, today=TODAY)
    with workspace.open_state() as state:
        return print_cards(Job(workspace, state, TODAY, roster=identity.match(state, roster).roster), {batch_id})


@pytest.mark.parametrize("size", ["school", "trust"])
def test_the_cards_drawn_while_the_files_are_written_are_the_cards_of_the_files(tmp_path: Path, roster_file: Path,
                                                                                monkeypatch, size):  # fmt: skip
    """The apply draws its cards from the first passwords it made up front, while it writes the
    files; drawn again from the files alone, they are the same cards, passwords and all (a trust's
    here in parts of four children, gathered and drawn by a worker from the plain facts it is
    handed, a school's gathered here from the same facts)."""
    import provisioner.card_batches
    from provisioner.delivery import paperwork

    handed = []
    if size == "trust":
        monkeypatch.setattr(provisioner.card_batches, "TRUST_CHILDREN", 2)
        monkeypatch.setattr(provisioner.card_batches, "PART_CHILDREN", 4)
        monkeypatch.setattr(provisioner.card_batches, "WORKERS_FROM", 4 * (provisioner.card_batches.POOL_PARTS - 1))
        drawn_away = provisioner.card_batches.CardsDrawnAway.__init__
        monkeypatch.setattr(provisioner.card_batches.CardsDrawnAway, "__init__",
                            lambda self, *args: handed.append(args[1]) or drawn_away(self, *args))  # fmt: skip
    written_early, write = [], paperwork.EarlyCards.write
    monkeypatch.setattr(paperwork.EarlyCards, "write", lambda self, job: written_early.append(write(self, job)) or
                        written_early[-1])  # fmt: skip
    workspace = init_workspace(tmp_path / "cards", SCHOOL, "hollowbrook.sch.uk", list(COMBINED))
    set_platform(workspace, "ixl", school_code='"hollowbrook"')
    set_platform(workspace, "tt-rockstars", school_code='"HB7Q2"')
    result = apply(workspace, roster_file)
    [batch_id] = {b.batch_id for b in result.batches}
    assert len(written_early) == 1 and written_early[0], "drawn as the files were written"
    assert {b.platform: b.slips for b in result.batches} == {
        platform: paths for (_, platform), paths in written_early[0].items()}, "the answer names them"  # fmt: skip
    early = cards_as_printed(workspace, batch_id)
    if size == "trust":
        assert len(early[1]) >= provisioner.card_batches.POOL_PARTS
        [facts] = handed
        assert len(facts.platforms) == len(result.batches), "handed to the worker as plain data, a platform each"
    else:
        assert not handed, "a school's cards are gathered and drawn here"
    for path in [*workspace.outbox.glob("login-slips-*.pdf"), *workspace.outbox.glob("login-slips-*/*.pdf"),
                 *workspace.outbox.glob("login-slips-*.xlsx")]:  # fmt: skip
        path.unlink()
    assert drawn_from_files(workspace, roster_file, batch_id) == written_early[0]
    again = cards_as_printed(workspace, batch_id)
    assert early[0] == again[0], "the xlsx: every child's rows, usernames and passwords as the files hold them"
    assert early[1] == again[1], "the PDFs: the same cards, page by page"
    assert sum(len(pages) for pages in early[1].values()) > 1 and len(early[0]) > 100


def test_a_file_that_does_not_hold_the_passwords_drawn_early_gets_cards_drawn_from_the_files(
        tmp_path: Path, roster_file: Path, monkeypatch):  # fmt: skip
    """A row given no password up front gets one as its file is written: the cards drawn early
    are dropped, unwritten, and the cards drawn from the files, so every card holds its file's
    passwords."""
    from provisioner.delivery import paperwork

    first_passwords = paperwork.first_passwords

    def one_short(connectors, plan):
        made = first_passwords(connectors, plan)
        made["purple-mash"] = paperwork.FirstPasswords(list(made["purple-mash"].pairs().items())[1:])
        return made

    monkeypatch.setattr(paperwork, "first_passwords", one_short)
    written_early, write = [], paperwork.EarlyCards.write
    monkeypatch.setattr(paperwork.EarlyCards, "write", lambda self, job: written_early.append(write(self, job)) or
                        written_early[-1])  # fmt: skip
    workspace = init_workspace(tmp_path / "cards", SCHOOL, "hollowbrook.sch.uk", list(COMBINED))
    result = apply(workspace, roster_file)
    assert written_early == [None], "drawn early, then dropped"
    [batch_id] = {b.batch_id for b in result.batches}
    header, *cells = cards_as_printed(workspace, batch_id)[0]
    assert cells
    for issued in result.batches:  # each file's passwords, on its platform's rows of the cards
        name = workspace.connector(issued.platform).name
        [column] = {h for row in import_rows(issued.path) for h in row if "password" in h.lower()}
        in_file = sorted(row[column] for row in import_rows(issued.path) if row[column])
        assert sorted(row[4] for row in cells if row[2] == name) == in_file, issued.platform
