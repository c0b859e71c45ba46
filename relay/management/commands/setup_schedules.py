from django.core.management.base import BaseCommand
from django_q.models import Schedule

from relay.tasks import SCHEDULES


class Command(BaseCommand):
    help = "Create or update the periodic django-q2 schedules. Safe to run on every deploy."

    def handle(self, *args, **options) -> None:
        for name, (func, minutes) in SCHEDULES.items():
            wanted = {
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            }
            existing = Schedule.objects.filter(name=name).order_by("pk")
            schedule = existing.first()
            if schedule is None:
                Schedule.objects.create(name=name, **wanted)
                verb = "created"
            else:
                # Only our fields: the cluster keeps next_run and task up to date meanwhile.
                Schedule.objects.filter(pk=schedule.pk).update(**wanted)
                # Names are not unique in django-q2; a leftover would run the task twice.
                existing.exclude(pk=schedule.pk).delete()
                verb = "updated"
            self.stdout.write(f"Schedule {name}: {func} every {minutes} minute(s), {verb}.")
