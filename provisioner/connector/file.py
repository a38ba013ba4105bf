"""The import-file capability: a platform the admin feeds with a file in its own layout."""

from __future__ import annotations

from typing import ClassVar

from provisioner.connector.base import Connector
from provisioner.connector.view import PupilView


class ImportFileConnector(Connector):
    """A platform fed by an import file (written by the ``FileImport`` strategy). Subclasses set
    ``columns``: (header, source) pairs in the platform's template order, where a source is a
    field or a name in ``derived`` (a value the connector builds from fields, such as a full
    name); they override ``file_values`` to build or format values, and may rename the file."""

    columns: ClassVar[tuple[tuple[str, str], ...]] = ()
    derived: ClassVar[dict[str, tuple[str, ...]]] = {}  # derived source -> the fields it is made from

    def file_values(self, pupil: PupilView) -> dict[str, str]:
        """Every value a column can take for this pupil: the fields as sent, plus ``derived`` ones."""
        return dict(pupil)

    def import_file_name(self, batch_id: str) -> str:
        return f"{self.id}-import-{batch_id}.csv"
