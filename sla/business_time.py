"""Business-time arithmetic: how much working time lies between two instants, and when a
given amount of it runs out, for a calendar of opening intervals per weekday (several a day:
split shifts), in a time zone, closed on holidays. Wall-clock intervals are turned into
instants day by day, so a daylight-saving change shortens or lengthens that day's hours as it
does for the people working them."""

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

UTC = zoneinfo.ZoneInfo("UTC")
MOST_DAYS = 3660  # ten years: a deadline further than that is not a business deadline


@dataclass(frozen=True)
class Schedule:
    zone: str
    # weekday (Monday 0) → [(opens, closes)], wall-clock times; closes may be time(0) for midnight
    hours: dict[int, list[tuple[time, time]]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return not self.hours

    def intervals_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The instants `day` is open, in order (none on a holiday)."""
        if day in self.holidays:
            return
        tz = zoneinfo.ZoneInfo(self.zone)
        for opens, closes in sorted(self.hours.get(day.weekday(), [])):
            start = datetime.combine(day, opens, tzinfo=tz)
            end_day = day + timedelta(days=1) if closes == time(0) else day
            end = datetime.combine(end_day, closes, tzinfo=tz)
            # In UTC: aware datetimes of one zone compare and add as wall times. A wall time a
            # clock change skipped becomes the instant after the gap; a repeated one, the first.
            start, end = start.astimezone(UTC), end.astimezone(UTC)
            if end > start:
                yield start, end


def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Working seconds from `start` to `end` (0 if end is not after start)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    if schedule.always_open:
        return (end - start).total_seconds()
    total = 0.0
    for opens, closes in _intervals_from(schedule, start):
        if opens >= end:
            break
        total += (min(closes, end) - max(opens, start)).total_seconds()
    return total


def business_deadline(schedule: Schedule, start: datetime, seconds: float) -> datetime | None:
    """The instant `seconds` of working time after `start`; None if the calendar never opens."""
    start = start.astimezone(UTC)
    if schedule.always_open:
        return start + timedelta(seconds=seconds)
    left = seconds
    for opens, closes in _intervals_from(schedule, start):
        available = (closes - max(opens, start)).total_seconds()
        if left <= available:
            return max(opens, start) + timedelta(seconds=left)
        left -= available
    return None


def _intervals_from(schedule: Schedule, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals that end after `start`, in order, for at most MOST_DAYS days."""
    tz = zoneinfo.ZoneInfo(schedule.zone)
    day = start.astimezone(tz).date() - timedelta(days=1)  # yesterday's night shift may run on
    for offset in range(MOST_DAYS):
        for opens, closes in schedule.intervals_on(day + timedelta(days=offset)):
            if closes > start:
                yield opens, closes
