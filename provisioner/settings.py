"""Workspace settings (provisioner.toml), validated by pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RosterSettings(BaseModel):
    """``[roster]``: how to read the school's MIS export."""

    model_config = ConfigDict(extra="forbid")

    use_preferred_names: bool = Field(
        True, description="Use preferred ('known as') names for display and usernames, legal names when false."
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Extra header aliases for odd exports: header text in the file = canonical field name.",
    )


class SchoolSettings(BaseModel):
    """``[school]``: who the workspace is for."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, description="The school's name, as printed on reports.")
    domain: str = Field(
        max_length=253,
        pattern=r"^([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,63}$",
        description="The domain for pupils' account names, e.g. example.sch.uk (lower case).",
    )


class Settings(BaseModel):
    """The whole of provisioner.toml. ``platforms`` is validated per connector (see load_settings)."""

    model_config = ConfigDict(extra="forbid")

    school: SchoolSettings
    roster: RosterSettings = Field(default_factory=RosterSettings)
    platforms: dict[str, dict] = Field(default_factory=dict)


def describe_error(error: dict, prefix: tuple = ()) -> str:
    """One pydantic error as 'dotted.key: what is wrong', in words an admin can act on."""
    where = ".".join(str(part) for part in (*prefix, *error["loc"]))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "is not a setting this tool knows (check the spelling)"
    elif error["type"] == "missing":
        message = "is required"
    elif error["type"] == "string_pattern_mismatch" and where.endswith("domain"):
        message = "must be a domain name in lower case, such as example.sch.uk"
    return f"{where}: {message}"
