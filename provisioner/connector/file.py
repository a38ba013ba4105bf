"""The import-file capability: a platform the admin feeds with a file in its own layout, or
which a data broker feeds from the MIS instead (``provisioning = "broker"``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from functools import cached_property
from typing import Any, ClassVar

from provisioner.connector.base import Connector
from provisioner.connector.settings import BROKER, FILE_DEFAULTS, MADE_BY_THIS_TOOL
from provisioner.connector.view import PupilView
from provisioner.models import year_group_label

DATE_FORMATS = {"dd/mm/yyyy": "%d/%m/%Y", "yyyy-mm-dd": "%Y-%m-%d"}


def format_date(iso: str, style: str) -> str:
    """A date as the file's ``date_format`` writes it (the view holds it in ISO form)."""
    return date.fromisoformat(iso).strftime(DATE_FORMATS[style]) if iso else iso


def format_year_group(code: str, style: str) -> str:
    """A year group as the file's ``year_group_style`` writes it: the MIS code (R, 3), a number
    (Reception as 0; nursery and out-of-year have no number, so keep their codes), or words
    ("Reception", "Year 3")."""
    if not code or style == "code":
        return code
    if style == "number":
        return "0" if code == "R" else code
    return year_group_label(code)


class ImportFileConnector(Connector):
    """A platform fed by an import file (written by the ``FileImport`` strategy). Subclasses set
    ``columns``: (header, source) pairs in the platform's template order, where a source is a
    field or a name in ``derived`` (a value the connector builds from fields, such as a full
    name); they override ``file_values`` to build values, and may rename the file.

    How the file is written (encoding, delimiter, quoting, date and year-group forms) is the
    school's ``[platforms.<id>]`` setting where it set one, else ``file_defaults`` (what the
    platform's documentation asks for, such as Pearson's dd/mm/yyyy), else ``FILE_DEFAULTS``.
    Dates and year groups are formatted after ``file_values``, so a connector never does it.

    Where a data broker feeds the platform (``provisioning = "broker"``), the file strategy hands
    over to the broker's record (``through_broker``): the same platform, reached by no file.
    """

    columns: ClassVar[tuple[tuple[str, str], ...]] = ()
    derived: ClassVar[dict[str, tuple[str, ...]]] = {}  # derived source -> the fields it is made from
    file_defaults: ClassVar[dict[str, str]] = {}  # file settings the platform documents, over FILE_DEFAULTS

    @cached_property
    def delivery(self) -> Any:
        """The import file (``Delivery``), or where the school says a broker feeds the platform,
        the broker's record, which sends nothing."""
        file_delivery = self.Delivery(self)
        if self.settings.provisioning == BROKER:
            return file_delivery.through_broker(self.settings.broker, self.broker_fields)
        return file_delivery

    @property
    def broker_fields(self) -> tuple[str, ...]:
        """The fields a broker sends the platform: the school's ``broker_fields`` (what it approved
        in the broker's portal, which only the school knows), else the fields the import file
        would carry from the MIS: the connector's fields less the username, password and
        pseudonymous id, which this tool makes and no broker can send. (Not the register entry's list: a platform's entry names no fields, its connector does.)"""
        if self.settings.broker_fields is not None:
            return tuple(self.settings.broker_fields)
        return tuple(name for name in self.enabled_fields if name not in MADE_BY_THIS_TOOL)

    def file_setting(self, name: str) -> str:
        """One file setting as it applies: the school's, else the platform's default, else the tool's."""
        chosen = getattr(self.settings, name)
        return chosen if chosen is not None else self.file_defaults.get(name, FILE_DEFAULTS[name])

    def formatted_values(self, pupil: PupilView) -> dict[str, str]:
        """``file_values`` with dates and year groups in the forms the file settings say."""
        return next(self.formatted_values_of([pupil]))

    def formatted_values_of(self, pupils: Iterable[PupilView]) -> Iterator[dict[str, str]]:
        """``formatted_values`` of each pupil, made as they are read: the settings read once, and
        each distinct date of birth and year group formatted once (a trust's file is 50,000 rows, a
        few thousand dates); a file made from them holds only the rows it is writing."""
        date_style, year_style = self.file_setting("date_format"), self.file_setting("year_group_style")
        dates: dict[str, str] = {}
        years: dict[str, str] = {}
        for values in map(self.file_values, pupils):
            born, year = values.get("date_of_birth"), values.get("year_group")
            if born:
                shown = dates.get(born)
                values["date_of_birth"] = shown if shown is not None else \
                    dates.setdefault(born, format_date(born, date_style))  # fmt: skip
            if year:
                shown = years.get(year)
                values["year_group"] = shown if shown is not None else \
                    years.setdefault(year, format_year_group(year, year_style))  # fmt: skip
            yield values

    def file_values(self, pupil: PupilView) -> dict[str, str]:
        """Every value a column can take for this pupil: the fields as sent, plus ``derived`` ones."""
        return dict(pupil)

    def import_file_name(self, batch_id: str) -> str:
        return f"{self.id}-import-{batch_id}.csv"
