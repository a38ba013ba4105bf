"""Times Tables Rock Stars (Maths Circle Ltd): Account > Classes > Upload CSV.

The upload's columns are First name, Last name, Class, Year group, Username and Password
(reference/platforms.md §3.3); the upload wizard then asks the admin to match the column
headings. The minimal upload is names, class and year, and nothing more is sent: the
optional extras (gender, pastoral class) stay at school. The year group is sent as the
MIS's year code (R, 1 to 6); the exact form TTRS expects is inferred, not documented.

Deleting a pupil on TTRS offers "Delete immediately" (all data irretrievably removed) or
"Send to Leavers" (kept 6 months, then deleted), and TTRS recommends the second. By default
the deletion list asks for "Delete immediately", and confirming it records the accounts as
deleted. A school that sends leavers to the Leavers group sets ``leavers_group = true``: the
list then says so, and confirming it records the accounts as held by TTRS until it deletes
them 6 months later (``held_after_deletion``), so the register and status still count them
and an access request shows them. An erasure request always asks for "Delete immediately",
and for an account already in the Leavers group, its deletion there.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field

from provisioner.connector import ImportFileConnector, PlatformSettings
from provisioner.delivery import FileImport

LEAVERS_GROUP_MONTHS = 6  # TTRS's help centre, "Deleting students"; the register entry's leavers_group_months


class TtrsSettings(PlatformSettings):
    leavers_group: bool = Field(
        False, description='Leavers go to TTRS\'s Leavers group ("Send to Leavers": kept 6 months, then deleted) '
        'instead of "Delete immediately".',
    )


def months_later(day: date, months: int) -> date:
    """The same day of the month ``months`` later, or that month's last day if it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    first = date(day.year + year, month + 1, 1)
    next_first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first + timedelta(days=min(day.day, (next_first - first).days) - 1)


class TimesTablesRockStars(ImportFileConnector):
    id = "tt-rockstars"
    name = "Times Tables Rock Stars"
    Delivery = FileImport
    Settings = TtrsSettings
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

    def deletion_instruction(self, at_once: bool = False) -> str:
        if self.settings.leavers_group and not at_once:
            return (f'On {self.name}, choose "Send to Leavers" for each account (this school\'s setting): TTRS keeps '
                    f"it in its Leavers group for {LEAVERS_GROUP_MONTHS} months, then deletes it for good")
        return (f'On {self.name}, choose "Delete immediately" for each account (all its data is irretrievably '
                f'removed), not "Send to Leavers", which keeps it for {LEAVERS_GROUP_MONTHS} months; an account '
                "already in the Leavers group must be deleted from there (or ask TTRS support to delete it)")

    def held_after_deletion(self, confirmed_on: date) -> date | None:
        return months_later(confirmed_on, LEAVERS_GROUP_MONTHS) if self.settings.leavers_group else None

    def held_where(self) -> str:
        return f"{self.name}' Leavers group"

    def settings_notes(self) -> list[str]:
        return ['# leavers_group = true  # you "Send to Leavers" (kept 6 months) rather than "Delete immediately"']
