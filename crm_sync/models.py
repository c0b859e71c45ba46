from django.db import models

from relay import crypto


class Endpoint(models.Model):
    """A CRM or booking system that receives signed events (Standard Webhooks)."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(
        default=list,
        help_text='The event types it receives, e.g. ["booking.status_changed"]; ["*"] for all.',
    )
    include_text = models.BooleanField(
        "may receive message text",
        default=False,
        help_text="Off: message.relayed carries metadata only.",
    )
    active = models.BooleanField(default=True, help_text="Off: it gets no new events at all.")
    # Paused when it kept failing: events wait for it, kept, until it is resumed.
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    secret_ciphertext = models.TextField(editable=False)
    # During a rotation the previous secret signs beside the new one until it expires.
    previous_secret_ciphertext = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "CRM endpoint"

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_ciphertext)

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class OutboxEvent(models.Model):
    """One event for CRMs, written in the transaction of the change it reports. Its `event_id`
    is the `webhook-id` every endpoint receives, on every attempt and replay."""

    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    session = models.ForeignKey(
        "relay.RelaySession", null=True, on_delete=models.PROTECT, related_name="crm_events"
    )
    external_ref = models.CharField(max_length=100, db_index=True)
    timeline_event = models.OneToOneField(
        "relay.TimelineEvent", null=True, on_delete=models.PROTECT, related_name="crm_event"
    )
    data = models.JSONField()
    occurred_at = models.DateTimeField()
    # Not yet given to the endpoints that subscribe (the dispatcher does, after commit).
    fanned_out = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(fanned_out=False), name="events_to_fan_out"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.external_ref}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead-lettered: retries exhausted"


class Delivery(models.Model):
    """One event to one endpoint. Those of one booking go in order: one is tried only when no
    earlier one of its booking is pending at that endpoint."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    # The event's session, kept here so that "an earlier one of this booking is pending" is
    # one index lookup.
    session = models.ForeignKey(
        "relay.RelaySession", null=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker sending it holds it until then; one that died lets it go again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="deliveries_due",
            ),
            models.Index(
                fields=["endpoint", "session", "event"],
                condition=models.Q(status="pending"),
                name="deliveries_pending_in_order",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=models.Q(status="pending", claimed_until__isnull=False),
                name="deliveries_in_flight",
            ),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint} ({self.status})"


class Attempt(models.Model):
    """One try of a delivery: what answered, how fast, and the first bytes of the answer."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField()
    answer_start = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.at:%Y-%m-%d %H:%M:%S}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` an API client sent, with the answer its request got: a repeat
    within 24 hours gets that answer again and changes nothing."""

    api_key = models.ForeignKey("relay.ApiKey", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="Of the method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, help_text="Empty: still running.")
    answer = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="one_request_per_key")
        ]

    def __str__(self) -> str:
        return self.key
