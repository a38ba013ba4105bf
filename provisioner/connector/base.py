"""The connector base class: what every platform declares, whichever way it is reached."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cached_property
from typing import Any, ClassVar

from provisioner.connector.scope import SCOPE_KEYS, Scope
from provisioner.connector.settings import PlatformSettings
from provisioner.connector.view import PupilView
from provisioner.models import Pupil
from provisioner.passwords import CHILD_FRIENDLY, PasswordRule
from provisioner.roster.platform_export import PlatformExport

# The settings that tell a pupil which school they are signing in to, in words for the admin.
SCHOOL_SIGN_IN_WORDS = {"school_code": "the school code", "sign_in_url": "the school's own sign-in page"}


class Connector:
    """Base class for a platform connector. Subclasses set the class attributes below; the core
    does the rest (planning, usernames, passwords, intent records, files, slips, the audit log).

    - ``id``: the processor id, as in settings, the register and the outbox (``purple-mash``).
    - ``name``: the platform's name for people.
    - ``Delivery``: how the platform is reached, a strategy from ``provisioner.delivery``
      (``FileImport``, ``ApiDelivery`` or ``MisSync``). A platform reachable more than one way
      overrides ``delivery`` to choose from its settings.
    - ``fields``: the explicit allow-list of vocabulary fields (provisioner.fields) the
      platform always receives. The register's "fields held" is generated from it.
    - ``optional_fields``: fields the platform can take but is sent only when the school
      lists them in ``optional_fields`` in its settings.
    - ``username_template`` and ``username_max_length``: the default username rule.
    - ``password_rule``: the passwords the platform accepts (``None``: it makes its own).
    - ``sign_in_url``: where pupils sign in (printed on login slips; a school may override it).
    - ``school_sign_in``: the settings (``school_code``, ``sign_in_url``), any one of which a
      pupil needs on their slip to find their school when signing in; while the school has set
      none, the plan says the slips lack it. Empty: the platform's own page and the username do.
    - ``verified``: False when no public template was found and the layout is our best guess;
      the register says so and the school can match its template with ``columns``.
    - ``resets_by_import``: False when new passwords for existing pupils are set on the platform;
      ``reset_on_platform`` then says where (the refusal of ``reset-passwords`` names it).
    - ``Settings``: the pydantic model of ``[platforms.<id>]``.

    A connector is built with its settings and its register entry's default scope (the
    workspace passes it in, since the register sits above this layer); ``scope`` is the two
    together and ``serves`` asks it about one pupil. Built without a default, it serves every
    pupil unless the settings say otherwise.

    The capabilities are mixins: ``ImportFileConnector`` (an import file's layout) and
    ``ApiConnector`` (calls to the platform, and the leaver hooks). Everything a connector sends
    must come from the ``PupilView`` it is given.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    # A strategy class from provisioner.delivery, which sits above this module (the strategies
    # drive the connectors), so it is not imported here.
    Delivery: ClassVar[type]
    fields: ClassVar[tuple[str, ...]]
    optional_fields: ClassVar[tuple[str, ...]] = ()
    username_template: ClassVar[str] = "{forename}{surname_initial}"
    username_max_length: ClassVar[int] = 20
    password_rule: ClassVar[PasswordRule | None] = CHILD_FRIENDLY
    sign_in_url: ClassVar[str] = ""
    school_sign_in: ClassVar[tuple[str, ...]] = ()
    verified: ClassVar[bool] = True
    resets_by_import: ClassVar[bool] = True
    reset_on_platform: ClassVar[str] = "its admin pages offer a bulk password change"
    # How the platform's secret is given, where it needs one: never in provisioner.toml.
    secret_hint: ClassVar[str] = ""
    Settings: ClassVar[type[PlatformSettings]] = PlatformSettings

    def __init__(self, settings: PlatformSettings | None = None, default_scope: Scope | None = None):
        self.settings = settings or self.Settings()
        self.default_scope = default_scope or Scope()

    @cached_property
    def scope(self) -> Scope:
        """Which pupils the platform serves: the school's settings over the register entry's default."""
        settings = self.settings
        return self.default_scope.with_settings(settings.year_groups, settings.classes, settings.exclude_classes,
                                                settings.model_fields_set & set(SCOPE_KEYS))  # fmt: skip

    def serves(self, pupil: Pupil) -> bool:
        """Whether this pupil is one the platform is for (their year group and class are in its scope)."""
        return self.scope.includes(pupil.year_group, pupil.class_name)

    @cached_property
    def delivery(self) -> Any:
        """The way this platform is provisioned with these settings."""
        return self.Delivery(self)

    @property
    def enabled_fields(self) -> tuple[str, ...]:
        """The fields always sent, and the optional ones the school turned on."""
        return (*self.fields, *(f for f in self.optional_fields if f in self.settings.optional_fields))

    @cached_property
    def sent_fields(self) -> tuple[str, ...]:
        """The fields this platform receives with these settings: what the register lists."""
        return self.delivery.sent_fields()

    @cached_property
    def declared(self) -> frozenset[str]:
        """``sent_fields`` as a set, made once: every view of every pupil shares it."""
        return frozenset(self.sent_fields)

    def view(self, values: Mapping[str, str]) -> PupilView:
        """What this connector may read of these values: the fields it is sent, nothing else."""
        return PupilView(self.id, values, self.declared)

    @property
    def effective_username_template(self) -> str:
        return self.settings.username_template or self.username_template

    @property
    def effective_sign_in_url(self) -> str:
        return self.settings.sign_in_url or self.sign_in_url

    @property
    def slips_lack(self) -> str:
        """What its pupils need to find their school that these settings leave off the slips, in
        words ("the school code"); "" when nothing is missing."""
        if not self.school_sign_in or any(getattr(self.settings, key) for key in self.school_sign_in):
            return ""
        return " or ".join(SCHOOL_SIGN_IN_WORDS[key] for key in self.school_sign_in)

    @property
    def issues_passwords(self) -> bool:
        return self.password_rule is not None and "password" in self.sent_fields

    @property
    def effective_password_rule(self) -> PasswordRule | None:
        """The passwords this tool makes for the platform: its rule, with the school's longer
        ``password_min_length`` if it set one (never shorter than the platform's own minimum)."""
        rule, length = self.password_rule, self.settings.password_min_length
        return rule.at_least(length) if rule is not None and length is not None else rule

    def sign_in_name(self, username: str, school_domain: str) -> str:
        """What a pupil types to sign in, as printed on the slip."""
        return username

    @property
    def slip_school_code(self) -> str:
        """The school code a slip prints on a line of its own: the school's, "" when it set none
        (a platform whose usernames carry the code gives "", so the slip says it once)."""
        return self.settings.school_code or ""

    def setup_warnings(self) -> list[str]:
        """What is missing from these settings for pupils to use their accounts (plan and apply
        show it); empty when nothing is."""
        return []

    def deletion_instruction(self, at_once: bool = False) -> str:
        """What the admin does with each account on a deletion list, in the platform's words
        where its delete offers a choice. ``at_once``: a deletion that must not wait on the
        platform's own hold (an erasure request), whatever the school's usual choice."""
        return f"Delete each account on {self.name}"

    def own_export(self, school_domain: str) -> PlatformExport | None:
        """The platform's own list of the pupil accounts it holds, read from it directly, for a
        reconcile without an export file; None where the admin downloads the export instead."""
        return None

    def held_after_deletion(self, confirmed_on: date) -> date | None:
        """The day the platform itself erases an account the admin confirmed deleted on
        ``confirmed_on``, when it keeps it for a while first (None: gone at once). Such an
        account is recorded as held until then (``AccountStatus.PLATFORM_HOLD``)."""
        return None

    def held_where(self) -> str:
        """Where the platform keeps an account it holds after deletion, in words for governors
        and parents ("Times Tables Rock Stars' Leavers group")."""
        return f"{self.name}'s own store of deleted accounts"

    def slips_file_name(self, batch_id: str, suffix: str) -> str:
        return f"{self.id}-login-slips-{batch_id}{suffix}"

    def settings_notes(self) -> list[str]:
        """Extra commented lines for this platform's section of a new provisioner.toml."""
        return []
