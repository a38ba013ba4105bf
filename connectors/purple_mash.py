"""Purple Mash (2Simple): pupils are added with the Import Wizard from a CSV file.

The wizard's required headers are Full Name, Class and UPN (reference/platforms.md §3.1).
2Simple accepts any stable unique id in the UPN column, so it gets this school's
pseudonymous id for Purple Mash, never the real UPN: it is what lets next year's import
update the same pupils instead of duplicating them. Usernames are supplied so the school
controls them; the wizard generates passwords itself.
"""

from __future__ import annotations

from provisioner.connector import FILE, Connector, PupilView


class PurpleMash(Connector):
    id = "purple-mash"
    name = "Purple Mash"
    mode = FILE
    fields = ("forename", "surname", "class_name", "pseudonymous_id", "username")
    username_template = "{forename}{surname_initial}"  # the MIS wizard's default, e.g. LilyL
    username_max_length = 20
    sign_in_url = "https://www.purplemash.com/"  # the school's own sign-in page hangs off this

    import_columns = ("Full Name", "Class", "UPN", "Username")

    def import_row(self, pupil: PupilView) -> list[str]:
        full_name = f"{pupil.forename} {pupil.surname}".strip()
        return [full_name, pupil.class_name, pupil.pseudonymous_id, pupil.username]
