"""Days off imported from an iCalendar file (python manage.py import_days_off)."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from sla.models import BusinessCalendar, DayOff

ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Office//Days off//EN
BEGIN:VEVENT
UID:1
SUMMARY:Diwali
DTSTART;VALUE=DATE:20261108
DTEND;VALUE=DATE:20261110
END:VEVENT
BEGIN:VEVENT
UID:2
SUMMARY:Team offsite
DTSTART:20261215T090000Z
DTEND:20261215T170000Z
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def calendar(db):
    return BusinessCalendar.objects.create(name="Mumbai desk", time_zone="Asia/Kolkata")


def test_each_day_of_each_event_is_a_day_off(calendar, tmp_path, capsys):
    file = tmp_path / "off.ics"
    file.write_bytes(ICS)

    call_command("import_days_off", "Mumbai desk", str(file))
    call_command("import_days_off", "Mumbai desk", str(file))  # again: nothing twice

    days = list(DayOff.objects.values_list("date", "name"))
    assert days == [
        (date(2026, 11, 8), "Diwali"),
        (date(2026, 11, 9), "Diwali"),
        (date(2026, 12, 15), "Team offsite"),
    ]
    assert capsys.readouterr().out.splitlines() == [
        "3 days off added to Mumbai desk.",
        "0 days off added to Mumbai desk.",
    ]


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"hello", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n", "no start"),
    ],
)
def test_a_file_that_cannot_be_read_changes_nothing(calendar, tmp_path, content, problem):
    file = tmp_path / "bad.ics"
    file.write_bytes(content)

    with pytest.raises(CommandError, match=problem):
        call_command("import_days_off", "Mumbai desk", str(file))

    assert not DayOff.objects.exists()


def test_an_unknown_calendar_names_those_there_are(calendar, tmp_path):
    with pytest.raises(CommandError, match="there are: Mumbai desk"):
        call_command("import_days_off", "Delhi", str(tmp_path / "x.ics"))
