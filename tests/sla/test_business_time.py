"""Business-time arithmetic across nights, weekends, holidays, split shifts and daylight-saving
changes; and calendars as the admin enters them, with a country's public holidays."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from sla.business_time import Schedule, business_deadline, business_seconds
from sla.calendars import calendar_schedule
from sla.models import BusinessCalendar, DayOff, OpeningHours

WEEKDAYS_9_TO_5 = {day: [(time(9), time(17))] for day in range(5)}
HOUR = 3600


def at(text: str, zone=UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


OFFICE = Schedule(zone="UTC", hours=WEEKDAYS_9_TO_5)


@pytest.mark.parametrize(
    "start, end, hours",
    [
        ("2026-12-07 10:00", "2026-12-07 12:30", 2.5),  # within one day
        ("2026-12-07 16:00", "2026-12-08 10:00", 2),  # across the night
        ("2026-12-04 16:00", "2026-12-07 10:00", 2),  # Friday to Monday: the weekend counts 0
        ("2026-12-05 08:00", "2026-12-06 20:00", 0),  # all weekend
        ("2026-12-07 06:00", "2026-12-07 08:00", 0),  # before opening
        ("2026-12-07 12:00", "2026-12-07 11:00", 0),  # end before start
        ("2026-12-07 09:00", "2026-12-14 09:00", 40),  # a whole week
    ],
)
def test_business_seconds_between(start, end, hours):
    assert business_seconds(OFFICE, at(start), at(end)) == hours * HOUR


@pytest.mark.parametrize(
    "start, hours, deadline",
    [
        ("2026-12-07 10:00", 1, "2026-12-07 11:00"),
        ("2026-12-07 16:30", 1, "2026-12-08 09:30"),  # runs on the next morning
        ("2026-12-04 16:00", 8, "2026-12-07 16:00"),  # over the weekend
        ("2026-12-05 12:00", 0.5, "2026-12-07 09:30"),  # started on Saturday
        ("2026-12-07 17:00", 8, "2026-12-08 17:00"),
    ],
)
def test_deadlines(start, hours, deadline):
    assert business_deadline(OFFICE, at(start), hours * HOUR) == at(deadline)


def test_a_holiday_is_closed():
    christmas = Schedule(
        zone="UTC", hours=WEEKDAYS_9_TO_5, holidays=frozenset({date(2026, 12, 25)})
    )

    assert business_deadline(christmas, at("2026-12-24 16:00"), 2 * HOUR) == at("2026-12-28 10:00")
    assert business_seconds(christmas, at("2026-12-24 00:00"), at("2026-12-26 00:00")) == 8 * HOUR


def test_split_shifts():
    split = Schedule(zone="UTC", hours={0: [(time(14), time(18)), (time(8), time(12))]})

    assert business_seconds(split, at("2026-12-07 00:00"), at("2026-12-08 00:00")) == 8 * HOUR
    assert business_deadline(split, at("2026-12-07 11:00"), 2 * HOUR) == at("2026-12-07 15:00")


def test_a_night_shift_until_midnight_and_one_across_it():
    nights = Schedule(zone="UTC", hours={0: [(time(20), time(0))], 1: [(time(0), time(4))]})

    assert business_seconds(nights, at("2026-12-07 00:00"), at("2026-12-09 00:00")) == 8 * HOUR
    assert business_deadline(nights, at("2026-12-07 23:00"), 2 * HOUR) == at("2026-12-08 01:00")


def test_in_the_calendars_time_zone():
    mumbai = Schedule(zone="Asia/Kolkata", hours=WEEKDAYS_9_TO_5)

    # 09:00 in Mumbai is 03:30 UTC.
    assert business_deadline(mumbai, at("2026-12-07 00:00"), HOUR) == at("2026-12-07 04:30")


def test_a_day_that_loses_an_hour_and_one_that_gains_one():
    """London's clocks go forward on 28 March 2027 and back on 31 October 2027: a Sunday
    shift from 00:00 to 06:00 lasts five hours, then seven."""
    sunday_nights = Schedule(zone="Europe/London", hours={6: [(time(0), time(6))]})

    spring = business_seconds(sunday_nights, at("2027-03-27 12:00"), at("2027-03-29 00:00"))
    autumn = business_seconds(sunday_nights, at("2027-10-30 12:00"), at("2027-11-01 00:00"))

    assert (spring, autumn) == (5 * HOUR, 7 * HOUR)
    # Four working hours from Sunday 00:00 local (00:00 UTC) end at 05:00 BST (04:00 UTC).
    assert business_deadline(sunday_nights, at("2027-03-28 00:00"), 4 * HOUR) == at(
        "2027-03-28 04:00"
    )


def test_no_hours_means_always_open_and_no_opening_means_no_deadline():
    always = Schedule(zone="UTC", hours={})
    never = Schedule(zone="UTC", hours={0: [(time(9), time(9))]})

    assert business_deadline(always, at("2026-12-05 12:00"), HOUR) == at("2026-12-05 13:00")
    assert business_deadline(never, at("2026-12-05 12:00"), HOUR) is None


@pytest.mark.django_db
def test_a_calendar_takes_its_hours_days_off_and_the_countrys_public_holidays():
    calendar = BusinessCalendar.objects.create(
        name="London desk", time_zone="Europe/London", country="GB", subdivision="ENG"
    )
    for day in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=day, opens=time(9), closes=time(17))
    DayOff.objects.create(calendar=calendar, date=date(2026, 12, 24), name="Office party")

    schedule = calendar_schedule(calendar, years=range(2026, 2028))

    assert {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)} <= schedule.holidays
    # Wednesday 23 Dec 16:00 + 2 h: Thursday is a day off, Friday Christmas, Monday Boxing Day
    # (moved from Saturday), Tuesday 29 Dec 10:00.
    deadline = business_deadline(schedule, at("2026-12-23 16:00"), 2 * HOUR)
    assert deadline == at("2026-12-29 10:00")
    assert deadline - at("2026-12-23 16:00") > timedelta(days=5)
