"""How a time is shown to a person: in the school's own time zone, never in UTC.

The state records every time in UTC (``state.records.now``, an ISO string ending "+00:00"):
one clock for the audit chain and for comparing times, whatever the season. A governor, a
parent or the admin reads the school's clock instead, so 14:05 UTC on a day in June is the
15:05 the school saw. Two steps, kept apart so that JSON and documents agree:

- a job that puts a recorded time in its result gives it in the school's zone with its offset
  (``stamp``: "2026-06-27T15:05:00+01:00"), which is what ``--json`` prints;
- a document or the terminal shows such a time as words (``shown``: "27 June 2026, 15:05"),
  reading the wall-clock time the stamp already carries. Given a zone, ``shown`` converts first.

A date alone (a leaving date, a due date) is a day, not a moment, and is never converted; the
day of a moment (when an approval was given) is the school's day (``day``). The zone is the
``[school] time_zone`` setting, "Europe/London" unless the school sets another.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Europe/London"


def zone(name: str) -> ZoneInfo:
    """The time zone named ``name`` ("Europe/London"); a ValueError in words an admin can act on."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'"{name}" is not a time zone name; use one such as "Europe/London" (the region and city, '
            "as the IANA time zone list spells it)"
        ) from None


def local(iso: str, in_zone: ZoneInfo) -> datetime:
    """A recorded time (ISO 8601; one without an offset is UTC, as the state writes) in ``in_zone``."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(in_zone)


def stamp(iso: str | None, in_zone: ZoneInfo) -> str | None:
    """A recorded time for ``--json``: ISO 8601 in the school's zone with its offset
    ("2026-06-27T15:05:00+01:00"). A date alone, or nothing, is returned as it is."""
    if not iso or _is_day(iso):
        return iso
    return local(iso, in_zone).isoformat(timespec="seconds")


def shown(iso: str | None, in_zone: ZoneInfo | None = None, never: str = "never") -> str:
    """A time as a person reads it: "27 June 2026, 15:05". Without ``in_zone`` the stamp's own
    offset is kept (a ``stamp`` is already the school's time); a date alone is "27 June 2026"."""
    if not iso:
        return never
    if _is_day(iso):
        return long_date(date.fromisoformat(iso))
    moment = local(iso, in_zone) if in_zone else _parsed(iso)
    return f"{long_date(moment.date())}, {moment:%H:%M}"


def day(iso: str | None, in_zone: ZoneInfo | None = None) -> str:
    """The school's day of a recorded time, as ISO ("2026-06-27"): 23:30 UTC in June is the next day."""
    if not iso or _is_day(iso):
        return iso or ""
    return (local(iso, in_zone) if in_zone else _parsed(iso)).date().isoformat()


def today(in_zone: ZoneInfo) -> date:
    """Today's date on the school's clock (after midnight in England, while UTC is still yesterday)."""
    return datetime.now(in_zone).date()


def long_date(day: date) -> str:
    """A date as a British reader writes it: 22 November 2026."""
    return f"{day.day} {day:%B %Y}"


def _parsed(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_day(iso: str) -> bool:
    return len(iso) == 10
