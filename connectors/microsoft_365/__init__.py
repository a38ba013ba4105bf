"""Microsoft 365 (Teams, Office 365): pupil accounts in Entra ID through Microsoft Graph.

Each pupil gets a user whose sign-in name comes from the username template at the school's
verified domain, whose names are the preferred names, and whose ``employeeId`` is this
school's pseudonymous id for Microsoft 365 (16 characters; never the UPN). That id is how an
account is found again: before creating, the tool adopts an account that already carries it,
so a run killed at any point and run again leaves exactly one account per pupil.

After the accounts, ``reconcile`` brings what hangs off them in step with the state, from
what the tenant holds (so a run killed part way is finished by the next): each pupil's
licence, through a licence group (20 members a write, reference/graph-msal.md §3) or
directly with ``assignLicense``, and, if the school turns them on, one security group per
class. The class (in ``department`` and in class groups) goes only if the school turns
``class_name`` on. ``disable``, ``delete``, ``restore`` and ``enable`` are the leaver
cleanup's hooks; each is checked by reading back just the accounts concerned.

A school that will not give an app write access sets ``provisioning = "sds-files"``: the
connector then writes School Data Sync v2.1 files instead, for the admin to upload.

The package: ``settings`` (the school's settings), ``graph`` (the Graph client: tokens,
batching, throttling), ``directory`` (reading the tenant), ``accounts`` (users and the request
bodies), ``in_step`` (licences and class groups), ``lifecycle`` (the leaver hooks), ``export``
(the pupil accounts as a reconcile reads them) and ``sds`` (School Data Sync files).
"""

from __future__ import annotations

from functools import cached_property

from connectors.microsoft_365.accounts import Accounts
from connectors.microsoft_365.directory import SECRET_ENV, Directory, read_tenant
from connectors.microsoft_365.export import tenant_export
from connectors.microsoft_365.in_step import InStep
from connectors.microsoft_365.lifecycle import Lifecycle
from connectors.microsoft_365.sds import SchoolDataSync
from connectors.microsoft_365.settings import SDS_FILES, Microsoft365Settings
from provisioner.connector import LIFECYCLE, ApiConnector
from provisioner.delivery import ApiDelivery, Delivery
from provisioner.passwords import PasswordRule
from provisioner.roster.platform_export import PlatformExport


class Microsoft365(Accounts, InStep, Lifecycle, ApiConnector):
    id = "microsoft-365"
    name = "Microsoft 365"
    secret_hint = (f"set the environment variable {SECRET_ENV} to the app's client secret, or use a certificate "
                   'instead (certificate = "path to the .pem file" under [platforms.microsoft-365])')
    fields = ("forename", "surname", "pseudonymous_id", "username", "password")
    optional_fields = ("class_name",)
    username_template = "{forename}{surname}"
    username_max_length = 40
    # Entra's complexity rule: 8+ characters from 3 of 4 classes. Tiger-Cloud-47 has all 4.
    password_rule = PasswordRule(words=2, separator="-", min_length=8, max_length=64, require_upper=True,
                                 require_symbol=True)  # fmt: skip
    sign_in_url = "https://www.office.com/"
    Settings = Microsoft365Settings
    lifecycle = frozenset(LIFECYCLE)

    @cached_property
    def delivery(self) -> Delivery:
        return SchoolDataSync(self) if self.settings.provisioning == SDS_FILES else ApiDelivery(self)

    def connect(self, school_domain: str) -> Directory:
        """Sign in, and read the accounts, licences and class groups this run works from."""
        return read_tenant(self.settings, school_domain)

    def sign_in_name(self, username: str, school_domain: str) -> str:
        return f"{username}@{(self.settings.domain or school_domain).lower()}"

    def own_export(self, school_domain: str) -> PlatformExport | None:
        """The pupil accounts in the tenant, read through Graph; None when the school gives this
        tool no access to it (School Data Sync files)."""
        if self.settings.provisioning == SDS_FILES:
            return None
        return tenant_export(self.settings, school_domain, "class_name" in self.sent_fields)

    def deletion_instruction(self, at_once: bool = False) -> str:
        """A deletion list is issued only with School Data Sync files, whose leavers are inactive, not deleted."""
        return ("In the Microsoft Entra admin centre, go to Users > All users, select each account below by its "
                "sign-in name and choose Delete. Entra keeps a deleted user for 30 days under Deleted users, where it "
                "can still be restored, then deletes it permanently")  # fmt: skip

    def settings_notes(self) -> list[str]:
        return [
            '# tenant_id = "00000000-0000-0000-0000-000000000000"',
            '# client_id = "00000000-0000-0000-0000-000000000000"',
            '# certificate = "C:/provisioner/m365-app.pem"  # or set PROVISIONER_M365_CLIENT_SECRET',
            '# licence_group = "Pupils - A1 licence"',
            "# domain = \"pupils.example.sch.uk\"  # default: the school's domain",
            '# licence_sku = "STANDARDWOFFPACK_STUDENT"  # instead of licence_group: assign the licence directly',
            '# class_groups = true  # one security group per class; needs optional_fields = ["class_name"]',
            '# provisioning = "sds-files"  # no app access: write School Data Sync v2.1 files to upload instead',
            "# timeout = 60  # seconds to wait for each answer from Microsoft before asking again (more behind a slow proxy)",
        ]
