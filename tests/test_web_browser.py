"""The whole termly job in a real browser: Chromium driven by Playwright through the web
interface, served by uvicorn on a free loopback port, on a synthetic roster (made-up names).

The browser is Debian's ``chromium`` (Playwright's own download is never used); without it, or
without Playwright, these tests skip and say why. Each page is saved as a screenshot at
1366x768 into a folder the run names at its end; the pages are also drawn 683 pixels wide (a
1366-pixel screen at 200% zoom) and must not need sideways scrolling. The job's main steps (a
roster checked and applied, the cleanup carried out, an erasure typed back) are taken with the
Enter key, as from the keyboard.
"""

from __future__ import annotations

import base64
import shutil
import zipfile
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from provisioner.jobs.create import init_workspace
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.web.server import Server

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium found: the browser tests drive Debian's "
                                "chromium package (apt-get install chromium); Playwright's own is never downloaded")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
PAGES = {"home": "/", "new-roster": "/roster", "downloads": "/downloads", "leavers": "/leavers",
         "register": "/register", "pupil": "/pupil", "settings": "/settings", "audit": "/audit"}  # fmt: skip


def go_to(page, name: str) -> None:
    """Follow a link of the navigation bar."""
    page.get_by_role("navigation", name="Pages").get_by_role("link", name=name).click()


def drop(page, target: str, path) -> None:
    """Drop a file on an element, as dragging it from the file manager does."""
    files = page.evaluate_handle("""([name, data]) => {
        const transfer = new DataTransfer();
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name));
        return transfer;
    }""", [path.name, base64.b64encode(path.read_bytes()).decode()])  # fmt: skip
    page.dispatch_event(target, "drop", {"dataTransfer": files})


def named(row: dict) -> str:
    return f"{row['preferred_forename'] or row['legal_forename']} {row['legal_surname']}"


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """A workspace with Purple Mash and Times Tables Rock Stars, and two rosters: the autumn's,
    and the spring's on which two pupils have left."""
    folder = tmp_path_factory.mktemp("web")
    workspace = init_workspace(folder / "ws", "Hazel Lane Primary School", "hazel-lane.sch.uk",
                               ["purple-mash", "tt-rockstars"])  # fmt: skip
    pupils = synthetic_pupils(40, seed=5, today=date.today(), leavers=0)
    pupils = [row for row in pupils if row["year_group"] in ("1", "2", "3", "4", "5", "6")]
    autumn, spring = folder / "autumn-roster.xlsx", folder / "spring-roster.xlsx"
    write_roster_xlsx(autumn, pupils)
    left = [dict(row, leaving_date=date.today() - timedelta(days=90)) for row in pupils[:2]]
    write_roster_xlsx(spring, left + pupils[2:])
    return workspace, pupils, autumn, spring


@pytest.fixture(scope="module")
def server(school):
    running = Server(school[0].root)
    thread = running.start_in_thread()
    yield running
    running.stop()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, server):
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(server.address)
    yield tab
    context.close()


def test_the_termly_job_in_the_browser(page, school, screenshots, tmp_path):
    workspace, pupils, autumn, spring = school
    taken = []

    def shot(name: str) -> None:
        taken.append(name)
        page.screenshot(path=screenshots / f"{len(taken):02d}-{name}.png")

    assert page.url.endswith("/"), "the token leaves the address once it is a cookie"
    expect = sync_api.expect
    expect.set_options(timeout=30_000)  # a check waits as long as the page's actions do: a busy machine is slow, not wrong
    expect(page.get_by_role("heading", level=1)).to_have_text("Hazel Lane Primary School")
    shot("home")

    # A new roster: choose the file, see the check, then the plan with names.
    go_to(page, "New roster")
    shot("new-roster")
    drop(page, "form[data-drop]", autumn)
    page.get_by_role("button", name="Check it").press("Enter")  # the main steps from the keyboard too
    expect(page.locator("p.lead")).to_contain_text(f"{len(pupils)} pupils read")
    shot("roster-check")
    page.get_by_role("button", name="See what each platform would be sent").click()
    expect(page.get_by_role("cell", name=named(pupils[0]), exact=True).first).to_be_visible()
    shot("plan")
    page.get_by_label("Show pupils whose name or class contains").fill(pupils[3]["legal_surname"])
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name=named(pupils[3]), exact=True).first).to_be_visible()

    # Apply, with its progress, then the files.
    page.get_by_role("button", name="Apply this plan").press("Enter")
    expect(page.get_by_text("Done.")).to_be_visible()
    shot("applied")
    with page.expect_download() as download:
        page.locator("a[href$='.pdf']").first.click()
    slips = tmp_path / "slips.pdf"
    download.value.save_as(slips)
    text = "".join(p.extract_text() for p in PdfReader(slips).pages)
    assert pupils[0]["legal_surname"] in text

    # Downloads: the admin uploads each file, then says so.
    go_to(page, "Downloads")
    shot("downloads")
    page.get_by_role("button", name="I have uploaded this").first.click()
    expect(page.locator(".notes")).to_contain_text("recorded as uploaded")
    while page.get_by_role("button", name="I have uploaded this").count():
        page.get_by_role("button", name="I have uploaded this").first.click()
    expect(page.get_by_text("Nothing waits to be uploaded or deleted")).to_be_visible()

    # The slips are handed out: delete them, after a page naming each file.
    page.get_by_role("link", name="Delete the login slips").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delete the login slips")
    shot("delete-slips")
    page.get_by_role("button", name="Delete these").click()
    expect(page.locator(".notes")).to_contain_text("Deleted the login slips")
    assert not list(workspace.outbox.glob("login-slips-*"))

    # The leaver cleanup from the spring roster: the two leavers by name, then their deletion list.
    go_to(page, "Leavers")
    page.get_by_label("The roster exported from your MIS").set_input_files(spring)
    page.get_by_role("button", name="Check it").click()
    expect(page.get_by_role("cell", name=named(pupils[0]), exact=True).first).to_be_visible()
    expect(page.get_by_role("cell", name=named(pupils[1]), exact=True).first).to_be_visible()
    shot("leavers")
    page.get_by_role("button", name="Carry out this cleanup").press("Enter")
    expect(page.get_by_text("Done.")).to_be_visible()
    shot("leavers-done")
    go_to(page, "Downloads")
    while page.get_by_role("button", name="I have deleted these").count():
        page.get_by_role("button", name="I have deleted these").first.click()
        expect(page.locator(".notes")).to_contain_text("recorded as deleted")

    # The register: one gap filled from its form.
    go_to(page, "Register")
    shot("register")
    gap = page.locator("form.gap input[name=value]").first
    gap.fill("Servers in the United Kingdom")
    page.locator("form.gap button").first.click()
    expect(page.locator(".notes")).to_contain_text("Saved")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the letters (zip)").click()
    assert download.value.suggested_filename.startswith("questions-for-suppliers-")
    with zipfile.ZipFile(download.value.path()) as letters:
        assert "questions-for-purple-mash.docx" in letters.namelist()

    # A pupil: what is held, then an erasure that names the child and asks for the name.
    child = pupils[5]
    go_to(page, "A pupil")
    page.get_by_label("Name, MIS id (admission number) or UPN").fill(child["mis_id"])
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(named(child))
    shot("pupil")
    page.get_by_role("link", name="Erase this pupil from every platform").click()
    expect(page.locator(".problem")).to_contain_text(f"Erase {named(child)}")
    shot("erase")
    page.get_by_label(f"To go ahead, type {named(child)}'s name or id").fill(named(child))
    page.keyboard.press("Enter")  # typed, then Enter, as in any form
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Erasure recorded for {named(child)}")
    shot("erased")

    # Settings: a platform switched on, written back to provisioner.toml.
    go_to(page, "Settings")
    shot("settings")
    page.get_by_label("Make and keep accounts on IXL").check()
    page.get_by_role("button", name="Save IXL").click()
    expect(page.locator(".notes")).to_contain_text("Saved IXL")
    assert "enabled = true" in workspace.settings_path.read_text(encoding="utf-8").split("[platforms.ixl]")[1][:400]
    go_to(page, "Home")
    shot("home-after-the-job")

    # The audit log: checked against the head the Home page printed, as one kept on paper is.
    head = page.locator("p", has_text="Its head, to keep with the register").locator("strong").inner_text()
    page.get_by_role("link", name="Check the log against a head you kept").click()
    page.get_by_label("A head kept before").fill(head)
    page.get_by_role("button", name="Check the log against it").click()
    expect(page.locator("p.good")).to_contain_text(f"it passes through the head {head} you gave")
    shot("audit")


def test_the_pages_work_from_the_keyboard_and_at_200_percent(page, server, school):
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Home"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/roster")
    page.set_viewport_size({"width": 683, "height": 384})  # a 1366-pixel screen at 200% zoom
    for name, url in PAGES.items():
        page.goto(server.address.split("/?")[0] + url)
        readable_at_200_percent(page, name)
    # The pages a roster leads to, with every pupil listed: its check, the plan and the cleanup.
    page.goto(server.address.split("/?")[0] + "/roster")
    page.get_by_label("The roster exported from your MIS").set_input_files(school[3])
    page.get_by_role("button", name="Check it").click()
    page.wait_for_url("**/roster/spring-roster.xlsx")
    readable_at_200_percent(page, "roster check")
    for name, url in (("plan", "/plan/spring-roster.xlsx"), ("leaver cleanup", "/leavers/spring-roster.xlsx")):
        page.goto(server.address.split("/?")[0] + url)
        readable_at_200_percent(page, name)


def readable_at_200_percent(page, name: str) -> None:
    """No sideways scrolling of the page (a wide table scrolls in its own box), and every field labelled."""
    wide = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not wide, f"the {name} page needs sideways scrolling at 200% zoom"
    unlabelled = page.evaluate("""[...document.querySelectorAll('input:not([type=hidden]), select')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)""")
    assert unlabelled == [], f"fields without a label on the {name} page: {unlabelled}"
