"""What a platform connector is: the base class and its capabilities (an import file, an API),
the settings every platform shares, which pupils it serves (its scope), the guarded view of a
pupil it reads, and the registry.

A platform is one module in the ``connectors`` package holding one ``Connector`` subclass,
plus one register entry in ``registers/``. The core finds connectors by importing that
package's modules, so adding a platform needs no edit here.
"""

from provisioner.connector.api import LIFECYCLE, ApiConnector, ApiSession, Outcome, RemoteAccount, Work
from provisioner.connector.base import Connector
from provisioner.connector.file import ImportFileConnector
from provisioner.connector.registry import registry
from provisioner.connector.scope import ALL_YEAR_GROUPS, POLICY_DEFAULT, SCHOOL_SETTING, Scope
from provisioner.connector.settings import USERNAME_TOKENS, PlatformSettings
from provisioner.connector.view import PupilView

__all__ = [
    "ALL_YEAR_GROUPS", "LIFECYCLE", "POLICY_DEFAULT", "SCHOOL_SETTING", "USERNAME_TOKENS", "ApiConnector",
    "ApiSession", "Connector", "ImportFileConnector", "Outcome", "PlatformSettings", "PupilView", "RemoteAccount",
    "Scope", "Work", "registry",
]  # fmt: skip
