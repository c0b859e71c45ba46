"""A business calendar as the arithmetic of sla/business_time.py reads it: its opening hours,
time zone, and days off (entered, imported from an iCalendar file, and its country's public
holidays for the years asked)."""

from datetime import date, datetime, timedelta

import holidays
import icalendar
import recurring_ical_events
from django.db import transaction
from django.utils import timezone

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


def days_off_import(
    calendar: BusinessCalendar, content: bytes, *, years: range | None = None
) -> int:
    """The days of every event in an iCalendar file become days off; returns how many days
    were added. See days_off_read for which days; a file that cannot be read adds none."""
    return days_off_add(calendar, days_off_read(content, years=years))


def days_off_read(content: bytes, *, years: range | None = None) -> dict[date, str]:
    """The days an iCalendar file's events cover, with the event's summary, in the years
    given (default: this year and the next two); days outside them are left out, one-off
    events too. All-day events of several days give each of their days; recurring events
    (RRULE, RDATE, EXDATE) give each occurrence, so a rule that never ends stays finite.
    Raises CalendarFileError."""
    if years is None:
        years = _this_year_and_next_two()
    days: dict[date, str] = {}
    for event in _occurrences(_parse(content), years):
        for day in _days(event.start, event.end):
            if day.year in years:
                days.setdefault(day, str(event.get("SUMMARY", ""))[:200])
    return days


@transaction.atomic
def days_off_add(calendar: BusinessCalendar, days: dict[date, str]) -> int:
    """Days off from days_off_read; a date the calendar already has off keeps its name."""
    added = 0
    for day, name in sorted(days.items()):
        _, created = DayOff.objects.get_or_create(
            calendar=calendar, date=day, defaults={"name": name}
        )
        added += created
    return added


def _this_year_and_next_two() -> range:
    this_year = timezone.now().year
    return range(this_year, this_year + 3)


def _parse(content: bytes) -> icalendar.Calendar:
    try:
        parsed = icalendar.Calendar.from_ical(content)
    except ValueError as exc:
        raise CalendarFileError(f"not an iCalendar file: {exc}") from None
    for event in parsed.walk("VEVENT"):
        if "DTSTART" not in event:
            raise CalendarFileError(f"an event has no start: {event.get('SUMMARY', '')}")
    return parsed


def _occurrences(parsed: icalendar.Calendar, years: range) -> list[icalendar.Event]:
    window = (date(years.start, 1, 1), date(years.stop, 1, 1))
    try:
        return recurring_ical_events.of(parsed).between(*window)
    except ValueError as exc:  # a broken date or rule, found only once read
        raise CalendarFileError(f"an event cannot be read: {exc}") from None


def _days(start: date, end: date) -> list[date]:
    """The dates an event covers: an all-day event's end is the day after its last."""
    first = start if not isinstance(start, datetime) else start.date()
    last = end - timedelta(days=1) if not isinstance(end, datetime) else end.date()
    return [first + timedelta(days=n) for n in range(max(0, (last - first).days) + 1)]
