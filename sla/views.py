"""The supervisor dashboard (/dashboard/) and its CSV export: the figures of the KPI API,
for people to look at."""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from routing.models import Agent, Workflow
from sla import dashboard
from sla.api.kpis import CSV_COLUMNS
from sla.kpis import (
    BY_NAME,
    GROUP_BY,
    KPIS,
    kpi_figure,
    kpis_period,
    kpis_report,
    kpis_rows,
    session_facts,
)


class DashboardForm(forms.Form):
    workflow = forms.ChoiceField(required=False)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    kpi = forms.ChoiceField(
        label="Per partner", required=False, choices=[(k.name, k.label) for k in KPIS]
    )
    group_by = forms.ChoiceField(required=False, choices=[(g, g) for g in GROUP_BY])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workflows = Workflow.objects.values_list("slug", "name")
        self.fields["workflow"].choices = [("", "Every workflow"), *workflows]

    def period(self):
        data = self.cleaned_data if self.is_valid() else {}
        start, end = kpis_period(data.get("start"), data.get("end"), today=timezone.now().date())
        return (end, start) if start > end else (start, end)


def _asked(request: HttpRequest) -> DashboardForm:
    """The form as asked, its period filled in (the last 30 days) when it was not given."""
    start, end = DashboardForm(request.GET).period()
    data = request.GET.copy()
    data.setdefault("start", str(start))
    data.setdefault("end", str(end))
    return DashboardForm(data)


def supervisor_required(view):
    @login_required
    def checked(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or Agent.objects.filter(user=user, supervisor=True).exists()):
            raise PermissionDenied("The dashboard is for supervisors.")
        return view(request, *args, **kwargs)

    return checked


@supervisor_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    form = _asked(request)
    start, end = form.period()
    workflow = form.cleaned_data.get("workflow", "") if form.is_valid() else ""
    chosen = BY_NAME.get(form.cleaned_data.get("kpi", "") if form.is_valid() else "")
    facts = session_facts(start=start, end=end, workflow=workflow)
    shown = dashboard.headlines(workflow)
    chosen = chosen or shown[0]
    overall = {kpi.name: kpi_figure(kpi, facts) for kpi in {*shown, chosen}}
    units = {name: dashboard.duration_unit(figure) for name, figure in overall.items()}
    tiles = [_tile(kpi, overall[kpi.name], workflow) for kpi in shown]
    charts = {
        "weekly": dashboard.weekly(
            facts, shown, start, end, {name: unit[0] for name, unit in units.items()}
        ),
        "titles": {kpi.name: _chart_title(kpi, workflow, units[kpi.name][1]) for kpi in shown},
        "per_partner": {
            **dashboard.per_partner(facts, chosen, units[chosen.name][0]),
            "title": _chart_title(chosen, workflow, units[chosen.name][1]),
        },
        "breaches_by": dashboard.breaches_by_owner(facts),
    }
    context = {
        "form": form,
        "start": start,
        "end": end,
        "workflow": workflow,
        "sessions": len(facts),
        "tiles": tiles,
        "charts": charts,
        "breaches": dashboard.breaches_of(start, end, workflow),
        "at_risk": dashboard.at_risk(workflow),
        "roi": dashboard.roi(facts, workflow, start, end),
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "sla/dashboard.html", context)


@supervisor_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    form = DashboardForm(request.GET)
    start, end = form.period()
    data = form.cleaned_data if form.is_valid() else {}
    report = kpis_report(
        start=start,
        end=end,
        workflow=data.get("workflow", ""),
        group_by=data.get("group_by") or "partner",
    )
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="kpis-{start}-{end}.csv"'
    writer = csv.DictWriter(response, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(kpis_rows(report))
    return response


def _tile(kpi, figure: dict, workflow: str) -> dict:
    tile = {"kpi": kpi, "label": dashboard.kpi_label(kpi, workflow), "n": figure["n"]}
    if kpi.kind == "duration":
        tile["main"], tile["p90"] = _duration(figure["p50_s"]), _duration(figure["p90_s"])
    elif kpi.kind == "number":
        tile["main"], tile["p90"] = _number(figure["p50"]), _number(figure["p90"])
    elif kpi.kind in ("rate", "ratio"):
        value = figure["value"]
        tile["main"] = "–" if value is None else f"{value * 100:.0f} %"
        tile["bar"] = None if value is None else round(value * 100)
    else:
        tile["main"] = str(figure["value"])
    return tile


def _chart_title(kpi, workflow: str, duration_unit: str) -> str:
    unit = {"duration": f"median, {duration_unit}", "number": "median", "count": "count"}
    return f"{dashboard.kpi_label(kpi, workflow)} ({unit.get(kpi.kind, '%')})"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d}"
    return f"{hours / 24:.1f} days"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"
