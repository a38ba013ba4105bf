"""IXL: site-licence admins use Account Management > Roster > Upload roster.

IXL's UK roster template was not found (reference/platforms.md §3.2), so this layout
(names, class, year, username, password) is ours, not IXL's: ``verified`` is False, the
register says so, and a school matches the template it downloads with ``columns`` in its
settings. Teachers cannot change usernames later, so the school's username rule matters.
"""

from __future__ import annotations

from provisioner.connector import ImportFileConnector
from provisioner.delivery import FileImport


class Ixl(ImportFileConnector):
    id = "ixl"
    name = "IXL"
    Delivery = FileImport
    verified = False
    fields = ("forename", "surname", "class_name", "year_group", "username", "password")
    username_template = "{forename}{surname_initial}"
    username_max_length = 20
    # The UK site from the reference. A school-specific ixl.com/signin/<school> page is reported
    # by a third party only (unverified): set sign_in_url to the page your school uses.
    sign_in_url = "https://uk.ixl.com/"

    columns = (
        ("First name", "forename"),
        ("Last name", "surname"),
        ("Class", "class_name"),
        ("Year", "year_group"),
        ("Username", "username"),
        ("Password", "password"),
    )
