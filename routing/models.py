import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from relay.choices import Role, SessionMode
from routing.choices import Assignment, PartnerKind


def validate_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"'{name}' is not a time zone; write one like Europe/Paris") from None


class Partner(models.Model):
    """An external partner: a coworking location, a workshop, a factory, a caregiver."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PartnerKind.choices, default=PartnerKind.OTHER)
    active = models.BooleanField(default=True, help_text="Inactive partners get no new sessions.")
    specializations = models.ManyToManyField("Specialization", blank=True, related_name="partners")
    tags = models.ManyToManyField("PartnerTag", blank=True, related_name="partners")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerContact(models.Model):
    """A person who answers for a partner on WhatsApp (a location manager, a caregiver)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    contact = models.ForeignKey(
        "relay.Contact", on_delete=models.PROTECT, related_name="partner_roles"
    )
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "contact"], name="unique_partner_contact")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner.code})"


class Workflow(models.Model):
    """A kind of booking as the aggregator runs it: how its sessions relay (mode), the booking
    statuses they move through, and who is told when one opens."""

    slug = models.SlugField(max_length=50, unique=True, help_text="What the API calls it.")
    name = models.CharField(max_length=200)
    mode = models.CharField(
        "default mode", max_length=10, choices=SessionMode.choices, default=SessionMode.DIRECT
    )
    statuses = models.JSONField(
        "booking statuses",
        default=list,
        help_text='In order, the first being where a booking starts, e.g. ["requested", '
        '"confirmed", "completed", "cancelled"].',
    )
    transitions = models.JSONField(
        default=dict,
        blank=True,
        help_text='Where each status may go, e.g. {"requested": ["confirmed", "cancelled"]}. '
        "A status not listed here goes nowhere.",
    )
    customer_opening = models.CharField(
        "opening template to the customer",
        max_length=512,
        blank=True,
        help_text="The name of an approved WhatsApp template, sent from the customer's proxy "
        "number when a session opens (in their language where one is approved); blank: none.",
    )
    partner_opening = models.CharField(
        "opening template to the partner",
        max_length=512,
        blank=True,
        help_text="The same for the partner: tells them of the new booking. Its values, in "
        "order: the aggregator's name, the booking reference, the other side's alias.",
    )
    status_words = models.JSONField(
        "statuses in words",
        default=dict,
        blank=True,
        help_text='How people are told of a status, e.g. {"no_show": "missed"}. A status not '
        "here is told as written, underscores as spaces.",
    )
    waiting_statuses = models.JSONField(
        "statuses waiting on the customer",
        default=list,
        blank=True,
        help_text="While the booking is in one, its SLA clocks pause until the customer "
        'writes, e.g. ["scheduling"].',
    )
    sessions_per_booking = models.CharField(
        max_length=10,
        choices=[
            ("one", "One: a booking that comes back reopens its ended session"),
            ("each", "Each time: a booking opened again gets a new session"),
        ],
        default="one",
        help_text="How a booking reference maps to sessions, when the booking system opens "
        "one whose session has ended (same customer and partner).",
    )
    success_status = models.CharField(
        max_length=50,
        blank=True,
        help_text="The status a booking reaches when it succeeds (confirmed, scheduled, "
        "resolved, accepted): KPIs time it and count it. Blank: none.",
    )
    time_zone = models.CharField(
        max_length=60,
        blank=True,
        help_text="Where its appointment times are read and told, e.g. Asia/Kolkata. Blank: "
        "ROUTING_TIME_ZONE.",
        validators=[validate_time_zone],
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def first_status(self) -> str:
        return self.statuses[0] if self.statuses else ""

    def may_move(self, current: str, to: str) -> bool:
        return to in self.transitions.get(current, [])

    def words_for(self, status: str) -> str:
        return self.status_words.get(status) or status.replace("_", " ")

    @property
    def zone(self) -> str:
        return self.time_zone or settings.ROUTING_TIME_ZONE

    def opening_for(self, role: str):
        return self.partner_opening if role == Role.PARTNER else self.customer_opening


class Specialization(models.Model):
    """What a partner is good at, for routing by specialization (Platinum Setting)."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerTag(models.Model):
    """A label on partners (AV-equipped, Night shift), for routing and finding them."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """Agents who work the same sessions (a city desk, the bespoke desk)."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    assignment = models.CharField(
        max_length=20,
        choices=Assignment.choices,
        default=Assignment.LEAST_LOADED,
        help_text="How a session routed to the team finds its agent.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    """A Django user who works sessions: in teams, with a capacity of open sessions, and a
    switch for when they are away. A supervisor sees every team."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    teams = models.ManyToManyField(Team, blank=True, related_name="agents")
    capacity = models.PositiveSmallIntegerField(
        default=10, help_text="Open sessions they may hold at once."
    )
    available = models.BooleanField(default=True, help_text="Off: given no new sessions.")
    supervisor = models.BooleanField(default=False, help_text="Sees every team.")
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.user.get_username()


class Reference(models.Model):
    """An order or product code and the partner that owns it (PO1234 → the factory), for
    rules that route by a code the customer writes."""

    code = models.CharField(max_length=100, unique=True, help_text="Kept in capitals.")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="references")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @staticmethod
    def normalised(code: str) -> str:
        return code.strip().upper()


class Rule(models.Model):
    """If a message meets every condition, the actions apply; rules run in position order,
    and one that stops keeps later ones from running (routing/rules.py)."""

    name = models.CharField(max_length=200)
    position = models.IntegerField(default=100, help_text="Lower runs first.")
    active = models.BooleanField(default=True)
    stop = models.BooleanField("stop here", default=False, help_text="Later rules do not run.")
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RoutingDecision(models.Model):
    """What routing did with a session's first message: the rules that matched, what each
    did, and where the session went (a partner, or triage when no rule placed it)."""

    session = models.OneToOneField(
        "relay.RelaySession", on_delete=models.CASCADE, related_name="routing_decision"
    )
    message = models.ForeignKey(
        "relay.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    steps = models.JSONField(default=list, help_text="Each matched rule and what it did.")
    triage = models.BooleanField(default=False, help_text="No rule placed it: agents decide.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Routing of session #{self.session_id}"
