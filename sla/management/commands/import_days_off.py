from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sla.calendars import CalendarFileError, days_off_import
from sla.models import BusinessCalendar


class Command(BaseCommand):
    help = (
        "Make every day of every event of an iCalendar (.ics) file, recurring ones "
        "included, a day off of a business calendar: those of this year and the next two."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("calendar", help="The business calendar's name.")
        parser.add_argument("file", type=Path, help="The .ics file.")

    def handle(self, *args, calendar: str, file: Path, **options) -> None:
        found = BusinessCalendar.objects.filter(name=calendar).first()
        if found is None:
            names = ", ".join(BusinessCalendar.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"there is no business calendar '{calendar}'; there are: {names}")
        try:
            added = days_off_import(found, file.read_bytes())
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        except CalendarFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        self.stdout.write(f"{added} days off added to {found.name}.")
