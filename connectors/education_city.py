"""EducationCity (EducationCity Ltd, Edmentum International): teachers "enter or upload" pupils.

Neither the upload template nor the full list of pupil fields was found (reference/
platforms.md §3.7), so this layout is ours: ``verified`` is False, the register says so,
and a school matches the template it downloads with ``columns`` in its settings.
"""

from __future__ import annotations

from provisioner.connector import ImportFileConnector
from provisioner.delivery import FileImport


class EducationCity(ImportFileConnector):
    id = "education-city"
    name = "EducationCity"
    Delivery = FileImport
    verified = False
    fields = ("forename", "surname", "class_name", "year_group", "username", "password")
    username_template = "{forename}{surname_initial}"
    username_max_length = 20
    sign_in_url = "https://www.educationcity.com/"  # the site named in the reference; the sign-in page is inferred

    columns = (
        ("First Name", "forename"),
        ("Last Name", "surname"),
        ("Class", "class_name"),
        ("Year Group", "year_group"),
        ("Username", "username"),
        ("Password", "password"),
    )
