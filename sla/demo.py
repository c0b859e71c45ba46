"""SLA's part of the demo data: a policy for each demo workflow, with the targets its use case
names, an office calendar for the export desk, and ROI settings with the use cases' figures."""

from datetime import time
from decimal import Decimal

from sla.models import BusinessCalendar, OpeningHours, RoiSettings, SlaPolicy
from sla.services import policy_create

HOUR = 3600
POLICIES = [
    # A location manager acknowledges within the hour; a booking is confirmed in 30 minutes.
    ("Coworking booking", "booking", {"partner_ack": HOUR, "confirmation": 1800}),
    ("Childcare interview", "childcare-interview", {"first_response": 4 * HOUR}),
    # A factory manager sees buyer feedback within 2 working hours.
    ("Export feedback", "export-feedback", {"partner_ack": 2 * HOUR, "next_response": 4 * HOUR}),
    # A workshop acknowledges within 8 hours and quotes within a day.
    ("Bespoke quote", "bespoke-inquiry", {"partner_ack": 8 * HOUR, "quote": 24 * HOUR}),
]
ROI = [
    ("booking", {"value_per_success": 500, "baseline_success_rate": 0.5, "cost_of_error": 80,
                 "baseline_error_rate": 0.1}),
    ("childcare-interview", {"value_per_success": 150, "baseline_success_rate": 0.45}),
    ("export-feedback", {"cost_of_delay_per_day": 500, "baseline_days_to_success": 0.5}),
    ("bespoke-inquiry", {"value_per_success": 2000, "baseline_success_rate": 0.2}),
]  # fmt: skip


def sla_demo_load() -> None:
    """Idempotent: running it again changes nothing."""
    office = _office_calendar()
    for name, workflow, targets in POLICIES:
        if not SlaPolicy.objects.filter(name=name).exists():
            calendar = office if workflow == "export-feedback" else None
            policy_create(
                name=name,
                workflow=workflow,
                targets=targets,
                calendar=calendar,
                escalate_after=HOUR,
            )
    for workflow, values in ROI:
        RoiSettings.objects.get_or_create(
            workflow=workflow, defaults={k: Decimal(str(v)) for k, v in values.items()}
        )


def _office_calendar() -> BusinessCalendar:
    office, created = BusinessCalendar.objects.get_or_create(
        name="Export desk", defaults={"time_zone": "Asia/Kolkata", "country": "IN"}
    )
    if created:
        for weekday in range(6):  # Monday to Saturday, with a lunch break
            OpeningHours.objects.create(
                calendar=office, weekday=weekday, opens=time(9), closes=time(13)
            )
            OpeningHours.objects.create(
                calendar=office, weekday=weekday, opens=time(14), closes=time(18)
            )
    return office
