"""LGfL USO accounts.

Normally USO-AutoUpdate reads the MIS directly and its Students report gives LGfL the
pupils' names and dates of birth (reference/platforms.md §3.5). This tool sends nothing
then; ``apply`` records which pupils LGfL holds and what, so the register is true and
leavers are tracked like everywhere else (AutoUpdate itself removes leavers' access).

A school that makes USO accounts by hand sets ``provisioning = "bulk-file"`` (or ``"file"``, as
on every file platform) and gets a bulk file instead. LGfL's public bulk template was not found,
so that layout is ours and ``verified`` is False; match yours with ``columns``. A school whose
USO is fed by another broker sets ``provisioning = "broker"`` and names it, as anywhere else.

"autoupdate" stays the default, and the word existing provisioner.toml files use. It is a broker
like any other with two differences the strategy is told of, not asked about: AutoUpdate is
LGfL's own service, and it removes leavers itself (platforms-checked.md §1.6), so leavers are
recorded as removed rather than put on a list to check.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field

from provisioner.connector import ImportFileConnector, PlatformSettings
from provisioner.delivery import Delivery, FileImport, MisSync

AUTOUPDATE, BULK_FILE = "autoupdate", "bulk-file"
AUTOUPDATE_NAME = "LGfL USO-AutoUpdate"


class LgflSettings(PlatformSettings):
    provisioning: Literal["autoupdate", "bulk-file", "file", "broker"] = Field(
        AUTOUPDATE, description="autoupdate: USO-AutoUpdate reads the MIS; bulk-file (or file): this tool writes a "
        "bulk file; broker: another data broker feeds USO (name it in broker).",
    )


class Lgfl(ImportFileConnector):
    id = "lgfl"
    name = "LGfL (USO)"
    verified = False
    Settings = LgflSettings
    Delivery = FileImport
    # What the bulk file sends; AutoUpdate's Students report holds mis_sync_fields instead.
    fields = ("forename", "surname", "class_name", "year_group", "username", "password")
    mis_sync_fields = ("forename", "surname", "date_of_birth")
    username_template = "{forename_initial}{surname}"  # USO's pupil username format was not found
    username_max_length = 20
    sign_in_url = "https://my.uso.im/"  # the USO host from LGfL's help pages; the sign-in page is inferred

    columns = (
        ("First name", "forename"),
        ("Last name", "surname"),
        ("Class", "class_name"),
        ("Year group", "year_group"),
        ("Username", "username"),
        ("Password", "password"),
    )

    @cached_property
    def delivery(self) -> Delivery:
        if self.settings.provisioning == AUTOUPDATE:
            return MisSync(self, AUTOUPDATE_NAME, self.mis_sync_fields,
                           role="LGfL's own service reading the MIS", removes_leavers=True)
        return super().delivery

    def deletion_instruction(self, at_once: bool = False) -> str:
        # LGfL's Nominated Contacts administer the school's USO accounts (reference §1.6).
        return ("Ask the school's LGfL Nominated Contact to delete the pupil's USO account in the USO admin "
                "(LGfL's help: \"USO Nominated Contact Management\"); find the pupil there by name and class")

    def settings_notes(self) -> list[str]:
        return [
            'provisioning = "autoupdate"  # USO-AutoUpdate reads the MIS: this tool records, sends nothing',
            '# provisioning = "bulk-file"  # you make USO accounts by hand: this tool writes the bulk file',
            '# provisioning = "broker"  # another data broker feeds USO: name it in broker = "..."',
        ]
