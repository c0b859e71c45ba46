"""A business calendar as the arithmetic of sla/business_time.py reads it: its opening hours,
time zone, and days off (entered, and its country's public holidays for the years asked)."""

import holidays

from sla.business_time import Schedule
from sla.models import BusinessCalendar


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
