"""Purple Mash (2Simple): pupils are added with the Import Wizard from a CSV file.

The wizard's required headers are Full Name, Class and UPN; Username and Password are among
its known optional headers (reference/platforms.md §3.1). 2Simple accepts any stable unique
id in the UPN column, so it gets this school's pseudonymous id for Purple Mash, never the
real UPN: it is what lets next year's import update the same pupils instead of duplicating
them. Usernames and first passwords are supplied so the school controls them and can print
login slips.

The wizard "will not change any usernames or passwords for existing pupils", so a password
reset by re-import would print slips with passwords that were never set: ``resets_by_import``
is False and the refusal points to 2Simple's own bulk reset. Since pupils are matched on the
UPN column, which holds the pseudonymous id, a school whose Purple Mash syncs from the MIS
(Wonde or Groupcall, which send the real UPN) must not also use this import: each pupil would
be made twice. Such a school sets ``provisioning = "broker"`` (``ImportFileConnector``).
"""

from __future__ import annotations

from provisioner.connector import ImportFileConnector, PupilView
from provisioner.delivery import FileImport


class PurpleMash(ImportFileConnector):
    id = "purple-mash"
    name = "Purple Mash"
    Delivery = FileImport
    fields = ("forename", "surname", "class_name", "pseudonymous_id", "username", "password")
    resets_by_import = False
    reset_on_platform = ('in Manage Users, use Purple Mash\'s "mass generate new passwords for existing pupils" '
                         "and print the logins it gives")
    username_template = "{forename}{surname_initial}"  # the MIS wizard's default, e.g. LilyL
    username_max_length = 20
    sign_in_url = "https://www.purplemash.com/"  # the school's own sign-in page hangs off this
    # Pupils sign in from their school's own page, or find the school by its code (from the
    # school's report of the issue; not in the reference: inferred). Either on the slip will do.
    school_sign_in = ("sign_in_url", "school_code")

    columns = (
        ("Full Name", "full_name"),
        ("Class", "class_name"),
        ("UPN", "pseudonymous_id"),
        ("Username", "username"),
        ("Password", "password"),
    )
    derived = {"full_name": ("forename", "surname")}

    def file_values(self, pupil: PupilView) -> dict[str, str]:
        values = dict(pupil)
        if "forename" in values and "surname" in values:  # a school's layout may use Forename and Surname
            values["full_name"] = f"{values['forename']} {values['surname']}".strip()
        return values
