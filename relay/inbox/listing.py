"""The inbox list: the sessions a user may see, filtered, searched, sorted and paged, each row
with what an agent scans for (unread messages, the next SLA due time, held messages). One
page costs the same few queries whatever it holds: every per-row figure is a subquery of the
page query, which PostgreSQL evaluates for the rows of the page only."""

from dataclasses import dataclass

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from relay.choices import LIVE_SESSION_STATUSES, Direction, MessageStatus, Origin, QuoteStatus
from relay.inbox.access import sees_every_team, sessions_visible
from relay.models import Message, Participant, Quote, RelaySession, ThreadView
from routing.models import Agent, Partner, Team, Workflow
from sla.models import SlaClock

PAGE_SIZE = 25
ATTENTION = [
    ("", "Anything"),
    ("at_risk", "SLA at risk"),
    ("breached", "SLA breached"),
    ("waiting", "Waiting in mediation"),
    ("triage", "In triage"),
]
STATES = [("open", "Open"), ("ended", "Ended"), ("all", "Open and ended")]
WHO = [("", "Everyone's"), ("mine", "Mine"), ("unassigned", "Unassigned")]
SORTS = [("activity", "Last activity"), ("sla", "SLA due first")]


class InboxFilters(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    who = forms.ChoiceField(label="Assigned", required=False, choices=WHO)
    state = forms.ChoiceField(label="State", required=False, choices=STATES)
    attention = forms.ChoiceField(label="Needs", required=False, choices=ATTENTION)
    team = forms.ChoiceField(label="Team", required=False)
    partner = forms.ChoiceField(label="Partner", required=False)
    workflow = forms.ChoiceField(label="Workflow", required=False)
    booking_status = forms.CharField(label="Booking status", required=False, max_length=50)
    tag = forms.CharField(label="Tag", required=False, max_length=50)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, user, agent: Agent | None):
        super().__init__(data)
        teams = Team.objects.all()
        if not sees_every_team(user, agent):
            teams = teams.filter(agents=agent) if agent else teams.none()
        self.fields["team"].choices = [("", "Any team"), *teams.values_list("slug", "name")]
        partners = Partner.objects.order_by("name").values_list("code", "name")
        self.fields["partner"].choices = [("", "Any partner"), *partners]
        workflows = Workflow.objects.order_by("name").values_list("slug", "name")
        self.fields["workflow"].choices = [("", "Any workflow"), *workflows]

    def chosen(self) -> dict:
        """The filters as asked; invalid ones are left out (and shown as errors)."""
        if self.is_valid():
            return self.cleaned_data
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}


@dataclass
class Listing:
    page: Page
    total: int


def inbox_sessions(user, agent: Agent | None, chosen: dict) -> QuerySet[RelaySession]:
    sessions = _filtered(sessions_visible(user, agent), user, chosen)
    sessions = _annotated(sessions, user)
    if chosen.get("sort") == "sla":
        order = [F("next_due").asc(nulls_last=True), "-id"]
    else:  # as the index live_sessions_by_activity has it
        order = [Coalesce("last_interaction_at", "created_at").desc(), "-id"]
    parties = Participant.objects.filter(rerouted_at__isnull=True).order_by("role")
    return (
        sessions.select_related("partner", "team", "assignee")
        .prefetch_related(Prefetch("participants", queryset=parties))
        .order_by(*order)
    )


def inbox_page(user, agent: Agent | None, chosen: dict) -> Listing:
    paginator = Paginator(inbox_sessions(user, agent, chosen), PAGE_SIZE)
    page = paginator.get_page(chosen.get("page") or 1)
    return Listing(page=page, total=paginator.count)


def _filtered(sessions: QuerySet, user, chosen: dict) -> QuerySet:
    state = chosen.get("state") or "open"
    if state == "open":
        sessions = sessions.filter(status__in=LIVE_SESSION_STATUSES)
    elif state == "ended":
        sessions = sessions.exclude(status__in=LIVE_SESSION_STATUSES)
    who = chosen.get("who")
    if who == "mine":
        sessions = sessions.filter(assignee=user)
    elif who == "unassigned":
        sessions = sessions.filter(assignee__isnull=True)
    exact = {
        "team": "team__slug",
        "partner": "partner__code",
        "workflow": "workflow",
        "booking_status": "booking_status",
    }
    for name, lookup in exact.items():
        if chosen.get(name):
            sessions = sessions.filter(**{lookup: chosen[name]})
    if chosen.get("tag"):
        # As JSON text, a tag is a quoted word: this matches on SQLite and PostgreSQL alike.
        tag = chosen["tag"].strip().strip('"').lstrip("#")
        sessions = sessions.filter(tags__icontains=f'"{tag}"')
    sessions = _needing(sessions, chosen.get("attention"))
    if chosen.get("q"):
        sessions = _searched(sessions, chosen["q"].strip())
    return sessions


def _needing(sessions: QuerySet, attention: str | None) -> QuerySet:
    now = timezone.now()
    running = SlaClock.objects.filter(session=OuterRef("pk"), stopped_at__isnull=True)
    if attention == "at_risk":
        at_risk = running.filter(breached_at__isnull=True, warns_at__lte=now, due_at__gt=now)
        return sessions.filter(Exists(at_risk))
    if attention == "breached":
        return sessions.filter(Exists(running.filter(due_at__lte=now)))
    if attention == "waiting":
        held = Message.objects.filter(session=OuterRef("pk"), status=MessageStatus.AWAITING_AGENT)
        quoted = Quote.objects.filter(session=OuterRef("pk"), status=QuoteStatus.PENDING)
        return sessions.filter(Exists(held) | Exists(quoted))
    if attention == "triage":
        return sessions.filter(routing_decision__triage=True)
    return sessions


def _searched(sessions: QuerySet, text: str) -> QuerySet:
    """By booking reference (its start), a participant's name, or words of a message."""
    named = Participant.objects.filter(session=OuterRef("pk"), name__icontains=text)
    said = Message.objects.filter(session=OuterRef("pk"), body__icontains=text)
    return sessions.filter(
        Q(external_ref__istartswith=text) | Q(partner__name__icontains=text) | Exists(named)
        | Exists(said)
    )  # fmt: skip


def _annotated(sessions: QuerySet, user) -> QuerySet:
    read_up_to = ThreadView.objects.filter(session=OuterRef(OuterRef("pk")), user=user)
    unread = (
        Message.objects.filter(session=OuterRef("pk"), direction=Direction.INBOUND)
        .filter(id__gt=Coalesce(Subquery(read_up_to.values("read_up_to")[:1]), Value(0)))
        .order_by()
        .values("session")
        .annotate(n=Count("*"))
        .values("n")
    )
    running = (
        SlaClock.objects.filter(session=OuterRef("pk"), stopped_at__isnull=True)
        .order_by()
        .values("session")
    )
    held = (
        Message.objects.filter(session=OuterRef("pk"), status=MessageStatus.AWAITING_AGENT)
        .order_by()
        .values("session")
        .annotate(n=Count("*"))
        .values("n")
    )
    # What a person wrote, or an agent: notices and copies say nothing new.
    written = Q(direction=Direction.INBOUND) | Q(origin=Origin.API)
    last = Message.objects.filter(written, session=OuterRef("pk")).order_by("-id")
    return sessions.annotate(
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        held=Coalesce(Subquery(held, output_field=IntegerField()), Value(0)),
        next_due=Subquery(running.annotate(due=Min("due_at")).values("due")[:1]),
        next_clock=Subquery(running.order_by("due_at").values("clock")[:1]),
        last_body=Subquery(last.values("body")[:1]),
        last_direction=Subquery(last.values("direction")[:1]),
    )
