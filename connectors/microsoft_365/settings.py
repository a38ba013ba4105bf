"""``[platforms.microsoft-365]``: the tenant, how pupils are licensed, class groups, and whether
the tool makes the accounts itself (Graph) or writes School Data Sync files."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from provisioner.connector import PlatformSettings

GRAPH, SDS_FILES = "graph", "sds-files"


class Microsoft365Settings(PlatformSettings):
    tenant_id: str | None = Field(None, description="Directory (tenant) ID.")
    client_id: str | None = Field(None, description="Application (client) ID of the app registration.")
    domain: str | None = Field(None, description="Verified domain for pupils' sign-in names (default: the school's).")
    certificate: str | None = Field(None, description="PEM file with the app's private key and certificate.")
    authority_host: str = Field("https://login.microsoftonline.com", description="Sign-in host (national clouds).")
    graph_url: str = Field("https://graph.microsoft.com/v1.0", description="Graph endpoint (national clouds).")
    ca_bundle: str | None = Field(None, description="CA bundle for a TLS-inspecting proxy.")
    licence_group: str | None = Field(None, description="Display name of the group that carries pupils' licence.")
    writes_per_second: int = Field(20, ge=1, le=60, description="The per-app write quota (Microsoft: 3,000 / 150 s).")
    workers: int = Field(4, ge=1, le=16, description="Requests in flight at once.")
    timeout: float = Field(60.0, ge=1, le=600, description="Seconds to wait for each answer before asking again.")
    force_password_change: bool = Field(False, description="Make pupils choose a new password at first sign-in.")
    licence_sku: str | None = Field(None, description="Licence to assign directly (its skuPartNumber), "
                                    "when not through licence_group.")  # fmt: skip
    class_groups: bool = Field(False, description="Keep one security group per class (needs class_name sent).")
    class_group_name: str = Field("Class {class_name} pupils", description="The name of a class's group.")
    provisioning: Literal["graph", "sds-files"] = Field(
        GRAPH, description="graph: this tool makes the accounts; sds-files: it writes School Data Sync files."
    )

    @field_validator("class_group_name")
    @classmethod
    def _names_the_class(cls, template: str) -> str:
        if template.count("{class_name}") != 1 or re.search(r"{(?!class_name})", template):
            raise ValueError("must contain {class_name} once and no other {...} part")
        if template.strip() == "{class_name}":
            raise ValueError("needs words around {class_name}, so a class group is never just '3B'")
        return template

    @model_validator(mode="after")
    def _one_way_to_license(self) -> Microsoft365Settings:
        if self.licence_group and self.licence_sku:
            raise ValueError("set licence_group or licence_sku, not both: a pupil needs one licence")
        if self.class_groups and "class_name" not in self.optional_fields:
            raise ValueError('class_groups tells Microsoft each pupil\'s class: add "class_name" to optional_fields')
        if self.columns is not None:
            raise ValueError("columns: Microsoft 365 takes no import file of ours to lay out (SDS files have fixed "
                             "headers)")  # fmt: skip
        if self.provisioning == SDS_FILES and not self.domain:
            raise ValueError('provisioning = "sds-files" needs domain, the sign-in domain written in users.csv')
        return self
