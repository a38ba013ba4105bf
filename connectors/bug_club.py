"""Bug Club on Pearson ActiveLearn Primary: Admin > "Register multiple students".

Rows are pasted from a spreadsheet and the columns mapped on screen; there is no file
template. Required: first name, last name and date of birth (dd/mm/yyyy), which Pearson
uses to tell apart pupils with the same name (reference/platforms.md §3.4). The school year
and group are optional and sent only if the school turns them on. The help pages are
ActiveLearn's general (secondary) ones; that they hold for ActiveLearn Primary is inferred.

Since the admin copies rows, the tool writes an xlsx by default (platforms-checked.md §1.3):
a CSV opened by double-click lets Excel turn a dd/mm/yyyy date round by locale, and one opened
in a text editor copies its quotes and commas too. The xlsx has a header row and the columns
in the form's order, every cell Text. ``file_format = "csv"`` gives the CSV instead.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from provisioner.connector import ImportFileConnector, PlatformSettings
from provisioner.connector.settings import CSV_KEYS
from provisioner.delivery import PasteSheet

XLSX = "xlsx"


class BugClubSettings(PlatformSettings):
    file_format: Literal["xlsx", "csv"] = Field(
        XLSX, description='"xlsx" (every cell Text, to copy into "Register multiple students"; default) or "csv".'
    )

    @model_validator(mode="after")
    def _csv_settings_need_a_csv(self) -> BugClubSettings:
        chosen = [key for key in CSV_KEYS if key in self.model_fields_set]
        if chosen and self.file_format == XLSX:
            raise ValueError(f'{chosen[0]} says how a CSV is written, and Bug Club gets an xlsx; set file_format = '
                             f'"csv" under [platforms.bug-club], or take {chosen[0]} out')  # fmt: skip
        return self


class BugClub(ImportFileConnector):
    id = "bug-club"
    name = "Bug Club (ActiveLearn Primary)"
    Delivery = PasteSheet  # the xlsx, or with file_format = "csv" the CSV
    Settings = BugClubSettings
    fields = ("forename", "surname", "date_of_birth", "username", "password")
    optional_fields = ("year_group", "class_name")
    # The paste goes into a registration form: re-pasting a pupil to reset a password would
    # register them again (inferred). Pearson offers its own bulk password change (§3.4).
    resets_by_import = False
    reset_on_platform = 'Pearson\'s "Bulk change password" on a filtered list of pupils'
    username_template = "{forename}{surname_initial}"
    username_max_length = 20
    sign_in_url = "https://www.activelearnprimary.co.uk/"  # inferred from Pearson's support site
    # ActiveLearn's sign-in asks for a school code as well as the username and password (from
    # the school's report of the issue; not in the reference: inferred).
    school_sign_in = ("school_code",)

    columns = (
        ("First name", "forename"),
        ("Last name", "surname"),
        ("Date of birth", "date_of_birth"),
        ("Username", "username"),
        ("Password", "password"),
        ("School year", "year_group"),
        ("Group name", "class_name"),
    )

    # Pearson's form takes the date of birth as dd/mm/yyyy (§3.4): the tool's default too, but
    # documented here, so it stays whatever the tool's default becomes.
    file_defaults: ClassVar[dict[str, str]] = {"date_format": "dd/mm/yyyy"}

    def import_file_name(self, batch_id: str) -> str:
        return f"{self.id}-paste-into-register-multiple-students-{batch_id}.{self.settings.file_format}"

    def settings_notes(self) -> list[str]:
        return ['# file_format = "csv"  # a CSV instead of the xlsx (then encoding, delimiter and quoting apply)']
