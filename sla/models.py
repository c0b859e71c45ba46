from django.db import models

from routing.models import validate_time_zone


class BusinessCalendar(models.Model):
    """When a team works: opening hours per weekday (several a day), a time zone, and days
    off (entered, imported, or a country's public holidays). An SLA policy may count only
    this time."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=60, default="UTC", validators=[validate_time_zone])
    country = models.CharField(
        max_length=2,
        blank=True,
        help_text="Its public holidays are days off too (ISO code, e.g. IN, GB); blank: none.",
    )
    subdivision = models.CharField(
        max_length=10, blank=True, help_text="The state or region, for its own holidays (ENG)."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One interval a calendar is open on a weekday; a day may have several (split shifts).
    Closing at 00:00 means midnight, the end of the day."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "opening hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class DayOff(models.Model):
    """A day the calendar is closed, beyond the country's public holidays."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days_off"
    )
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_day_off_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    """Targets a workflow's sessions are held to. Changing it makes a new version: a clock
    keeps the version it started with."""

    name = models.CharField(max_length=100, unique=True)
    workflow = models.CharField(max_length=50, help_text="The workflow's slug.")
    # A session takes the most specific active policy of its workflow that fits it.
    partner = models.CharField(
        max_length=50, blank=True, help_text="Only for this partner's sessions (its code)."
    )
    team = models.CharField(
        max_length=50, blank=True, help_text="Only for this team's sessions (its slug)."
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Count only its working time; blank: every hour counts.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name

    @property
    def current(self) -> "SlaPolicyVersion":
        return self.versions.order_by("-number").first()


class EscalateTo(models.TextChoices):
    NEXT_CONTACT = "next_contact", "The partner's next contact (else the team lead)"
    TEAM_LEAD = "team_lead", "The team lead (its supervisors)"


class SlaPolicyVersion(models.Model):
    """The targets of one version of a policy, never changed once written."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    targets = models.JSONField(help_text='Seconds per clock: {"partner_ack": 3600}.')
    warn_at = models.FloatField(default=0.8, help_text="Warn at this share of a target.")
    escalate_after = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds after a breach before it is escalated."
    )
    escalate_to = models.CharField(
        max_length=20, choices=EscalateTo.choices, default=EscalateTo.TEAM_LEAD
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="one_policy_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    WARNED = "warned", "Warned: close to its target"
    BREACHED = "breached", "Breached: past its target"


class SlaClock(models.Model):
    """One clock of one session, against the policy version it started under. A clock that
    restarts (next_response, partner_response) is a new row each time."""

    session = models.ForeignKey(
        "relay.RelaySession", on_delete=models.CASCADE, related_name="sla_clocks"
    )
    clock = models.CharField(max_length=20)
    version = models.ForeignKey(SlaPolicyVersion, on_delete=models.PROTECT, related_name="clocks")
    state = models.CharField(max_length=10, choices=ClockState.choices, default="running")
    started_at = models.DateTimeField()
    warns_at = models.DateTimeField(null=True)
    due_at = models.DateTimeField(null=True, help_text="Empty: its calendar never opens.")
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # While paused (the session waits on the customer) it has no due time, only what is left.
    paused_at = models.DateTimeField(null=True, blank=True)
    left_to_warn = models.FloatField(null=True, blank=True, help_text="Business seconds.")
    left_to_due = models.FloatField(null=True, blank=True, help_text="Business seconds.")
    # Who let it run out: "partner", "agent" or "team", and its code, username or slug.
    breached_by = models.CharField(max_length=10, blank=True)
    breached_by_key = models.CharField(max_length=150, blank=True)
    escalates_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "clock"],
                condition=models.Q(stopped_at__isnull=True),
                name="one_running_clock_per_kind",
            )
        ]
        # What a scan looks for: running clocks by the time they warn or are due.
        indexes = [
            models.Index(
                fields=["warns_at"],
                condition=models.Q(stopped_at__isnull=True, warned_at__isnull=True),
                name="clocks_to_warn",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(stopped_at__isnull=True, breached_at__isnull=True),
                name="clocks_to_breach",
            ),
            models.Index(
                fields=["breached_at"],
                condition=models.Q(breached_at__isnull=False),
                name="clocks_breached",
            ),
            models.Index(
                fields=["escalates_at"],
                condition=models.Q(stopped_at__isnull=True, escalated_at__isnull=True),
                name="clocks_to_escalate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clock} of {self.session_id} ({self.state})"


class ChosenPolicy(models.Model):
    """The policy a routing rule chose for a session, over the one its workflow would match."""

    session = models.OneToOneField(
        "relay.RelaySession", on_delete=models.CASCADE, related_name="chosen_policy"
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return f"{self.policy} for {self.session_id}"


class TimelineCursor(models.Model):
    """How far the clocks have read the session timeline (one row)."""

    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"timeline read up to event {self.last_event_id}"


class RoiSettings(models.Model):
    """What the dashboard's ROI estimate counts with, for one workflow (blank: all of them).
    The baselines are how things went before Switchboard."""

    workflow = models.CharField(
        max_length=50, blank=True, unique=True, help_text="A workflow's slug; blank: every one."
    )
    currency = models.CharField(max_length=3, default="USD")
    value_per_success = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="What one successful booking or conversation brings (revenue per booking, "
        "lifetime value, average custom order value).",
    )
    baseline_success_rate = models.FloatField(
        default=0, help_text="The share of sessions that succeeded before, 0 to 1 (e.g. 0.45)."
    )
    cost_of_error = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="What one coordination error costs (rework, service recovery, lost commission).",
    )
    baseline_error_rate = models.FloatField(
        default=0, help_text="The share of successful bookings that had an error before, 0 to 1."
    )
    cost_of_delay_per_day = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="What each day a booking or an issue waits costs (holding, late fees).",
    )
    baseline_days_to_success = models.FloatField(
        default=0, help_text="How many days a booking or an issue took to succeed before."
    )
    licence_cost_per_month = models.DecimalField(max_digits=10, decimal_places=2, default=15)
    licences = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "ROI settings"
        verbose_name_plural = "ROI settings"

    def __str__(self) -> str:
        return f"ROI of {self.workflow or 'every workflow'}"
