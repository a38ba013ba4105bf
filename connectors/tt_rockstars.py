"""Times Tables Rock Stars (Maths Circle Ltd): Account > Classes > Upload CSV.

The upload's columns are First name, Last name, Class, Year group, Username and Password
(reference/platforms.md §3.3); the upload wizard then asks the admin to match the column
headings. The minimal upload is names, class and year, and nothing more is sent: the
optional extras (gender, pastoral class) stay at school. The year group is sent as the
MIS's year code (R, 1 to 6); the exact form TTRS expects is inferred, not documented.
"""

from __future__ import annotations

from provisioner.connector import ImportFileConnector
from provisioner.delivery import FileImport


class TimesTablesRockStars(ImportFileConnector):
    id = "tt-rockstars"
    name = "Times Tables Rock Stars"
    Delivery = FileImport
    fields = ("forename", "surname", "class_name", "year_group", "username", "password")
    username_template = "{forename}{surname_initial}"
    username_max_length = 20
    sign_in_url = "https://ttrockstars.com/"  # the site named in the reference; the exact sign-in page is inferred
    # Pupils pick their school when they sign in, so a slip needs the school's code (from the
    # school's report of the issue; the reference does not document the sign-in page: inferred).
    school_sign_in = ("school_code",)

    columns = (
        ("First name", "forename"),
        ("Last name", "surname"),
        ("Class", "class_name"),
        ("Year group", "year_group"),
        ("Username", "username"),
        ("Password", "password"),
    )
