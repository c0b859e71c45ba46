from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from relay import crypto, phones
from relay.choices import (
    DEAD_TEMPLATE_STATUSES,
    LIVE_SESSION_STATUSES,
    ActorKind,
    CommandAction,
    Direction,
    EventKind,
    HandoverStatus,
    LeakKind,
    MessageStatus,
    MessageType,
    NumberKind,
    Origin,
    Priority,
    QuoteStatus,
    Role,
    SessionMode,
    SessionStatus,
    SlotStatus,
    TemplateStatus,
    TextKey,
)

WINDOW = timedelta(hours=24)


class MessageTemplate(models.Model):
    """A WhatsApp message template, as created and approved in WhatsApp Manager and synced
    from the Cloud API. Sent when a recipient's 24-hour window is closed."""

    account = models.CharField(
        "WhatsApp Business Account", max_length=64, blank=True, help_text="Its WABA id."
    )
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=15, default="en_US")
    status = models.CharField(
        max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.APPROVED
    )
    category = models.CharField(max_length=20, blank=True)
    body = models.TextField(blank=True, help_text="The body text, with its {{parameters}}.")
    # The body's parameters by name ("1", "2" or named ones), in order of appearance.
    parameter_names = models.JSONField(default=list, blank=True)
    named_parameters = models.BooleanField(default=False)
    # A header or button that needs a value Switchboard does not fill in.
    other_variables = models.BooleanField(default=False)
    template_id = models.CharField("WhatsApp template id", max_length=64, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name", "language"], name="unique_template_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def parameter_count(self) -> int:
        return len(self.parameter_names)

    def invitation_problem(self, *, account: str | None = None) -> str | None:
        """Why this template cannot invite someone back (of a pool in `account`); None when
        it can. An invitation fills in one body value: the sender's name."""
        if self.status in DEAD_TEMPLATE_STATUSES:
            return f"template {self} is {self.get_status_display().lower()} on WhatsApp"
        if self.parameter_count > 1 or self.other_variables:
            needs = f"{self.parameter_count} body values"
            if self.other_variables:
                needs += " and header or button values"
            return f"template {self} needs {needs}; an invitation fills in one, the sender's name"
        if account is not None and self.account != account:
            return f"template {self} belongs to another WhatsApp Business Account"
        return None

    def render(self, values: list[str]) -> str:
        """The body as the recipient reads it, with `values` in place of its parameters."""
        text = self.body
        for name, value in zip(self.parameter_names, values, strict=False):
            text = text.replace("{{" + name + "}}", value)
        return text


class MaskingPool(models.Model):
    """A set of the aggregator's WhatsApp numbers that sessions draw proxy numbers from."""

    name = models.CharField(max_length=100, unique=True)
    # A pool limited to a partner: that partner's sessions use it, so its contacts only ever
    # see these numbers.
    partner = models.ForeignKey(
        "routing.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="pools"
    )
    multiplexing = models.BooleanField(
        "share numbers when needed",
        default=True,
        help_text="When a contact has a session on every number of the pool, give a new "
        "session one of those numbers too; its messages then carry a #tag. When off, such a "
        "session is refused.",
    )
    notice_template = models.ForeignKey(
        MessageTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pools",
        verbose_name="invitation template",
        help_text="Sent from the pool's numbers to someone whose 24-hour window is closed, "
        "asking them to reply; their messages follow once they do. Sent in the recipient's "
        "language when the template exists in it.",
    )
    account = models.CharField(
        "WhatsApp Business Account",
        max_length=64,
        blank=True,
        help_text="The WABA id the pool's numbers and templates belong to. Blank: "
        "WHATSAPP_BUSINESS_ACCOUNT_ID.",
    )
    language = models.CharField(
        "default language",
        max_length=15,
        default="en",
        help_text="For contacts whose language is not known, e.g. en, es, pt-BR.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ProxyNumber(models.Model):
    """One of the aggregator's WhatsApp business numbers."""

    pool = models.ForeignKey(MaskingPool, on_delete=models.PROTECT, related_name="numbers")
    e164 = models.CharField("number", max_length=20, unique=True)
    phone_number_id = models.CharField(
        "WhatsApp phone number ID",
        max_length=64,
        unique=True,
        help_text="Shown for the number in WhatsApp Manager (API setup).",
    )
    kind = models.CharField(
        max_length=10,
        choices=NumberKind.choices,
        default=NumberKind.RELAY,
        help_text="Relay: given to participants of sessions. Intake: a public number "
        "customers write to first.",
    )
    intake_workflow = models.CharField(
        max_length=50,
        blank=True,
        help_text="Intake numbers: the workflow of the sessions that writing to it opens (a "
        "routing rule may choose another). Blank: booking.",
    )
    active = models.BooleanField(default=True, help_text="Inactive numbers get no new sessions.")
    # Throughput backoff after error 130429, for this number only.
    backoff_until = models.DateTimeField(
        "slowed down until",
        null=True,
        blank=True,
        help_text="WhatsApp asked us to send less from this number until then.",
    )
    backoff_level = models.PositiveSmallIntegerField("times slowed down", default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.e164


class Contact(models.Model):
    """A WhatsApp user: a real phone number and/or a business-scoped user id, encrypted."""

    phone_ciphertext = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    bsuid_ciphertext = models.TextField(blank=True, editable=False)
    bsuid_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    display_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(
        max_length=15,
        blank=True,
        help_text="What Switchboard writes to them in, e.g. en, es, pt-BR. Blank: the default "
        "language of the pool they are reached through.",
    )
    tags = models.JSONField(
        default=list, blank=True, help_text="What the aggregator knows of them (vip, repeat)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("view_real_number", "Can see real phone numbers")]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone_hash__isnull=False) | Q(bsuid_hash__isnull=False),
                name="contact_has_an_identity",
            )
        ]

    def __str__(self) -> str:
        # The WhatsApp profile name is personal data too: shown where numbers are.
        return self.masked_identity

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_ciphertext) if self.phone_ciphertext else ""

    @phone.setter
    def phone(self, e164: str) -> None:
        self.phone_ciphertext = crypto.encrypt(e164)
        self.phone_hash = crypto.lookup_hash(e164)

    @property
    def bsuid(self) -> str:
        return crypto.decrypt(self.bsuid_ciphertext) if self.bsuid_ciphertext else ""

    @bsuid.setter
    def bsuid(self, value: str) -> None:
        self.bsuid_ciphertext = crypto.encrypt(value)
        self.bsuid_hash = crypto.lookup_hash(value)

    @property
    def masked_identity(self) -> str:
        if self.phone_ciphertext:
            return phones.mask(self.phone)
        return f"{self.bsuid[:3]}••••"


class RelaySession(models.Model):
    """A masked conversation between a customer and a partner about one booking or order."""

    external_ref = models.CharField("booking reference", max_length=100, db_index=True)
    workflow = models.CharField(max_length=50, default="booking")
    mode = models.CharField(
        max_length=10,
        choices=SessionMode.choices,
        default=SessionMode.DIRECT,
        help_text="Direct: messages go both ways by themselves. Mediated: an agent passes them on.",
    )
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.OPEN, db_index=True
    )
    pool = models.ForeignKey(MaskingPool, on_delete=models.PROTECT, related_name="sessions")
    partner = models.ForeignKey(
        "routing.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    booking_status = models.CharField(
        max_length=50, blank=True, help_text="Where the booking stands, in its workflow's words."
    )
    team = models.ForeignKey(
        "routing.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_sessions",
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    tags = models.JSONField(default=list, blank=True)
    handed_over = models.BooleanField(
        "numbers exchanged",
        default=False,
        help_text="Both parties agreed to exchange numbers: nothing is hidden any more.",
    )
    ttl = models.DurationField(
        "expires after being idle for",
        help_text="With no message for this long, the session ends and its numbers are free.",
    )
    expires_at = models.DateTimeField("expires at", db_index=True)
    last_interaction_at = models.DateTimeField("last message at", null=True, blank=True)
    created_at = models.DateTimeField("opened at", auto_now_add=True)
    closed_at = models.DateTimeField("ended at", null=True, blank=True)
    closed_reason = models.CharField("why it ended", max_length=200, blank=True)

    class Meta:
        indexes = [
            # The inbox's first page: live sessions, last activity (or opening) first. Activity
            # is written at most once a minute per session: the index costs the relay little.
            models.Index(
                Coalesce("last_interaction_at", "created_at").desc(),
                models.F("id").desc(),
                condition=Q(status__in=LIVE_SESSION_STATUSES),
                name="live_sessions_by_activity",
            )
        ]

    def __str__(self) -> str:
        return f"{self.external_ref} ({self.get_status_display()})"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status in LIVE_SESSION_STATUSES and self.expires_at > now


class Participant(models.Model):
    """One side of a session, bound to the proxy number it talks to."""

    session = models.ForeignKey(RelaySession, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(max_length=10, choices=Role.choices)
    name = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="participations")
    proxy_number = models.ForeignKey(
        ProxyNumber, on_delete=models.PROTECT, related_name="participants"
    )
    # Names this session on a shared (contact, number) pair: "#K7Q2".
    thread_tag = models.CharField(
        "#tag", max_length=8, help_text="Names the session on a number the contact shares."
    )
    # True once the contact holds this number in more than one live session: its messages
    # then carry the session's thread tag.
    multiplexed = models.BooleanField("shares its number", default=False)
    # Mirrors the session being live; the constraints below only look at live bindings.
    active = models.BooleanField("live", default=True)
    rerouted_at = models.DateTimeField(
        "moved off the session at",
        null=True,
        blank=True,
        help_text="The session went to another partner: this contact no longer receives it.",
    )
    opening = models.CharField(
        "opening message",
        max_length=300,
        blank=True,
        help_text="What was done to tell them of the session when it opened.",
    )

    class Meta:
        constraints = [
            # A participant moved off by a reroute stays, for the record, beside the new one.
            models.UniqueConstraint(
                fields=["session", "role"],
                condition=Q(rerouted_at__isnull=True),
                name="one_participant_per_role",
            ),
            models.UniqueConstraint(
                fields=["session", "contact"],
                condition=Q(rerouted_at__isnull=True),
                name="distinct_participants",
            ),
            models.UniqueConstraint(
                fields=["contact", "proxy_number"],
                condition=Q(active=True, multiplexed=False),
                name="one_live_session_per_pair",
            ),
            models.UniqueConstraint(
                fields=["contact", "proxy_number", "thread_tag"],
                condition=Q(active=True),
                name="unique_thread_tag_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of {self.session.external_ref}"

    @property
    def alias(self) -> str:
        """What the other side is told this participant is called, if known; never a number
        (relay.texts.text_alias fills in a word for the unnamed)."""
        if self.role == Role.PARTNER:
            partner = self.session.partner
            return partner.name if partner else ""
        return self.name


class Leg(models.Model):
    """A (contact, proxy number) pair: its 24-hour window, pacing and backoff."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="legs")
    proxy_number = models.ForeignKey(ProxyNumber, on_delete=models.CASCADE, related_name="legs")
    last_inbound_at = models.DateTimeField("last wrote at", null=True, blank=True)
    # Pair rate limit (131056) backoff and local pacing (a token bucket).
    backoff_until = models.DateTimeField(null=True, blank=True)
    backoff_level = models.PositiveSmallIntegerField(default=0)
    tokens = models.FloatField(default=0)
    tokens_at = models.DateTimeField(null=True, blank=True)
    last_stranger_notice_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "proxy_number"], name="unique_leg")
        ]

    def __str__(self) -> str:
        return f"{self.contact} via {self.proxy_number}"

    def window_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.last_inbound_at is not None and now - self.last_inbound_at < WINDOW


UNSETTLED = [
    MessageStatus.RECEIVED,
    MessageStatus.PENDING,
    MessageStatus.AWAITING_AGENT,
    MessageStatus.AWAITING_CHOICE,
    MessageStatus.QUEUED,
    MessageStatus.HELD,
    MessageStatus.SENDING,
    MessageStatus.UNCERTAIN,
]


class Message(models.Model):
    """One WhatsApp message on one leg, inbound or outbound."""

    session = models.ForeignKey(
        RelaySession, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    origin = models.CharField(max_length=12, choices=Origin.choices)
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    proxy_number = models.ForeignKey(
        ProxyNumber, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    type = models.CharField(max_length=12, choices=MessageType.choices)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    provider_message_id = models.CharField(max_length=200, null=True, blank=True)
    source = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relays",
        db_index=False,
    )
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    wa_timestamp = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    # Why a message waits or was not passed on, in words: shown wherever the message is.
    status_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        # Every index is written on every insert and status change of the busiest table: most
        # are partial, holding only the rows their queries look for.
        constraints = [
            models.UniqueConstraint(
                fields=["provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="messages_provider_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "proxy_number", "id"], name="messages_by_leg"),
            # Messages still waiting for something (a send, a retry, a choice, an agent).
            models.Index(
                fields=["status"], condition=Q(status__in=UNSETTLED), name="messages_unsettled"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued", next_attempt_at__isnull=False),
                name="messages_retries",
            ),
            models.Index(
                fields=["source"], condition=Q(source__isnull=False), name="messages_copies"
            ),
            models.Index(
                fields=["reply_to"], condition=Q(reply_to__isnull=False), name="messages_replies"
            ),
            # The outbound queue: what workers claim, and what holds a conversation back.
            models.Index(
                fields=["contact", "proxy_number", "id"],
                condition=Q(status__in=["queued", "sending"]),
                name="messages_to_send",
            ),
            # What is queued, oldest first: a claim reads only the rows it takes.
            models.Index(fields=["id"], condition=Q(status="queued"), name="messages_queued"),
            # What holds the rest of its conversation back: a send in flight, a retry to come.
            models.Index(
                fields=["contact", "proxy_number", "id"],
                condition=Q(status="sending") | Q(status="queued", next_attempt_at__isnull=False),
                name="messages_holding_back",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.type} #{self.pk}"


class HeldManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(status=MessageStatus.HELD)


class HeldMessage(Message):
    """A message waiting for its recipient's 24-hour window (the admin's list of them)."""

    objects = HeldManager()

    class Meta:
        proxy = True
        verbose_name = "held message"


class LeakageAttempt(models.Model):
    """Contact details found and removed from a relayed message. The value is not kept."""

    session = models.ForeignKey(RelaySession, on_delete=models.CASCADE, related_name="leaks")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="leaks")
    kind = models.CharField(max_length=10, choices=LeakKind.choices)
    count = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} x{self.count}"


class WebhookPayload(models.Model):
    """A webhook body exactly as Meta sent it, kept before we answer 200. It names real
    numbers, so it is encrypted like them."""

    body_ciphertext = models.TextField(editable=False)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The table is the workers' queue: a payload is due when this has passed (or is unset,
    # when it is new); a worker that claims it sets it a lease ahead, a failure later still.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A large payload is handled in slices: the items before this one are done.
    items_done = models.PositiveIntegerField(default=0)
    # Who wrote to which number, hashed: a conversation's payloads are handled in order.
    conversation = models.CharField(max_length=64, null=True, blank=True, editable=False)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # In the order workers claim them, new payloads first, then retries as they fall
            # due, each index holding only its own rows: a claim reads only the rows it takes,
            # and the webhook writes a new payload into the fewest indexes.
            models.Index(
                fields=["id"],
                condition=Q(processed_at__isnull=True, next_attempt_at__isnull=True),
                name="webhooks_new",
            ),
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(processed_at__isnull=True, next_attempt_at__isnull=False),
                name="webhooks_retries",
            ),
            # What holds the rest of its conversation back: one being handled, a retry to come.
            models.Index(
                fields=["conversation", "id"],
                condition=Q(processed_at__isnull=True, next_attempt_at__isnull=False),
                name="webhooks_holding_back",
            ),
        ]

    def __str__(self) -> str:
        return f"Webhook #{self.pk} at {self.received_at:%Y-%m-%d %H:%M:%S}"

    @property
    def body(self) -> str:
        return crypto.decrypt(self.body_ciphertext)

    @body.setter
    def body(self, text: str) -> None:
        self.body_ciphertext = crypto.seal(text)


class OutboundHold(models.Model):
    """Outbound sending is paused while a hold is open (expired token, restricted account)."""

    error_code = models.IntegerField()
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Hold after error {self.error_code}"


class OperatorAlert(models.Model):
    """Something an operator must look at: a paused template, a halted sender, a bad number."""

    kind = models.CharField(max_length=50)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.kind


class ApiKey(models.Model):
    """A bearer key for the REST API; only its hash is stored."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return self.name


class ConsoleMessage(models.Model):
    """What the console provider 'sent': the phone simulator reads these."""

    phone_number_id = models.CharField(max_length=64)
    payload = models.JSONField()
    provider_message_id = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.provider_message_id


class TextOverride(models.Model):
    """An admin's own wording of one of Switchboard's texts (relay/texts.py), in one
    language; it takes the place of the built-in text and its translation."""

    key = models.CharField("text", max_length=40, choices=TextKey.choices)
    language = models.CharField(
        max_length=15,
        help_text="e.g. en, es, pt-BR. An English wording also serves "
        "languages that have no translation.",
    )
    text = models.TextField("wording")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "text"
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="one_wording_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} ({self.language})"


class AppendOnlyError(Exception):
    pass


class TimelineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the timeline is append-only")

    def delete(self):
        raise AppendOnlyError("the timeline is append-only")


class TimelineEvent(models.Model):
    """One change of a session (or of the relay as a whole), in the order it happened.

    Written only inside the transaction of the change it reports (relay.timeline), never
    changed, never deleted. Its detail holds identifiers and counts: no phone numbers, no
    message text.
    """

    session = models.ForeignKey(
        RelaySession, null=True, blank=True, on_delete=models.PROTECT, related_name="timeline"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="timeline"
    )
    kind = models.CharField(max_length=60, choices=EventKind.choices)
    actor = models.CharField(max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    actor_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor_api_key = models.ForeignKey(
        "ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        # Written several times per message: the actors' indexes hold only the events that
        # have one (they serve the checks before an actor is deleted).
        indexes = [
            models.Index(
                fields=[name],
                condition=Q(**{f"{name}__isnull": False}),
                name=f"timeline_by_{name}",
            )
            for name in ("actor_contact", "actor_user", "actor_api_key")
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("the timeline is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the timeline is append-only")


class Command(models.Model):
    """A slash command: a name (and aliases) an admin binds to a built-in action, who may use
    it, in which workflows, and the arguments it takes (relay/commands/)."""

    name = models.SlugField(
        max_length=40, unique=True, help_text="Without the slash; matched in any case."
    )
    aliases = models.JSONField(default=list, blank=True, help_text='Other names: ["confirm"].')
    action = models.CharField(max_length=20, choices=CommandAction.choices)
    value = models.CharField(
        max_length=100, blank=True, help_text="What the action needs: the status it sets."
    )
    arguments = models.JSONField(
        default=list,
        blank=True,
        help_text='Kinds, in order: booking_ref, money, duration, partner_code, text; "?" '
        'after one makes it optional, e.g. ["booking_ref?"].',
    )
    used_by = models.JSONField(
        default=list, help_text='Who may use it: ["agent", "partner", "customer"].'
    )
    workflows = models.JSONField(
        default=list, blank=True, help_text="Workflow slugs it works in; none: all."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"/{self.name}"

    @property
    def usage(self) -> str:
        """How to write it: /quote <money> <duration>."""
        parts = [
            f"[{kind.removesuffix('?')}]" if kind.endswith("?") else f"<{kind}>"
            for kind in self.arguments
        ]
        return " ".join([f"/{self.name}", *parts])


class Quote(models.Model):
    """A partner's price for a booking (/quote). The customer only ever sees the final price,
    with the margin an agent adds; the partner's own price stays here."""

    session = models.ForeignKey(RelaySession, on_delete=models.CASCADE, related_name="quotes")
    amount = models.DecimalField("partner's price", max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    lead_time = models.DurationField("ready in", null=True, blank=True)
    partner_terms = models.TextField("partner's terms", blank=True)
    status = models.CharField(
        max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.PENDING
    )
    margin_percent = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    margin_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    final_amount = models.DecimalField(
        "price to the customer", max_digits=14, decimal_places=2, null=True, blank=True
    )
    terms = models.TextField("terms told to the customer", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Quote {self.pk} for {self.session.external_ref}"


class Handover(models.Model):
    """Asking both sides of a session whether they agree to exchange their real numbers.
    Only two yeses share them; a no, a withdrawal or silence until `expires_at` ends it."""

    session = models.ForeignKey(RelaySession, on_delete=models.CASCADE, related_name="handovers")
    status = models.CharField(
        max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.ASKED
    )
    customer_agreed_at = models.DateTimeField(null=True, blank=True)
    partner_agreed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(status="asked"), name="one_open_handover"
            )
        ]

    def __str__(self) -> str:
        return f"Handover {self.pk} of {self.session.external_ref}"


class Note(models.Model):
    """A private note on a session: agents read it; no participant ever receives it."""

    session = models.ForeignKey(RelaySession, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Note {self.pk} on {self.session.external_ref}"


class ThreadView(models.Model):
    """An agent looking at a session in the inbox: when they last had it open (who else is
    viewing it) and the last message they saw there (what is unread for them)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(RelaySession, on_delete=models.CASCADE, related_name="views")
    seen_at = models.DateTimeField()
    read_up_to = models.BigIntegerField("last message seen", default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "session"], name="one_view_per_agent")
        ]
        indexes = [models.Index(fields=["session", "seen_at"], name="views_by_session")]

    def __str__(self) -> str:
        return f"{self.user_id} on session {self.session_id}"


class Slot(models.Model):
    """A time offered for an appointment (/slots). The customer's first valid pick makes it
    the appointment; reminders go before it."""

    session = models.ForeignKey(RelaySession, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=SlotStatus.choices, default="offered")
    offered_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(
                fields=["starts_at"], condition=Q(status="confirmed"), name="slots_confirmed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session.external_ref} at {self.starts_at:%Y-%m-%d %H:%M}"


class Reminder(models.Model):
    """A message to both sides before an appointment; cancelled if it moves."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="reminders")
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(sent_at__isnull=True, cancelled=False),
                name="reminders_due",
            )
        ]

    def __str__(self) -> str:
        return f"Reminder of {self.slot} at {self.due_at:%Y-%m-%d %H:%M}"
