"""A business calendar as the arithmetic of sla/business_time.py reads it: its opening hours,
time zone, and days off (entered, imported from an iCalendar file, and its country's public
holidays for the years asked)."""

from datetime import date, datetime, timedelta

import holidays
import icalendar
from django.db import transaction

from sla.business_time import Schedule
from sla.models import BusinessCalendar, DayOff


def calendar_schedule(calendar: BusinessCalendar, *, years: range) -> Schedule:
    hours: dict[int, list] = {}
    for interval in calendar.hours.all():
        hours.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
    days_off = set(calendar.days_off.filter(date__year__in=years).values_list("date", flat=True))
    if calendar.country:
        public = holidays.country_holidays(
            calendar.country, subdiv=calendar.subdivision or None, years=years
        )
        days_off |= set(public)
    return Schedule(zone=calendar.time_zone, hours=hours, holidays=frozenset(days_off))


class CalendarFileError(ValueError):
    """An iCalendar file that cannot be read, in words."""


@transaction.atomic
def days_off_import(calendar: BusinessCalendar, content: bytes) -> int:
    """The days of every event in an iCalendar file become days off (all-day events of
    several days give each of their days); returns how many days were added."""
    try:
        parsed = icalendar.Calendar.from_ical(content)
    except ValueError as exc:
        raise CalendarFileError(f"not an iCalendar file: {exc}") from None
    added = 0
    for event in parsed.walk("VEVENT"):
        start, end = event.get("DTSTART"), event.get("DTEND")
        if start is None:
            raise CalendarFileError(f"an event has no start: {event.get('SUMMARY', '')}")
        for day in _days(start.dt, end.dt if end is not None else None):
            _, created = DayOff.objects.get_or_create(
                calendar=calendar, date=day, defaults={"name": str(event.get("SUMMARY", ""))[:200]}
            )
            added += created
    return added


def _days(start, end) -> list[date]:
    """The dates an event covers: an all-day event's end is the day after its last."""
    first = start if not isinstance(start, datetime) else start.date()
    if end is None:
        return [first]
    last = end - timedelta(days=1) if not isinstance(end, datetime) else end.date()
    return [first + timedelta(days=n) for n in range(max(0, (last - first).days) + 1)]
