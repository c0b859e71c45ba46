"""Days off imported from an iCalendar file, by import_days_off and the admin upload."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from sla.calendars import CalendarFileError, days_off_import
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


@pytest.fixture
def in_2026():
    """The window of recurring events is then 2026 to 2028."""
    with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=UTC), tick=False):
        yield


def test_each_day_of_each_event_is_a_day_off(calendar, tmp_path, capsys, in_2026):
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


def ics(*events: str) -> bytes:
    """A calendar file of the events given, each as its lines without BEGIN and END."""
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//EN\n{body}END:VCALENDAR\n".encode()


def test_a_yearly_holiday_is_a_day_off_each_year_of_the_window(calendar, in_2026):
    christmas = ics("UID:c\nSUMMARY:Christmas\nDTSTART;VALUE=DATE:20201225\nRRULE:FREQ=YEARLY")

    added = days_off_import(calendar, christmas)

    assert added == 3
    assert list(DayOff.objects.values_list("date", "name")) == [
        (date(2026, 12, 25), "Christmas"),
        (date(2027, 12, 25), "Christmas"),
        (date(2028, 12, 25), "Christmas"),
    ]


def test_the_window_can_be_chosen(calendar):
    christmas = ics("UID:c\nSUMMARY:Christmas\nDTSTART;VALUE=DATE:20201225\nRRULE:FREQ=YEARLY")

    days_off_import(calendar, christmas, years=range(2030, 2032))

    assert list(DayOff.objects.values_list("date", flat=True)) == [
        date(2030, 12, 25),
        date(2031, 12, 25),
    ]


def test_a_weekly_rule_with_a_count_gives_that_many_days(calendar, in_2026):
    fridays = ics(
        "UID:f\nSUMMARY:Short Friday\nDTSTART;TZID=Asia/Kolkata:20260102T140000\n"
        "DTEND;TZID=Asia/Kolkata:20260102T180000\nRRULE:FREQ=WEEKLY;COUNT=4"
    )

    days_off_import(calendar, fridays)

    assert list(DayOff.objects.values_list("date", flat=True)) == [
        date(2026, 1, 2),
        date(2026, 1, 9),
        date(2026, 1, 16),
        date(2026, 1, 23),
    ]


def test_an_excluded_date_is_left_out_and_an_added_one_counts(calendar, in_2026):
    fridays = ics(
        "UID:f\nSUMMARY:Short Friday\nDTSTART;VALUE=DATE:20260102\n"
        "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE;VALUE=DATE:20260109\nRDATE;VALUE=DATE:20260301"
    )

    days_off_import(calendar, fridays)

    assert list(DayOff.objects.values_list("date", flat=True)) == [
        date(2026, 1, 2),
        date(2026, 1, 16),
        date(2026, 1, 23),
        date(2026, 3, 1),
    ]


def test_a_broken_rule_changes_nothing(calendar, in_2026):
    broken = ics(
        "UID:a\nSUMMARY:Diwali\nDTSTART;VALUE=DATE:20261108",
        "UID:b\nSUMMARY:x\nDTSTART;VALUE=DATE:20260102\nRRULE:FREQ=SOMETIMES",
    )

    with pytest.raises(CalendarFileError, match="an event cannot be read"):
        days_off_import(calendar, broken)

    assert not DayOff.objects.exists()


def change_calendar(admin_client, calendar: BusinessCalendar, file: SimpleUploadedFile):
    """Posts the calendar's change page as it is, with an iCalendar file to import."""
    form = {"name": calendar.name, "time_zone": calendar.time_zone, "days_off_file": file}
    for inline in ("hours", "days_off"):
        form |= {f"{inline}-TOTAL_FORMS": 0, f"{inline}-INITIAL_FORMS": 0}
    return admin_client.post(
        f"/admin/sla/businesscalendar/{calendar.pk}/change/", form, follow=True
    )


def test_the_change_page_offers_the_upload(admin_client, calendar):
    page = admin_client.get(f"/admin/sla/businesscalendar/{calendar.pk}/change/")

    html = page.content.decode()
    assert "Import days off from an iCalendar file" in html
    assert 'enctype="multipart/form-data"' in html


def test_the_admin_imports_an_uploaded_file_and_says_how_many_days(admin_client, calendar, in_2026):
    page = change_calendar(admin_client, calendar, SimpleUploadedFile("off.ics", ICS))

    assert page.status_code == 200
    assert "3 days off added from the iCalendar file." in page.content.decode()
    assert DayOff.objects.filter(calendar=calendar).count() == 3


def test_the_admin_shows_why_a_file_cannot_be_read_and_adds_nothing(
    admin_client, calendar, in_2026
):
    page = change_calendar(admin_client, calendar, SimpleUploadedFile("off.ics", b"hello"))

    assert page.status_code == 200
    assert "off.ics: not an iCalendar file" in page.content.decode()
    assert not DayOff.objects.exists()
