"""The ROI estimate the use cases compute: new successful bookings × value per success, plus
errors avoided × cost of an error, plus days of delay saved × cost of a day, less the licences
for the period. "New" and "avoided" are against the baselines an admin enters (how things
went before); each line shows its numbers, so a supervisor can check it by hand."""

from dataclasses import dataclass
from decimal import Decimal

from sla.kpis import BY_NAME, Facts, kpi_figure
from sla.models import RoiSettings

DAY = 86400


@dataclass
class RoiLine:
    label: str
    worked: str  # how it was computed, in numbers
    amount: Decimal


def roi_settings_for(workflow: str) -> RoiSettings | None:
    """The workflow's own settings, else those for every workflow."""
    found = {s.workflow: s for s in RoiSettings.objects.filter(workflow__in=[workflow, ""])}
    return found.get(workflow) or found.get("")


def roi_estimate(settings: RoiSettings, facts: list[Facts], days: int) -> dict:
    sessions = len(facts)
    successes = sum(f.success_at is not None for f in facts)
    errors = sum(bool(f.success_at and f.undone_after_success) for f in facts)
    new = max(0.0, successes - settings.baseline_success_rate * sessions)
    avoided = max(0.0, settings.baseline_error_rate * successes - errors)
    median = kpi_figure(BY_NAME["time_to_confirmation"], facts)["p50_s"]
    saved = max(0.0, settings.baseline_days_to_success - median / DAY) if median else 0.0
    months = Decimal(days) / 30
    money = settings.currency
    lines = [
        RoiLine(
            "New successful bookings × value",
            f"({successes} − {settings.baseline_success_rate:g} × {sessions} sessions) × "
            f"{settings.value_per_success} {money}",
            _amount(new) * settings.value_per_success,
        ),
        RoiLine(
            "Errors avoided × cost of an error",
            f"({settings.baseline_error_rate:g} × {successes} − {errors} errors) × "
            f"{settings.cost_of_error} {money}",
            _amount(avoided) * settings.cost_of_error,
        ),
        RoiLine(
            "Days of delay saved × cost of a day",
            f"{saved:.2f} days × {successes} × {settings.cost_of_delay_per_day} {money}",
            _amount(saved * successes) * settings.cost_of_delay_per_day,
        ),
        RoiLine(
            "Licences",
            f"− {settings.licences} × {settings.licence_cost_per_month} {money} × "
            f"{months:.2f} months",
            -settings.licences * settings.licence_cost_per_month * months,
        ),
    ]
    for line in lines:
        line.amount = line.amount.quantize(Decimal("0.01"))
    return {"lines": lines, "net": sum(line.amount for line in lines), "currency": money}


def _amount(value: float) -> Decimal:
    return Decimal(str(round(value, 4)))
