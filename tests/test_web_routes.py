"""The web interface's pages and refusals, through Starlette's test client on a real workspace
(a real SQLite state, real roster files written by the test, the real import files and slips).

Who may use it (a token, a loopback Host, a CSRF token on every form that changes something)
is tested first; then the termly job as the admin does it from the pages. Every name is made up.
"""

from __future__ import annotations

import contextlib
import html
import http.cookiejar
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from datetime import date, timedelta
from pathlib import Path

import docx
import pytest
from conftest import approve_register, set_platform
from roster_helpers import pupil, write_csv
from starlette.routing import Route
from starlette.testclient import TestClient

from provisioner.errors import GuardRefused, UsageError
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.web.app import create_app
from provisioner.web.security import COOKIE, Tokens, check_bind
from provisioner.web.tasks import Task
from provisioner.workspace import Workspace

PAGES = ["/", "/roster", "/downloads", "/leavers", "/register", "/pupil", "/settings", "/audit"]
LOOPBACK = "http://127.0.0.1"


@pytest.fixture
def school(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws", "Test Primary School", "test.sch.uk", ["purple-mash"])


@pytest.fixture
def pupils() -> list[dict]:
    return synthetic_pupils(40, seed=11, today=date.today(), leavers=0)


@pytest.fixture
def roster(tmp_path: Path, pupils: list[dict]) -> Path:
    path = tmp_path / "autumn roster.xlsx"
    write_roster_xlsx(path, pupils)
    return path


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def browser(school: Workspace, tokens: Tokens) -> TestClient:
    """A client signed in as the admin is: by the address with the token, then the cookie."""
    client = TestClient(create_app(school.root, tokens), base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}")
    return client


def named(pupil_row: dict) -> str:
    return f"{pupil_row['preferred_forename'] or pupil_row['legal_forename']} {pupil_row['legal_surname']}"


def choose(browser: TestClient, tokens: Tokens, path: Path, then: str = "roster") -> str:
    """Choose a roster file in the form; the address of the page it leads to."""
    answer = browser.post("/roster", data={"csrf": tokens.csrf, "then": then},
                          files={"roster": (path.name, path.read_bytes())}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def finished(browser: TestClient, location: str) -> str:
    """The task's page once its work has ended (it reloads itself while working)."""
    for _ in range(600):
        page = browser.get(location).text
        if "Working." not in page:
            return page
        time.sleep(0.05)
    raise AssertionError("the task did not end")


def words(page: str) -> str:
    """A page's text as the person reads it (quotes and ampersands unescaped)."""
    return html.unescape(page)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


# Who may use it


@pytest.mark.parametrize("url", PAGES)
def test_every_page_is_refused_without_the_token(school, tokens, url):
    client = TestClient(create_app(school.root, tokens), base_url=LOOPBACK)
    answer = client.get(url)
    assert answer.status_code == 403
    assert "Open the address that provisioner serve printed" in answer.text
    assert school.settings.school.name not in answer.text


def test_a_wrong_token_is_refused(school, tokens):
    client = TestClient(create_app(school.root, tokens), base_url=LOOPBACK)
    assert client.get("/?token=not-the-token").status_code == 403
    client.cookies.set(COOKIE, "not-the-token")
    assert client.get("/").status_code == 403


def test_the_token_in_the_address_becomes_a_strict_httponly_cookie_and_leaves_the_address(school, tokens):
    client = TestClient(create_app(school.root, tokens), base_url=LOOPBACK)
    answer = client.get(f"/register?token={tokens.session}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/register"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}={tokens.session}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/register").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "192.168.1.20:8000", "127.0.0.1.nip.io"])
def test_a_host_other_than_the_loopback_address_is_refused(browser, host):
    """DNS rebinding: another site's name pointed at 127.0.0.1 gets nothing, even with the cookie."""
    answer = browser.get("/", headers={"host": host})
    assert answer.status_code == 421
    assert "Test Primary School" not in answer.text


@pytest.mark.parametrize("host", ["127.0.0.1:8123", "localhost:8123", "[::1]:8123"])
def test_the_loopback_names_are_let_in(browser, host):
    assert browser.get("/", headers={"host": host}).status_code == 200


def addresses(methods: set[str]) -> list[tuple[str, str]]:
    """Every address of the routes table answering one of ``methods``, with each part it names
    filled in (a roster's name, a platform, a batch...): a route added later is covered too."""
    app = create_app(Path("unused"), Tokens()).app
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) & methods):
                found.append((method, re.sub(r"\{(\w+)(:\w+)?\}", "purple-mash", route.path)))
    return found


@pytest.mark.parametrize(("method", "url"), addresses({"GET", "POST"}) + [("GET", "/static/style.css")])
def test_every_address_is_refused_without_the_token_and_changes_nothing(school, tokens, method, url):
    before = [(path, path.read_bytes()) for path in sorted(school.root.rglob("*")) if path.is_file()]
    client = TestClient(create_app(school.root, tokens), base_url=LOOPBACK)
    answer = client.request(method, url, data={"csrf": tokens.csrf} if method == "POST" else None,
                            follow_redirects=False)  # fmt: skip
    assert answer.status_code == 403
    assert "Open the address that provisioner serve printed" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert [(path, path.read_bytes()) for path in sorted(school.root.rglob("*")) if path.is_file()] == before


@pytest.mark.parametrize(("method", "url"), [found for found in addresses({"POST"}) if found[1] != "/setup"])
def test_every_form_is_refused_without_its_csrf_token(browser, school, method, url):
    """Each address a form sends to, listed from the routes table, with the fields its form would
    carry but no CSRF token (then a guessed one): refused, and no file of the workspace changed."""
    before = [(path, path.read_bytes()) for path in sorted(school.root.rglob("*")) if path.is_file()]
    fields = {"platform": "purple-mash", "what": "uploaded", "entry": "purple-mash", "by": "Someone", "q": "001001",
              "typed": "001001", "value": "Servers in the United Kingdom", "format": "pdf", "classes": "1A"}
    for csrf in ({}, {"csrf": "a-guess"}):
        answer = browser.post(url, data=fields | csrf, follow_redirects=False)
        assert answer.status_code == 403, url
        assert "did not come from this interface" in answer.text
    assert [(path, path.read_bytes()) for path in sorted(school.root.rglob("*")) if path.is_file()] == before


def test_the_new_workspace_form_is_refused_without_its_csrf_token(tmp_path, tokens):
    root = tmp_path / "new school"
    client = TestClient(create_app(root, tokens), base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}", follow_redirects=False)
    answer = client.post("/setup", data={"school": "Willow Brook Primary", "domain": "willowbrook.sch.uk",
                                         "platforms": ["purple-mash"], "approved_by": "Pat Admin"})  # fmt: skip
    assert answer.status_code == 403 and "did not come from this interface" in answer.text
    assert not root.exists() or not any(root.iterdir())


def test_a_roster_sent_without_the_csrf_token_is_not_kept(browser, school, roster):
    answer = browser.post("/roster", files={"roster": (roster.name, roster.read_bytes())})
    assert answer.status_code == 403
    assert not school.uploads.exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.sch.uk"])
def test_listening_beyond_this_computer_is_refused(host):
    with pytest.raises(UsageError, match="this computer only"):
        check_bind(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_may_be_listened_on(host):
    check_bind(host)


def test_serve_refuses_a_public_address_before_listening(cli):
    result = cli("serve", "--host", "0.0.0.0", "--no-browser")
    assert result.exit_code != 0
    assert "listens on this computer only" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("url", PAGES)
def test_every_page_answers_and_is_never_cached(browser, url):
    answer = browser.get(url)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert 'lang="en"' in answer.text and "<title>" in answer.text


def test_nothing_is_loaded_from_outside_the_machine(browser):
    package = Path(__import__("provisioner.web", fromlist=["x"]).__file__).parent
    for path in [*package.glob("templates/*.html"), *package.glob("static/*")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path.name
        assert "@import" not in text and "url(http" not in text, path.name
    assert browser.get("/static/style.css").status_code == 200


def test_only_the_outbox_and_reports_are_handed_out(browser, school):
    for asked in ("school-secret.key", "state.sqlite3", "provisioner.toml", "outbox/../school-secret.key",
                  "outbox/%2e%2e/school-secret.key", "/etc/passwd"):  # fmt: skip
        answer = browser.get(f"/files/{asked}")
        assert answer.status_code == 400, asked
        assert "not a file of the outbox or the reports folder" in answer.text


def test_the_stop_button_stops_the_server(school, tokens):
    stopped = []
    client = TestClient(create_app(school.root, tokens, stop=lambda: stopped.append(True)), base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}")
    page = client.post("/stop", data={"csrf": tokens.csrf})
    assert stopped == [True]
    assert "The interface has stopped" in page.text


# The termly job from the pages


def test_a_roster_with_errors_shows_each_row_column_and_what_to_fix(browser, tokens, school, tmp_path):
    path = write_csv(tmp_path / "roster.csv", [
        pupil(adno="001001", upn="B801200005001", forename="Maisie", surname="Thornbury"),
        pupil(adno="001002", upn="C823201718001", forename="Tobias", surname="Fenwick", dob="31/02/2018"),
        pupil(adno="001003", upn="R823201718002", forename="Ines", surname="Aldous", dob="not a date"),
    ])  # fmt: skip
    page = browser.get(choose(browser, tokens, path)).text
    assert "2 error(s) in 2 row(s)" in page
    assert "Date of Birth" in page
    assert "row 3" in page and "there is no such date" in page
    assert "row 4" in page and "not a date this tool can read" in page
    assert "Leave out the rows with errors" in page
    plan = browser.get("/plan/roster.csv")
    assert plan.status_code == 400
    assert "The roster has 2 problem(s) in 2 row(s)" in plan.text
    assert "Leave out the rows with errors" in words(plan.text) and "--skip-invalid-rows" not in plan.text
    assert "Traceback" not in plan.text
    plan = browser.get("/plan/roster.csv?skip_invalid_rows=on")
    assert plan.status_code == 200 and "Maisie Thornbury" in plan.text and "Left out 2 row(s)" in plan.text


def test_a_file_that_is_not_a_roster_is_refused_in_words(browser, tokens, school, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")
    answer = browser.post("/roster", data={"csrf": tokens.csrf}, files={"roster": (path.name, b"hello")})
    assert answer.status_code == 400
    assert "'notes.txt' is not an xlsx or csv file" in words(answer.text)
    assert not school.uploads.exists() or not any(school.uploads.iterdir())


def test_roster_plan_apply_download_and_confirm(browser, tokens, school, roster, pupils):
    location = choose(browser, tokens, roster)
    assert location == "/roster/autumn%20roster.xlsx"
    check = browser.get(location).text
    assert "40 pupils read" in check and "No errors." in check
    assert re.search(r"<title>Roster check · [^<]*</title>", check), "the window's title is words, not a form"
    assert [p.name for p in school.uploads.iterdir()] == ["autumn roster.xlsx"]  # kept in the workspace only

    answer = browser.get("/plan/autumn roster.xlsx")
    assert answer.headers["cache-control"] == "no-store", "every pupil's name is on it"
    plan = words(answer.text)
    for row in pupils[:5]:
        assert named(row) in plan
    assert "new account" in plan
    assert "built-in method" not in plan and "Undefined" not in plan
    assert "the login slips leave it out until it is set." in plan and 'href="/settings#purple-mash"' in plan
    assert "provisioner.toml" not in plan, "the page names the Settings page, not the file's keys"
    filtered = words(browser.get("/plan/autumn roster.xlsx", params={"q": pupils[0]["legal_surname"]}).text)
    assert named(pupils[0]) in filtered
    assert all(named(row) not in filtered for row in pupils if row["legal_surname"] != pupils[0]["legal_surname"]
               and row["class_name"] != pupils[0]["legal_surname"])  # fmt: skip

    seen = re.search(r'name="seen" value="([^"]+)"', plan).group(1)
    started = browser.post("/plan/autumn roster.xlsx/apply", data={"csrf": tokens.csrf, "seen": seen},
                           follow_redirects=False)  # fmt: skip
    assert started.status_code == 303
    done = finished(browser, started.headers["location"])
    assert "Done." in done
    assert browser.get(started.headers["location"]).headers["cache-control"] == "no-store"
    csv_name = re.search(r'href="/files/(outbox/purple-mash/[^"]+\.csv)"', done).group(1)
    slips = re.search(r'href="/files/(outbox/login-slips-[^"]+\.pdf)"', done).group(1)
    assert "The slips hold first passwords" in done
    imported = browser.get(f"/files/{csv_name}")
    assert imported.status_code == 200 and imported.headers["cache-control"] == "no-store"
    assert pupils[0]["legal_surname"] in imported.content.decode("utf-8-sig")
    assert browser.get(f"/files/{slips}").content.startswith(b"%PDF")

    downloads = browser.get("/downloads").text
    assert "I have uploaded this" in downloads and "then delete them here" in downloads
    batch = re.search(r'name="batch" value="([^"]+)"', downloads).group(1)
    confirmed = browser.post("/confirm", data={"csrf": tokens.csrf, "platform": "purple-mash", "batch": batch,
                                               "what": "uploaded"}).text  # fmt: skip
    assert f"{csv_name} recorded as uploaded" in confirmed
    assert Provisioner(school).status()["platforms"]["purple-mash"]["accounts"] == {"active": 40}
    assert "Nothing waits to be uploaded or deleted" in browser.get("/downloads").text


def test_apply_goes_ahead_only_on_the_plan_the_page_showed(browser, tokens, school, roster):
    choose(browser, tokens, roster)
    started = browser.post("/plan/autumn roster.xlsx/apply", data={"csrf": tokens.csrf, "seen": "an-older-plan"},
                           follow_redirects=False)  # fmt: skip
    page = finished(browser, started.headers["location"])
    assert "the plan changed since the page showed it; nothing was changed" in page
    assert Provisioner(school).status()["platforms"]["purple-mash"]["accounts"] == {}


def test_the_leaver_cleanup_names_the_leavers_and_writes_their_deletion_list(browser, tokens, school, tmp_path, pupils,
                                                                             monkeypatch):
    first = tmp_path / "first.xlsx"
    write_roster_xlsx(first, pupils)
    Provisioner(school).apply(first, confirm=lambda plan: True)
    Provisioner(school).confirm_uploaded("purple-mash")
    left = [dict(row, leaving_date=date.today() - timedelta(days=90)) for row in pupils[:2]]
    later = tmp_path / "spring.xlsx"
    write_roster_xlsx(later, left + pupils[2:])

    page = browser.get(choose(browser, tokens, later, then="leavers")).text
    assert named(pupils[0]) in page and named(pupils[1]) in page
    assert "left (leaving date passed)" in page
    refused = browser.post("/leavers/spring.xlsx/apply", data={"csrf": tokens.csrf, "seen": "an-older-cleanup"},
                           follow_redirects=False)  # fmt: skip
    assert "the cleanup changed since the page showed it; nothing was changed" in finished(browser,
                                                                                          refused.headers["location"])
    filtered = words(browser.get("/leavers/spring.xlsx", params={"q": pupils[1]["legal_surname"]}).text)
    assert named(pupils[1]) in filtered and "matching the filter" in filtered
    seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
    # Held where the cleanup reports a platform begun, to look at its page meanwhile.
    begun, release, report = threading.Event(), threading.Event(), Task.report

    def held(task, platform, done, total):
        report(task, platform, done, total)
        if done == 0:
            begun.set()
            release.wait(10)

    monkeypatch.setattr(Task, "report", held)
    started = browser.post("/leavers/spring.xlsx/apply", data={"csrf": tokens.csrf, "seen": seen},
                           follow_redirects=False)  # fmt: skip
    assert begun.wait(10)
    working = browser.get(started.headers["location"]).text
    assert "Purple Mash: 0 of 2" in working and 'http-equiv="refresh"' in working
    release.set()
    done = finished(browser, started.headers["location"])
    assert "delete the 2 account(s) listed" in done
    downloads = browser.get("/downloads").text
    assert "I have deleted these" in downloads
    batch = re.findall(r'name="batch" value="([^"]+)"', downloads)[-1]
    browser.post("/confirm", data={"csrf": tokens.csrf, "platform": "purple-mash", "batch": batch, "what": "deleted"})
    assert Provisioner(school).status()["platforms"]["purple-mash"]["accounts"] == {"active": 38, "deleted": 2}


def test_the_guard_refusal_is_explained_with_its_choice(browser, tokens, school, tmp_path, pupils):
    first = tmp_path / "first.xlsx"
    write_roster_xlsx(first, pupils)
    Provisioner(school).apply(first, confirm=lambda plan: True)
    one_class = tmp_path / "one class.xlsx"
    write_roster_xlsx(one_class, pupils[:5])
    page = browser.get(choose(browser, tokens, one_class, then="leavers")).text
    assert "The cleanup would stop" in page
    assert "Carry out this cleanup" not in page
    assert "I have checked: these pupils really left" in page
    allowed = browser.get("/leavers/one class.xlsx", params={"allow_large_cleanup": "on"}).text
    assert "The cleanup would stop" not in allowed


def test_register_gap_filled_from_its_form(browser, tokens, school):
    page = browser.get("/register").text
    entry, key = re.search(r'name="entry" value="([^"]+)"><input type="hidden" name="key" value="([^"]+)"', page).groups()
    after = browser.post("/register/set", data={"csrf": tokens.csrf, "entry": entry, "key": key,
                                                "value": "Servers in the United Kingdom (London)"}).text  # fmt: skip
    assert f"Saved {key} for" in after
    written = (school.root / "registers" / f"{entry}.toml").read_text(encoding="utf-8")
    assert "Servers in the United Kingdom (London)" in written


def test_register_exported_for_the_governors(browser, tokens, school):
    browser.post("/register/export", data={"csrf": tokens.csrf, "format": "pdf"})
    page = browser.get("/register").text
    name = re.search(r'href="/files/(reports/[^"]+\.pdf)"', page).group(1)
    assert browser.get(f"/files/{name}").content.startswith(b"%PDF")


def test_pupil_access_and_erasure_that_names_the_child(browser, tokens, school, roster, pupils):
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    child = pupils[4]
    page = browser.get("/pupil", params={"q": child["mis_id"]}).text
    assert named(child) in page and "Purple Mash" in page
    pdf = browser.get("/pupil/report.pdf", params={"q": child["mis_id"]})
    assert pdf.content.startswith(b"%PDF") and pdf.headers["cache-control"] == "no-store"

    question = browser.get("/pupil/erase", params={"q": child["mis_id"]}).text
    assert f"Erase {named(child)}" in question
    assert f"type {named(child)}" in question
    wrong = browser.post("/pupil/erase", data={"csrf": tokens.csrf, "q": child["mis_id"], "typed": "Someone Else"})
    assert wrong.status_code == 400 and "is not the name or id asked for" in wrong.text
    assert not Provisioner(school).pupil_report(child["mis_id"])["erasure_requested"]
    done = browser.post("/pupil/erase", data={"csrf": tokens.csrf, "q": child["mis_id"], "typed": named(child)}).text
    assert f"Erasure recorded for {named(child)}" in done
    letter = re.search(r'href="(/letters/[^"]+)"', done).group(1)
    answer = browser.get(letter)
    assert answer.content.startswith(b"%PDF") and answer.headers["cache-control"] == "no-store"
    assert browser.get("/pupil", params={"q": child["mis_id"]}).headers["cache-control"] == "no-store"
    assert Provisioner(school).pupil_report(child["mis_id"])["erasure_requested"]


def test_a_name_several_pupils_share_is_answered_beside_the_search(browser, school, tmp_path, pupils):
    twins = [dict(pupils[0]), dict(pupils[1], preferred_forename=pupils[0]["preferred_forename"],
                                   legal_forename=pupils[0]["legal_forename"], legal_surname=pupils[0]["legal_surname"])]
    path = tmp_path / "twins.xlsx"
    write_roster_xlsx(path, twins)
    Provisioner(school).apply(path, confirm=lambda plan: True)
    page = browser.get("/pupil", params={"q": pupils[0]["legal_surname"]})
    assert page.status_code == 200
    assert "give the id of the one you mean" in page.text.lower()


def test_settings_saved_keep_the_files_comments_and_are_checked(browser, tokens, school):
    before = school.settings_path.read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.startswith("#")]
    page = browser.get("/settings").text
    assert 'id="ixl-enabled"' in page and "never shown or kept here" in page
    notes = browser.post("/settings/ixl", data={"csrf": csrf_of(page), "enabled": "on", "year_groups": "3, 4, 5, 6",
                                                "school_code": "testprimary"}).text  # fmt: skip
    after = school.settings_path.read_text(encoding="utf-8")
    assert [line for line in after.splitlines() if line.startswith("#")] == comments
    ixl = tomllib.loads(after)["platforms"]["ixl"]
    assert ixl["enabled"] is True and ixl["year_groups"] == ["3", "4", "5", "6"] and ixl["school_code"] == "testprimary"
    assert "Saved IXL" in notes and "approve it on the Register page" in notes

    refused = browser.post("/settings/ixl", data={"csrf": tokens.csrf, "enabled": "on", "year_groups": "3, Z9"})
    assert refused.status_code == 400
    assert "'Z9' is not a year group" in words(refused.text) and "Traceback" not in refused.text
    assert school.settings_path.read_text(encoding="utf-8") == after


def test_home_says_what_to_do_next(browser, tokens, school, roster):
    first = browser.get("/").text
    assert "choose the roster exported from your MIS" in first
    assert re.search(r"<td>never</td>\s*</tr>", first), "no platform has been changed yet"
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    home = browser.get("/").text
    # Each platform's last change: when (the school's clock, in words) and by which command.
    assert re.search(r"<td>\d{1,2} \w+ \d{4}, \d\d:\d\d<br><span class=\"small\">apply</span></td>", home)
    assert "1 file(s) wait to be uploaded" in home
    assert "40 issued, not yet uploaded" in home
    assert "the chain intact" in home
    with school.open_state() as state:
        assert state.audit_head().text in home, "the head to keep with the register"


def test_a_platform_export_checked_against_the_accounts(browser, tokens, school, roster, pupils):
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    Provisioner(school).confirm_uploaded("purple-mash")
    export = "First name,Last name,Class,Username\r\nZebedee,Quarrington,3A,zebedeeq\r\n".encode()
    page = browser.post("/reconcile/purple-mash", data={"csrf": tokens.csrf},
                        files={"export": ("purple mash pupils.csv", export)}).text  # fmt: skip
    assert "In the export but not made by this tool" in page and "Zebedee Quarrington" in page
    assert "Held by the tool as in use but not in the export: 40" in page
    assert [p.name for p in (school.uploads / "exports").iterdir()] == ["purple-mash-export.csv"]


def test_password_resets_asked_for_a_class_and_refused_where_the_platform_cannot_take_them(browser, tokens, school,
                                                                                          roster):  # fmt: skip
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    choose(browser, tokens, roster)
    refused = browser.post("/reset/autumn roster.xlsx", data={"csrf": tokens.csrf, "platform": "purple-mash",
                                                              "classes": "3A"})  # fmt: skip
    assert refused.status_code == 400
    assert "Purple Mash does not take new passwords through its import" in words(refused.text)
    empty = browser.post("/reset/autumn roster.xlsx", data={"csrf": tokens.csrf, "platform": "purple-mash"})
    assert empty.status_code == 400 and "Name a class or a pupil" in empty.text


def test_a_draft_dpia_written_for_a_platform(browser, tokens, school):
    page = browser.post("/register/dpia", data={"csrf": tokens.csrf, "platform": "purple-mash", "format": "docx"}).text
    assert "'To decide'" in words(page)
    name = re.search(r'href="/files/(reports/[^"]+\.docx)"', page).group(1)
    assert browser.get(f"/files/{name}").content.startswith(b"PK")


def test_an_erasure_request_lifted_from_the_pupil_page(browser, tokens, school, roster, pupils):
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    child = pupils[2]
    browser.post("/pupil/erase", data={"csrf": tokens.csrf, "q": child["mis_id"], "typed": child["mis_id"]})
    page = browser.get("/pupil", params={"q": child["mis_id"]}).text
    assert "Lift the erasure request" in page
    lifted = browser.post("/pupil/allow", data={"csrf": tokens.csrf, "q": child["mis_id"]}).text
    assert f"Lifted the erasure request for {named(child)}" in lifted


def test_long_work_shows_its_progress_and_survives_a_reload(school, tokens):
    """The task lives in the server: each load of its page shows how far each platform has got."""
    guard = create_app(school.root, tokens)
    client = TestClient(guard, base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}")
    release, reported = threading.Event(), threading.Event()

    def work(progress):
        progress("purple-mash", 3, 10)
        reported.set()
        release.wait()
        raise GuardRefused("the roster was taken away", hint="choose it again")

    task = guard.app.state.tasks.start("apply", "Applying the roster", work)
    assert reported.wait(10)
    for _ in range(2):  # a reload shows the same work, still going
        page = client.get(f"/tasks/{task.id}").text
        assert "Purple Mash: 3 of 10" in page and '<progress id="p-purple-mash" max="10" value="3">' in page
        assert 'http-equiv="refresh"' in page
    release.set()
    page = finished(client, f"/tasks/{task.id}")
    assert "Stopped: the roster was taken away." in page and "Next: choose it again." in page
    assert 'http-equiv="refresh"' not in page
    assert client.get("/tasks/no-such-task").status_code == 404


@contextlib.contextmanager
def served(school: Workspace):
    """`provisioner serve` as a person runs it: (its process, the address it printed, an opener
    keeping cookies as a browser does); ended at the close if the test did not end it."""
    server = subprocess.Popen([sys.executable, "-m", "provisioner", "serve", "--no-browser", "--workspace",
                               str(school.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        address = next(line.strip() for line in server.stdout if line.strip().startswith("http://127.0.0.1:"))
        yield server, address, urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


def test_serve_prints_the_address_that_lets_the_admin_in_and_stops_on_ctrl_c(school):
    """`provisioner serve` as a person runs it: the address it prints opens the Home page (the
    token becomes a cookie), the same page without the token is refused, and Ctrl-C stops it
    cleanly: it says so, and the address answers no more."""
    with served(school) as (server, address, opener):
        with opener.open(address) as answer:
            assert answer.status == 200 and "Test Primary School" in answer.read().decode()
            assert answer.url == address.split("?")[0], "the token leaves the address"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(address.split("?")[0])
        assert refused.value.code == 403
        server.send_signal(signal.SIGINT)  # Ctrl-C in the terminal it runs in
        assert server.wait(timeout=30) == 0
        said = server.stderr.read()
        assert "Stopped." in said and "Traceback" not in said
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(address.split("?")[0], timeout=5)


def test_serve_stopped_with_an_apply_under_way_says_it_did_not_finish(school, monkeypatch):
    """Ctrl-C stops the interface at once, even mid-apply (the Stop button waits instead): the
    apply ends part way, as a killed command does, and the admin is told so and what to do."""
    from typer.testing import CliRunner

    from provisioner.cli import app
    from provisioner.web.server import Server

    under_way = threading.Event()

    def run_until_ctrl_c(server, on_ready, open_browser=False):
        # uvicorn's serving stood in for: an apply is started from a page, then Ctrl-C ends the serving
        on_ready(server.address)
        server.app.app.state.tasks.start("apply", "Applying the roster", lambda progress: under_way.wait(30))

    monkeypatch.setattr(Server, "run", run_until_ctrl_c)
    try:
        result = CliRunner().invoke(app, ["serve", "--no-browser", "--workspace", str(school.root)])
    finally:
        under_way.set()
    assert result.exit_code == 130, result.output
    assert "the interface stopped while applying the roster: that did not finish" in result.output
    assert "do it again with the same roster" in result.output and "Traceback" not in result.output


def test_the_stop_button_waits_for_work_under_way(school, tokens):
    stopped, release = [], threading.Event()
    guard = create_app(school.root, tokens, stop=lambda: stopped.append(True))
    client = TestClient(guard, base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}")
    task = guard.app.state.tasks.start("apply", "Applying the roster", lambda progress: release.wait(10))
    refused = client.post("/stop", data={"csrf": tokens.csrf})
    assert refused.status_code == 409 and stopped == []
    assert "Applying the roster is still under way" in refused.text and "Wait until its page says Done" in refused.text
    release.set()
    for _ in range(600):
        if not guard.app.state.tasks.running():
            break
        time.sleep(0.05)
    assert task.state == "done"
    assert "The interface has stopped" in client.post("/stop", data={"csrf": tokens.csrf}).text
    assert stopped == [True]


def test_the_stop_button_ends_the_running_server(school):
    """The page's Stop button on a real `provisioner serve`: the process ends by itself, saying so."""
    with served(school) as (server, address, opener):
        with opener.open(address) as answer:
            csrf = csrf_of(answer.read().decode())
        base = address.split("/?")[0]
        with opener.open(f"{base}/stop", data=f"csrf={csrf}".encode()) as answer:
            assert "The interface has stopped" in answer.read().decode()
        assert server.wait(timeout=30) == 0
        said = server.stderr.read()
        assert "Stopped." in said and "Traceback" not in said


def test_a_large_roster_is_never_written_outside_the_workspace(browser, tokens, school, tmp_path, monkeypatch):
    """Past 1 MB Starlette would spool an upload to the system's temporary folder; a roster holds
    every pupil's data, so it stays in memory until it is kept in the workspace."""
    import starlette.formparsers

    spooled = []

    class Watched(starlette.formparsers.SpooledTemporaryFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            spooled.append(self)

    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", Watched)
    rows = [pupil(adno=f"{9000 + i:06d}", upn="", forename="Maisie", surname=f"Thornbury{i:05d}") for i in range(30000)]
    path = write_csv(tmp_path / "big roster.csv", rows)
    assert path.stat().st_size > 1024 * 1024
    choose(browser, tokens, path)
    assert spooled and not any(f._rolled for f in spooled)
    assert (school.uploads / "big roster.csv").read_bytes() == path.read_bytes()


def test_the_plan_lists_by_name_the_pupils_a_platform_does_not_serve(browser, tokens, school, roster, pupils):
    set_platform(school, "purple-mash", year_groups='["3", "4"]')
    choose(browser, tokens, roster)
    page = words(browser.get("/plan/autumn roster.xlsx", params={"action": "outside"}).text)
    outside = [row for row in pupils if row["year_group"] not in ("3", "4")]
    inside = [row for row in pupils if row["year_group"] in ("3", "4")]
    assert outside and inside
    assert all(named(row) in page for row in outside)
    assert not any(named(row) in page for row in inside)
    assert "on roll, outside the year groups or classes it serves" in page


def test_a_new_workspace_made_from_the_first_page(tmp_path, tokens):
    """`provisioner serve --workspace DIR` on a folder that is not a workspace yet: every page
    leads to the form that makes one, as 'provisioner init' would."""
    root = tmp_path / "new school"
    client = TestClient(create_app(root, tokens), base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}", follow_redirects=False)
    answer = client.get("/register", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/setup"
    form = client.get("/setup").text
    assert "Nothing is set up in" in form and 'id="platform-purple-mash"' in form
    made = client.post("/setup", data={"csrf": tokens.csrf, "school": "Willow Brook Primary", "domain": "willowbrook.sch.uk",
                                       "platforms": ["purple-mash", "ixl"], "approved_by": "Pat Admin"}).text  # fmt: skip
    assert "Created the workspace" in made and "Willow Brook Primary" in made
    settings = tomllib.loads((root / "provisioner.toml").read_text(encoding="utf-8"))
    assert settings["platforms"]["purple-mash"]["enabled"] and settings["platforms"]["ixl"]["enabled"]
    assert client.get("/setup", follow_redirects=False).headers["location"] == "/"
    refused = client.post("/setup", data={"csrf": tokens.csrf, "school": "Again", "domain": "again.sch.uk",
                                          "approved_by": "Pat"}, follow_redirects=False)  # fmt: skip
    assert refused.status_code == 303 and Workspace(root).settings.school.name == "Willow Brook Primary"


def test_a_microsoft_365_apply_through_graph_runs_as_a_task(m365, graph, tmp_path):
    """A Graph run from the page: the accounts are made in the tenant (the stand-in), and the
    task's page says so once it has ended."""
    from m365_helpers import pupils_in

    tokens = Tokens()
    client = TestClient(create_app(m365.root, tokens), base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}")
    rows = synthetic_pupils(12, seed=4, today=date.today(), leavers=0)
    path = tmp_path / "graph roster.xlsx"
    write_roster_xlsx(path, rows)
    plan = words(client.get(choose(client, tokens, path).replace("/roster/", "/plan/")).text)
    assert "Microsoft 365" in plan and named(rows[0]) in plan
    seen = re.search(r'name="seen" value="([^"]+)"', plan).group(1)
    started = client.post("/plan/graph roster.xlsx/apply", data={"csrf": tokens.csrf, "seen": seen},
                          follow_redirects=False)  # fmt: skip
    done = finished(client, started.headers["location"])
    assert "Done." in done and "account(s) created or updated" in done
    assert len(pupils_in(graph)) == len(rows)


def test_the_home_page_names_the_slips_of_an_apply_killed_before_it_answered(m365, graph, tmp_path):
    """An apply killed once its Microsoft 365 accounts were recorded, before it answered: Home's
    "what to do next" links the slips, the next apply's page names them, and then Home no longer does."""
    from provisioner.delivery import CRASH_ENV

    *rows, joining = synthetic_pupils(9, seed=5, today=date.today(), leavers=0)
    path = tmp_path / "graph roster.xlsx"
    write_roster_xlsx(path, rows)
    killed = subprocess.run([sys.executable, "-m", "provisioner", "apply", str(path), "--yes", "--workspace",
                             str(m365.root)], env={**os.environ, CRASH_ENV: "pushed"}, capture_output=True,
                            timeout=300)  # fmt: skip
    assert killed.returncode != 0 and not (m365.outbox / "login-slips").exists()
    slips = sorted(p.relative_to(m365.root).as_posix() for p in (m365.outbox / "microsoft-365").iterdir())
    tokens = Tokens()
    client = TestClient(create_app(m365.root, tokens), base_url=LOOPBACK)
    home = words(client.get(f"/?token={tokens.session}").text)
    assert ("Microsoft 365: an apply stopped before it finished, after setting these passwords on the platform. "
            "Print their login slips and hand them out:") in home  # fmt: skip
    assert all(f'href="/files/{name}"' in home for name in slips)
    assert client.get(f"/files/{slips[1]}").status_code == 200

    write_roster_xlsx(path, [*rows, joining])  # a plan the page offers to apply (licences alone it does not show)
    plan = words(client.get(choose(client, tokens, path).replace("/roster/", "/plan/")).text)
    seen = re.search(r'name="seen" value="([^"]+)"', plan).group(1)
    started = client.post("/plan/graph roster.xlsx/apply", data={"csrf": tokens.csrf, "seen": seen},
                          follow_redirects=False)  # fmt: skip
    done = finished(client, started.headers["location"])
    assert "login slips from an apply that stopped before it finished (their passwords are set on the platform)" in done
    assert all(f'href="/files/{name}"' in done for name in slips)
    assert "The slips hold first passwords" in done and "1 account(s) created or updated" in done
    assert "an apply stopped before it finished" not in words(client.get("/").text)


def test_a_trusts_plan_lists_the_first_pupils_and_the_filter_finds_the_rest(browser, tokens, school, tmp_path,
                                                                            monkeypatch):  # fmt: skip
    import provisioner.web.pages.roster as roster_pages

    monkeypatch.setattr(roster_pages, "ROWS_SHOWN", 10)
    rows = synthetic_pupils(40, seed=11, today=date.today(), leavers=0)
    path = tmp_path / "trust.xlsx"
    write_roster_xlsx(path, rows)
    choose(browser, tokens, path)
    page = words(browser.get("/plan/trust.xlsx").text)
    assert "40 pupil(s): the first 10 are shown; filter by name, class or kind to find the others" in page
    assert page.count("<td>new account</td>") == 10
    last = rows[-1]
    found = words(browser.get("/plan/trust.xlsx", params={"q": named(last)}).text)
    assert named(last) in found


def test_finished_tasks_are_forgotten_after_the_last_twenty_but_running_ones_never():
    from provisioner.web.tasks import KEPT, Tasks

    tasks, release = Tasks(), threading.Event()
    running = tasks.start("apply", "A long apply", lambda progress: release.wait())
    ended = []
    for number in range(KEPT + 5):
        done = threading.Event()
        ended.append(tasks.start("apply", f"Apply {number}", lambda progress, done=done: done.set()))
        assert done.wait(10)
        while ended[-1].state == "running":  # its thread records the end just after the work returns
            time.sleep(0.01)
    tasks.start("apply", "One more", lambda progress: None)
    assert tasks.get(running.id) is running
    assert [t for t in ended if tasks.get(t.id)] == ended[-(KEPT - 1):]
    release.set()


def test_a_port_in_use_is_refused_in_words():
    from provisioner.web.server import listen

    first = listen("127.0.0.1", 0)
    try:
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1, port {first.getsockname()[1]}: address already in use"):
            listen("127.0.0.1", first.getsockname()[1])
    finally:
        first.close()


def test_the_same_children_under_another_id_scheme_are_kept_from_the_plan_page(browser, tokens, school, tmp_path,
                                                                              pupils, roster):  # fmt: skip
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    other = [{**row, "mis_id": f"X{i:04d}", "upn": None} for i, row in enumerate(pupils)]
    path = tmp_path / "other mis.xlsx"
    write_roster_xlsx(path, other)
    choose(browser, tokens, path)
    page = words(browser.get("/plan/other mis.xlsx").text)
    assert "Apply would stop" in page and "Apply this plan" not in page
    assert named(pupils[0]) in page and "same legal name and date of birth" in page
    kept = words(browser.post("/relink/other mis.xlsx", data={"csrf": tokens.csrf}).text)
    assert f"Recorded {len(pupils)} pupil(s) under this roster's ids: their accounts are kept." in kept
    assert "Apply would stop" not in kept
    counts = Provisioner(school).plan(path).platforms["purple-mash"].counts()
    assert (counts["create"], counts["leavers"]) == (0, 0)


def test_login_slips_deleted_from_downloads_once_handed_out_but_never_the_import_file(browser, tokens, school, roster):
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    [batch] = Provisioner(school).status()["platforms"]["purple-mash"]["awaiting_upload"]
    slips = sorted(p.relative_to(school.root).as_posix() for p in school.outbox.glob("login-slips-*"))
    assert [Path(name).suffix for name in slips] == [".pdf", ".xlsx"]

    downloads = words(browser.get("/downloads").text)
    assert "Delete these slips" in downloads
    address = re.search(r'href="(/slips/[^"]+)"', downloads).group(1)
    asked = words(browser.get(address).text)
    for name in slips:
        assert name in asked  # the confirmation names each file it removes
    assert batch["file"] in asked and "still waits to be uploaded" in asked
    assert all(school.root.joinpath(name).exists() for name in slips)  # asking removed nothing

    refused = browser.post(address, data={})
    assert refused.status_code == 403
    assert all(school.root.joinpath(name).exists() for name in slips)

    done = words(browser.post(address, data={"csrf": csrf_of(asked)}).text)
    assert "Deleted the login slips" in done and "2 file(s)" in done
    assert not any(school.root.joinpath(name).exists() for name in slips)
    assert school.root.joinpath(batch["file"]).is_file()  # the import still to upload stays
    assert "No login slips are kept" in done and "I have uploaded this" in done
    with school.open_state() as state:
        assert state.verify_audit().first_broken is None
        actions = [row[0] for row in state.db.execute("SELECT action FROM audit ORDER BY seq")]
    assert "slips.removed" in actions

    gone = browser.get(address)
    assert gone.status_code == 404 and "deleted already" in words(gone.text)
    again = browser.post(address, data={"csrf": tokens.csrf})
    assert again.status_code == 400 and "No login slips of batch" in words(again.text)


def test_per_platform_slips_are_deleted_with_their_batch_and_the_import_file_kept(tokens, school, roster):
    text = school.settings_path.read_text(encoding="utf-8")
    school.settings_path.write_text(text.replace('style = "combined"', 'style = "per-platform"'), encoding="utf-8")
    provisioner = Provisioner.find(school.root)
    provisioner.apply(roster, confirm=lambda plan: True)
    own = sorted(school.outbox.glob("purple-mash/purple-mash-login-slips-*"))
    assert [p.suffix for p in own] == [".pdf", ".xlsx"]
    [kept] = provisioner.login_slips()
    assert kept.files == [p.relative_to(school.root).as_posix() for p in own]
    assert kept.platforms == ["purple-mash"]

    provisioner.remove_login_slips(kept.batch)
    assert not any(p.exists() for p in own)
    assert [p.suffix for p in school.outbox.glob("purple-mash/*")] == [".csv"]
    assert provisioner.login_slips() == []


def test_the_letters_to_suppliers_download_as_one_zip_of_word_letters(browser, tokens, school):
    page = words(browser.get("/register").text)
    assert "Download the letters (zip)" in page
    answer = browser.post("/register/letters", data={"csrf": tokens.csrf})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert 'filename="questions-for-suppliers-' in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = archive.namelist()
        assert "questions-for-purple-mash.docx" in names
        letter = archive.read("questions-for-purple-mash.docx")
    assert letter.startswith(b"PK")  # a Word document
    assert "Purple Mash" in docx.Document(io.BytesIO(letter)).paragraphs[2].text
    assert not (school.reports.exists() and any(school.reports.iterdir()))  # made in memory, nothing kept


def test_the_register_verdict_points_to_the_pages_not_to_a_command(browser, school):
    set_platform(school, "ixl", enabled="true")  # a platform nobody approved: the register has an error
    for address, where in (("/", "Open questions on the Register page"), ("/register", "Open questions below")):
        page = words(browser.get(address).text)
        assert "error to fix" in page and "facts are still to collect" in page and where in page
        assert "provisioner register" not in page


def test_the_guards_next_step_names_the_box_to_tick_not_a_flag(browser, tokens, school, tmp_path, pupils):
    first = tmp_path / "first.xlsx"
    write_roster_xlsx(first, pupils)
    Provisioner(school).apply(first, confirm=lambda plan: True)
    one_class = tmp_path / "one class.xlsx"
    write_roster_xlsx(one_class, pupils[:5])
    for address in (choose(browser, tokens, one_class, then="leavers"), "/plan/one class.xlsx"):
        page = words(browser.get(address).text)
        assert "would stop" in page
        assert "tick “I have checked: these pupils really left” under Options" in page
        assert "--" not in page.split('role="alert"', 1)[1].split("</div>", 1)[0]


def test_a_periodic_review_recorded_from_the_register_page_with_its_date_and_note(browser, tokens, school):
    page = words(browser.get("/register").text)
    assert "Record a review or an approval" in page
    due = date.today() + timedelta(days=200)
    done = words(browser.post("/register/approve", data={
        "csrf": tokens.csrf, "entry": "purple-mash", "by": "Alex Example", "role": "Computing lead",
        "next_review": due.isoformat(), "note": "Governors' meeting of the spring term"}).text)  # fmt: skip
    assert "Approved purple-mash by Alex Example" in done and f"next review {due.isoformat()}" in done
    [purple_mash] = [p for p in Provisioner(school).register().processors if p.id == "purple-mash"]
    assert purple_mash.next_review == due.isoformat()
    assert purple_mash.approvals[-1].note == "Governors' meeting of the spring term"

    refused = browser.post("/register/approve", data={"csrf": tokens.csrf, "entry": "purple-mash", "by": "Alex Example",
                                                      "next_review": "next spring"})  # fmt: skip
    assert refused.status_code == 400 and "'next spring' is not a date for the next review" in words(refused.text)


def test_the_register_exported_as_markdown(browser, tokens, school):
    browser.post("/register/export", data={"csrf": tokens.csrf, "format": "md"})
    name = re.search(r'href="/files/(reports/[^"]+\.md)"', browser.get("/register").text).group(1)
    assert "Purple Mash" in browser.get(f"/files/{name}").text


def test_a_fact_already_recorded_changed_from_the_register_page_with_who_changed_it(browser, tokens, school):
    page = words(browser.get("/register").text)
    assert "Change a fact already recorded" in page and '<option value="hosting">Where it is held</option>' in page
    done = words(browser.post("/register/set", data={"csrf": tokens.csrf, "entry": "purple-mash", "key": "hosting",
                                                     "value": "Servers in Manchester", "by": "Alex Example"}).text)  # fmt: skip
    assert "Saved hosting for Purple Mash" in done
    written = (school.root / "registers" / "purple-mash.toml").read_text(encoding="utf-8")
    assert 'hosting = "Servers in Manchester"' in written
    [purple_mash] = [p for p in Provisioner(school).register().processors if p.id == "purple-mash"]
    assert purple_mash.entry.hosting == "Servers in Manchester"
    with school.open_state() as state:
        [change] = state.register_changes("purple-mash")
    assert (change.key, change.value_after, change.changed_by) == ("hosting", "Servers in Manchester", "Alex Example")


def test_a_plan_and_its_apply_limited_to_the_platforms_ticked(browser, tokens, school, roster):
    set_platform(school, "tt-rockstars", enabled="true")
    approve_register(school)
    check = words(browser.get(choose(browser, tokens, roster)).text)
    assert "Only these platforms" in check and 'id="only-tt-rockstars"' in check
    plan = words(browser.get("/plan/autumn roster.xlsx", params={"platform": "purple-mash"}).text)
    assert 'href="#purple-mash"' in plan and 'href="#tt-rockstars"' not in plan
    assert '<input type="hidden" name="platform" value="purple-mash">' in plan
    seen = re.search(r'name="seen" value="([^"]+)"', plan).group(1)
    started = browser.post("/plan/autumn roster.xlsx/apply", data={"csrf": tokens.csrf, "seen": seen,
                                                                   "platform": "purple-mash"}, follow_redirects=False)
    assert "Done." in finished(browser, started.headers["location"])
    accounts = {p: info["accounts"] for p, info in Provisioner(school).status()["platforms"].items()}
    assert accounts["purple-mash"] == {"issued_not_uploaded": 40} and accounts["tt-rockstars"] == {}

    leavers = words(browser.get("/leavers/autumn roster.xlsx", params={"platform": "tt-rockstars"}).text)
    assert '<input type="hidden" name="platform" value="tt-rockstars">' in leavers


def test_a_trusts_folder_of_cards_is_deleted_whole_and_listed_file_by_file(browser, tokens, school, roster):
    provisioner = Provisioner.find(school.root)
    provisioner.apply(roster, confirm=lambda plan: True)
    pdf = next(school.outbox.glob("login-slips-*.pdf"))
    folder = pdf.with_suffix("")  # a trust's cards: a folder of PDFs of whole classes in place of the one PDF
    folder.mkdir()
    for part in ("01-class-1A.pdf", "02-class-2B.pdf"):
        (folder / part).write_bytes(pdf.read_bytes())
    pdf.unlink()
    [kept] = provisioner.login_slips()
    assert folder.relative_to(school.root).as_posix() in kept.files

    downloads = browser.get("/downloads").text
    assert "01-class-1A.pdf" in downloads and "02-class-2B.pdf" in downloads
    provisioner.remove_login_slips(kept.batch)
    assert not folder.exists() and not list(school.outbox.glob("login-slips-*"))
    assert list(school.outbox.glob("purple-mash/*.csv"))


def test_the_audit_log_checked_against_a_head_kept_on_paper(browser, school, roster):
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    paper = Provisioner(school).status()["audit"]["head"]  # as printed on the register, kept on paper
    Provisioner(school).approve("purple-mash", "Pat Admin")
    home = words(browser.get("/").text)
    assert 'href="/audit"' in home and "Check the log against a head you kept" in home
    page = words(browser.get("/audit").text)
    assert "The chain is intact" in page and Provisioner(school).status()["audit"]["head"] in page
    assert "Anchor the audit log again" not in page, "nothing to anchor again"
    page = words(browser.get("/audit", params={"head": paper}).text)
    assert f"it passes through the head {paper} you gave" in page
    wrong = browser.get("/audit", params={"head": "not a head"})
    assert wrong.status_code == 200
    page = words(wrong.text)
    assert "'not a head' is not an audit log head" in page and "Copy it as printed" in page
    assert "you gave" not in page
    assert "--head" not in page, "the page's words, not the command line's"
    assert "The chain is intact" in page, "the log itself is still checked"
    quoted = words(browser.get("/audit", params={"head": "the head's copy"}).text)  # shown in double quotes
    assert "is not an audit log head" in quoted and "--head" not in quoted


def test_a_state_restored_from_an_older_backup_is_anchored_again_from_the_audit_page(browser, tokens, school, roster):
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    backup = school.state_path.read_bytes()
    Provisioner(school).approve("purple-mash", "Pat Admin")
    paper = Provisioner(school).status()["audit"]["head"]  # kept after the backup was made
    school.state_path.write_bytes(backup)  # restored without the backup's audit-head.txt
    home = words(browser.get("/").text)
    assert "Audit log: BROKEN" in home and "anchor it again after a restore" in home
    page = words(browser.get("/audit").text)
    assert "events were removed from its end" in page and "Anchor the audit log again" in page

    unticked = browser.post("/audit/reanchor", data={"csrf": tokens.csrf})
    assert unticked.status_code == 400 and "Tick the box" in unticked.text
    assert not Provisioner(school).verify_audit().intact, "nothing was changed"

    done = words(browser.post("/audit/reanchor", data={"csrf": tokens.csrf, "checked": "on"}).text)
    assert f"Anchored the audit log again: the head recorded was {paper}" in done
    assert "The chain is intact" in done and "The log was anchored again after" in done
    assert Provisioner(school).verify_audit().intact
    kept = words(browser.get("/audit", params={"head": paper}).text)
    assert "does not prove itself" in kept, "the head kept on paper still shows the loss"
    assert "Anchor the audit log again" not in kept, "a head kept on paper is never anchored over"
    again = browser.post("/audit/reanchor", data={"csrf": tokens.csrf, "checked": "on"})
    assert again.status_code == 400
    assert "nothing to anchor again" in again.text and "the Audit log page shows it" in words(again.text)


def test_an_edited_audit_log_is_shown_broken_and_never_offered_to_be_anchored_again(browser, tokens, school, roster):
    Provisioner(school).apply(roster, confirm=lambda plan: True)
    db = sqlite3.connect(school.state_path)
    db.execute("DROP TRIGGER IF EXISTS audit_no_update")
    db.execute("UPDATE audit SET detail = '{}' WHERE seq = 3")
    db.commit()
    db.close()
    page = words(browser.get("/audit").text)
    assert "event 3 does not match the chain" in page and "tell your data protection officer" in page
    assert "Anchor the audit log again" not in page
    refused = browser.post("/audit/reanchor", data={"csrf": tokens.csrf, "checked": "on"})
    assert refused.status_code == 400 and "cannot be anchored again" in refused.text


def test_the_microsoft_365_secret_is_never_shown_nor_written_by_the_settings_page(m365, graph):
    """The secret is read from the environment only: the Settings page neither shows it nor asks
    for it, and saving Microsoft 365's form writes no secret into provisioner.toml."""
    tokens = Tokens()
    client = TestClient(create_app(m365.root, tokens), base_url=LOOPBACK)
    client.get(f"/?token={tokens.session}")
    page = client.get("/settings").text
    assert graph.client_secret not in page
    assert not [name for name in re.findall(r'name="([^"]+)"', page) if "secret" in name], "no box asks for it"
    saved = words(client.post("/settings/microsoft-365", data={"csrf": tokens.csrf, "enabled": "on",
                                                               "year_groups": "3, 4"}).text)  # fmt: skip
    assert "Saved Microsoft 365: year groups" in saved and graph.client_secret not in saved
    written = m365.settings_path.read_text(encoding="utf-8")
    assert graph.client_secret not in written and 'year_groups = ["3", "4"]' in written
