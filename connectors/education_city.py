"""EducationCity (EducationCity Ltd, Edmentum International): teachers "enter or upload" pupils.

The UK upload template was not found (reference/platforms.md §3.7). EducationCity's own
pupil export, as third-party rostering code reads it, is headed Unique ID, First Name, Last
Name, Class Name, Username, Password, Gender, Date of Birth, Academic Level, and its bulk
upload matches existing pupils on that id (platforms-checked.md §1.5, second-hand, US site).
So the file uses those headers, and the Unique ID column carries this school's pseudonymous
id for EducationCity (never the UPN): a re-upload after a class move updates the pupil
instead of making them again. That the UK upload reads these headers is unverified:
``verified`` is False, the register says so, and a school matches the template it downloads
with ``columns`` in its settings.
"""

from __future__ import annotations

from provisioner.connector import ImportFileConnector
from provisioner.delivery import FileImport


class EducationCity(ImportFileConnector):
    id = "education-city"
    name = "EducationCity"
    Delivery = FileImport
    verified = False
    fields = ("pseudonymous_id", "forename", "surname", "class_name", "year_group", "username", "password")
    username_template = "{forename}{surname_initial}"
    username_max_length = 20
    sign_in_url = "https://www.educationcity.com/"  # the site named in the reference; the sign-in page is inferred

    columns = (  # the export's order; Gender and Date of Birth are left out (not sent)
        ("Unique ID", "pseudonymous_id"),
        ("First Name", "forename"),
        ("Last Name", "surname"),
        ("Class Name", "class_name"),
        ("Username", "username"),
        ("Password", "password"),
        ("Academic Level", "year_group"),
    )
