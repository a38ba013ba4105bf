"""LGfL USO accounts.

Normally USO-AutoUpdate reads the MIS directly and its Students report gives LGfL the
pupils' names and dates of birth (reference/platforms.md §3.5). This tool sends nothing
then; ``apply`` records which pupils LGfL holds and what, so the register is true and
leavers are tracked like everywhere else (AutoUpdate itself removes leavers' access).

A school that makes USO accounts by hand sets ``provisioning = "bulk-file"`` and gets a
bulk file instead. LGfL's public bulk template was not found, so that layout is ours and
``verified`` is False; match yours with ``columns``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field

from provisioner.connector import ImportFileConnector, PlatformSettings
from provisioner.delivery import Delivery, FileImport, MisSync

AUTOUPDATE, BULK_FILE = "autoupdate", "bulk-file"


class LgflSettings(PlatformSettings):
    provisioning: Literal["autoupdate", "bulk-file"] = Field(
        AUTOUPDATE, description="autoupdate: USO-AutoUpdate reads the MIS; bulk-file: this tool writes a bulk file."
    )


class Lgfl(ImportFileConnector):
    id = "lgfl"
    name = "LGfL (USO)"
    verified = False
    Settings = LgflSettings
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
        return MisSync(self) if self.settings.provisioning == AUTOUPDATE else FileImport(self)

    def settings_notes(self) -> list[str]:
        return [
            'provisioning = "autoupdate"  # USO-AutoUpdate reads the MIS: this tool records, sends nothing',
            '# provisioning = "bulk-file"  # you make USO accounts by hand: this tool writes the bulk file',
        ]
