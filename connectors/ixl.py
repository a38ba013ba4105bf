"""IXL: site-licence admins use Account Management > Roster > Upload roster.

IXL's UK roster template was not found (reference/platforms.md §3.2), so this layout
(names, class, year, username, password) is ours, not IXL's: ``verified`` is False, the
register says so, and a school matches the template it downloads with ``columns`` in its
settings. Teachers cannot change usernames later, so the school's username rule matters.

IXL usernames carry the school's suffix (``lilyl@westdale``), and each school has its own
sign-in page, ``https://www.ixl.com/signin/<code>``, that fills the suffix in
(platforms-checked.md §1.4). With ``school_code`` set, the file and the slips give the whole
username and the slips that page. The tool keeps the bare name (unique, at most 20
characters) and adds the suffix when it writes, so a code set or corrected later changes
no account. Without a code, plan and apply warn: a child given a bare username cannot sign
in on IXL's main page.
"""

from __future__ import annotations

from provisioner.connector import ImportFileConnector, PupilView
from provisioner.delivery import FileImport

SIGN_IN_PAGE = "https://www.ixl.com/signin/"


class Ixl(ImportFileConnector):
    id = "ixl"
    name = "IXL"
    Delivery = FileImport
    verified = False
    fields = ("forename", "surname", "class_name", "year_group", "username", "password")
    username_template = "{forename}{surname_initial}"
    username_max_length = 20  # the bare name; IXL's own length limit was not found
    # Without a school code; with one, the school's own page (SIGN_IN_PAGE + code).
    sign_in_url = "https://uk.ixl.com/"

    columns = (
        ("First name", "forename"),
        ("Last name", "surname"),
        ("Class", "class_name"),
        ("Year", "year_group"),
        ("Username", "username"),
        ("Password", "password"),
    )

    @property
    def effective_sign_in_url(self) -> str:
        code = self.settings.school_code
        return self.settings.sign_in_url or (f"{SIGN_IN_PAGE}{code}" if code else self.sign_in_url)

    def sign_in_name(self, username: str, school_domain: str) -> str:
        code = self.settings.school_code
        return f"{username}@{code}" if code and username else username

    @property
    def slip_school_code(self) -> str:
        return ""  # in the username (name@code) and the sign-in page: a third time would only confuse

    def file_values(self, pupil: PupilView) -> dict[str, str]:
        values = dict(pupil)
        if values.get("username"):  # the file and the slips give the same whole username
            values["username"] = self.sign_in_name(values["username"], "")
        return values

    def setup_warnings(self) -> list[str]:
        if self.settings.school_code:
            return []
        return [f"{self.name}: no school_code is set, so the file and login slips give bare usernames that pupils "
                "cannot sign in with; set school_code under [platforms.ixl] to your school's code (the part after "
                "@ in an IXL username, as in ixl.com/signin/CODE)"]  # fmt: skip

    def settings_notes(self) -> list[str]:
        return ['# school_code = "CODE"  # your school\'s IXL code: the part after @ in a username (ixl.com/signin/CODE)']
