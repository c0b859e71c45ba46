from django.db import models

from routing.choices import PartnerKind


class Partner(models.Model):
    """An external partner: a coworking location, a workshop, a factory, a caregiver."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PartnerKind.choices, default=PartnerKind.OTHER)
    active = models.BooleanField(default=True)
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
