"""What the supervisor dashboard shows, read for one period: the headline KPIs of the
workflow (each seed's own), their weekly course, one KPI per partner, breaches by who let
them run out, the period's breaches, the clocks at risk now, and the ROI estimate."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from routing.models import Workflow
from sla.kpis import BY_NAME, Facts, Kpi, kpi_figure
from sla.models import SlaClock
from sla.roi import roi_estimate, roi_settings_for

# The figures each use case is judged by first; every workflow also shows its SLA.
HEADLINES = {
    "booking": [
        "time_to_confirmation",
        "first_contact_resolution",
        "coordination_error_rate",
        "agent_handling_time",
    ],
    "childcare-interview": [
        "time_to_first_response",
        "scheduling_conversion",
        "no_show_rate",
        "messages_to_slot",
    ],
    "export-feedback": [
        "time_to_acknowledge",
        "time_to_confirmation",
        "first_contact_resolution",
        "audit_score",
    ],
    "bespoke-inquiry": [
        "quote_turnaround",
        "first_contact_resolution",
        "acceptance_rate",
        "leakage_attempts",
    ],
}
DEFAULT_HEADLINES = [
    "time_to_first_response",
    "time_to_confirmation",
    "success_rate",
    "leakage_attempts",
]
SLA_HEADLINES = ["sla_compliance", "sla_breaches"]
AT_RISK_WITHIN = timedelta(hours=1)
SHOWN = 50


def headlines(workflow: str) -> list[Kpi]:
    return [BY_NAME[name] for name in HEADLINES.get(workflow, DEFAULT_HEADLINES) + SLA_HEADLINES]


def duration_unit(figure: dict) -> tuple[int, str]:
    """Seconds per unit and its name, for charts of a duration whose median is `figure`'s."""
    long = figure.get("p50_s") and figure["p50_s"] > 3 * 3600
    return (3600, "hours") if long else (60, "minutes")


def kpi_value(kpi: Kpi, figure: dict, unit: int = 60) -> float | None:
    """The one number a chart draws: the median of a duration (in `unit` seconds), else the
    value (rates in %)."""
    if kpi.kind == "duration":
        return None if figure["p50_s"] is None else round(figure["p50_s"] / unit, 1)
    if kpi.kind == "number":
        return figure["p50"]
    value = figure["value"]
    return round(value * 100, 1) if value is not None and kpi.kind in ("rate", "ratio") else value


def kpi_label(kpi: Kpi, workflow: str) -> str:
    if kpi.name == "time_to_confirmation" and workflow:
        success = Workflow.objects.filter(slug=workflow).values_list("success_status", flat=True)
        status = success.first()
        return f"Time to {status.replace('_', ' ')}" if status else kpi.label
    return kpi.label


def weekly(
    facts: list[Facts], kpis: list[Kpi], start: date, end: date, units: dict[str, int]
) -> dict:
    """Each KPI's value per week (weeks start on Monday), for line charts."""
    weeks = []
    week = start - timedelta(days=start.weekday())
    while week <= end:
        weeks.append(week)
        week += timedelta(days=7)
    by_week: dict[date, list[Facts]] = defaultdict(list)
    for each in facts:
        opened = each.opened_at.date()
        by_week[opened - timedelta(days=opened.weekday())].append(each)
    return {
        "labels": [str(week) for week in weeks],
        "series": {
            kpi.name: [
                kpi_value(kpi, kpi_figure(kpi, by_week[week]), units.get(kpi.name, 60))
                for week in weeks
            ]
            for kpi in kpis
        },
    }


def per_partner(facts: list[Facts], kpi: Kpi, unit: int) -> dict:
    groups: dict[str, list[Facts]] = defaultdict(list)
    for each in facts:
        groups[each.partner or "(triage)"].append(each)
    names = sorted(groups)
    return {
        "labels": names,
        "values": [kpi_value(kpi, kpi_figure(kpi, groups[name]), unit) for name in names],
    }


def breaches_by_owner(facts: list[Facts]) -> dict:
    owners = ("partner", "agent", "team")
    return {
        "labels": list(owners),
        "values": [sum(f.breaches_by.get(owner, 0) for f in facts) for owner in owners],
    }


def breaches_of(start: date, end: date, workflow: str):
    clocks = SlaClock.objects.filter(  # a range the index serves, not a date of each row
        breached_at__gte=datetime.combine(start, time(), UTC),
        breached_at__lt=datetime.combine(end + timedelta(days=1), time(), UTC),
    )
    return _of_workflow(clocks, workflow).order_by("-breached_at")[:SHOWN]


def at_risk(workflow: str, *, now=None):
    """Running clocks due within the hour (or warned already), soonest first."""
    now = now or timezone.now()
    clocks = SlaClock.objects.filter(
        Q(due_at__lte=now + AT_RISK_WITHIN) | Q(warned_at__isnull=False),
        stopped_at__isnull=True,
        breached_at__isnull=True,
        due_at__isnull=False,
    )
    return _of_workflow(clocks, workflow).order_by("due_at")[:SHOWN]


def roi(facts: list[Facts], workflow: str, start: date, end: date) -> dict | None:
    settings = roi_settings_for(workflow)
    if settings is None:
        return None
    return roi_estimate(settings, facts, days=(end - start).days + 1)


def _of_workflow(clocks, workflow: str):
    clocks = clocks.select_related("session__partner")
    return clocks.filter(session__workflow=workflow) if workflow else clocks
