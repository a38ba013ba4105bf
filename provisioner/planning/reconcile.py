"""Pure: what a platform's own pupil export says about the accounts the tool made there.

Each export row is matched to one account: by username first (case ignored; as the pupil types
it, ``connector.sign_in_name``, or bare, so IXL's ``name@code`` matches either way), else by the
pseudonymous id where the platform carries one (EducationCity's Unique ID, Purple Mash's UPN
column), else by name and class, only when one account alone has them. Then:

- ``still_present``: accounts whose deletion was asked or confirmed that the export still holds.
  They are not counted deleted.
- ``proved_gone``: accounts whose deletion was asked or confirmed that the export no longer holds:
  the platform's own record proves the deletion.
- ``unknown``: export rows matching no account the tool made (made by hand, by another tool, or
  a pupil the tool has forgotten): for the admin to look at, never acted on.
- ``differences``: matched rows whose name or class differ from what the tool last sent.
- ``missing``: accounts the tool holds as in use that the export lacks (an import not uploaded,
  or an account deleted on the platform by hand).

Deciding here, recording in ``jobs/reconcile.py``: nothing in this module reads or writes a file
or the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provisioner.connector import Connector
from provisioner.roster.platform_export import ExportRow, PlatformExport
from provisioner.state import Account, AccountStatus, Identity

EXPECTED_GONE = (AccountStatus.DELETION_REQUESTED, AccountStatus.DELETED)
IN_USE = (AccountStatus.ACTIVE, AccountStatus.DISABLED)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Found:
    """One account (or export row) in a reconcile's report, with what the admin needs to find it."""

    name: str
    username: str
    class_name: str = ""
    pupil_key: str | None = None  # None: an export row matching no account
    status: str | None = None
    row: int | None = None  # the export's row, when the export holds it
    matched_by: str | None = None  # username, id or name and class
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (sent, in the export)

    def as_dict(self) -> dict:
        found = {"name": self.name, "username": self.username, "class": self.class_name, "pupil": self.pupil_key,
                 "status": self.status, "row": self.row, "matched_by": self.matched_by}  # fmt: skip
        if self.changes:
            found["changes"] = {name: {"sent": sent, "export": now} for name, (sent, now) in self.changes.items()}
        return found


@dataclass
class Reconciliation:
    platform: str
    name: str  # the platform's name for people
    source: str  # the export's path, or where the accounts were read from
    export_date: str  # the day the export was read: what the proof is dated
    columns: dict[str, str]  # our field -> the export's header it was read from
    rows: int = 0
    still_present: list[Found] = field(default_factory=list)
    proved_gone: list[Found] = field(default_factory=list)
    unknown: list[Found] = field(default_factory=list)
    differences: list[Found] = field(default_factory=list)
    missing: list[Found] = field(default_factory=list)
    proved: int = 0  # deletions the state recorded as proved by this export (set when recorded)
    withheld: str = ""  # why this export proves no deletion ("" when it may)

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "still_present": len(self.still_present), "proved_gone": len(self.proved_gone),
                "unknown": len(self.unknown), "differences": len(self.differences), "missing": len(self.missing)}  # fmt: skip

    def as_dict(self) -> dict:
        return {
            "platform": self.platform, "export_date": self.export_date, "columns": self.columns,
            "counts": self.counts(), "proved": self.proved, "proof_withheld": self.withheld or None,
            "still_present": [f.as_dict() for f in self.still_present],
            "unknown": [f.as_dict() for f in self.unknown],
            "differences": [f.as_dict() for f in self.differences],
            "missing": [f.as_dict() for f in self.missing],
        }  # fmt: skip


class _Matcher:
    """The accounts an export row may be, by each thing a row can be matched on."""

    def __init__(self, connector: Connector, accounts: dict[str, Account], school_domain: str):
        self.by_username: dict[str, str] = {}
        self.by_id: dict[str, str] = {}
        by_name: dict[tuple[str, str], list[str]] = {}
        by_name_only: dict[str, list[str]] = {}
        for key, account in accounts.items():
            if account.username:
                for shown in (account.username, connector.sign_in_name(account.username, school_domain)):
                    self.by_username.setdefault(_fold(shown), key)
            pseudonym = account.sent.get("pseudonymous_id")
            if pseudonym:
                self.by_id[_fold(pseudonym)] = key
            name = _fold(f"{account.sent.get('forename', '')} {account.sent.get('surname', '')}")
            if name:
                by_name.setdefault((name, _fold(account.sent.get("class_name", ""))), []).append(key)
                by_name_only.setdefault(name, []).append(key)
        # Only a name (and class) one account alone has: two children of one name are never guessed.
        self.by_name_and_class = {found: keys[0] for found, keys in by_name.items() if len(keys) == 1}
        self.by_name = {found: keys[0] for found, keys in by_name_only.items() if len(keys) == 1}
        self.bare_usernames = not any("@" in a.username for a in accounts.values())

    def match(self, row: ExportRow, classes: bool) -> tuple[str | None, str | None]:
        """(the account's key, what matched it), or (None, None)."""
        if row.username:
            username = _fold(row.username)
            key = self.by_username.get(username)
            if key is None and self.bare_usernames and "@" in username:  # name@code, the code not set here
                key = self.by_username.get(username.partition("@")[0])
            if key:
                return key, "username"
        if row.pseudonymous_id and (key := self.by_id.get(_fold(row.pseudonymous_id))):
            return key, "id"
        name = _fold(row.name)
        if name and classes and (key := self.by_name_and_class.get((name, _fold(row.class_name)))):
            return key, "name and class"
        if name and not classes and (key := self.by_name.get(name)):
            return key, "name"
        return None, None


def reconcile(connector: Connector, export: PlatformExport, accounts: dict[str, Account],
              identities: dict[str, Identity], export_date: str, school_domain: str = "") -> Reconciliation:  # fmt: skip
    """Compare the platform's export with the accounts the tool made there. See the module docstring."""
    result = Reconciliation(connector.id, connector.name, export.source, export_date, export.columns, len(export.rows))
    # A pending account (an apply not finished) may be matched, but is never missing.
    matcher = _Matcher(connector, accounts, school_domain)
    classes = "class_name" in export.columns and any("class_name" in a.sent for a in accounts.values())
    seen: dict[str, ExportRow] = {}
    for row in export.rows:
        key, matched_by = matcher.match(row, classes)
        if key is None or key in seen:
            result.unknown.append(Found(row.name, row.username, row.class_name, row=row.row))
            continue
        seen[key] = row
        account = accounts[key]
        found = _found(account, identities.get(key), row, matched_by)
        if account.status in EXPECTED_GONE:
            result.still_present.append(found)
        changes = _changes(account, row, export.columns)
        if changes:
            result.differences.append(Found(found.name, found.username, found.class_name, key, account.status, row.row,
                                            matched_by, changes))  # fmt: skip
    for key, account in accounts.items():
        if key in seen:
            continue
        found = _found(account, identities.get(key), None, None)
        if account.status in EXPECTED_GONE:
            result.proved_gone.append(found)
        elif account.status in IN_USE:
            result.missing.append(found)
    for listed in (result.still_present, result.unknown, result.differences, result.missing, result.proved_gone):
        listed.sort(key=lambda f: (_fold(f.class_name), _fold(f.name), f.row or 0))
    return result


def _found(account: Account, identity: Identity | None, row: ExportRow | None, matched_by: str | None) -> Found:
    sent = account.sent
    name = f"{sent.get('forename', '')} {sent.get('surname', '')}".strip()
    if not name and identity is not None:
        name = f"{identity.forename} {identity.surname}".strip()
    class_name = sent.get("class_name") or (identity.class_name if identity else "")
    return Found(name or (row.name if row else ""), account.username, class_name, account.pupil_key,
                 str(account.status), row.row if row else None, matched_by)  # fmt: skip


def _changes(account: Account, row: ExportRow, columns: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The names and class the export holds otherwise than the tool last sent them."""
    sent, changes = account.sent, {}
    for name in ("forename", "surname", "class_name"):
        if name in columns and name in sent and _fold(getattr(row, name)) != _fold(sent[name]):
            changes[name] = (sent[name], getattr(row, name))
    if "full_name" in columns and "forename" not in columns and "forename" in sent:
        whole = f"{sent['forename']} {sent.get('surname', '')}".strip()
        if _fold(row.full_name) != _fold(whole):
            changes["full_name"] = (whole, row.full_name)
    return changes
