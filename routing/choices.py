from django.db import models


class PartnerKind(models.TextChoices):
    LOCATION = "location", "Location"
    WORKSHOP = "workshop", "Workshop"
    FACTORY = "factory", "Factory"
    CAREGIVER = "caregiver", "Caregiver"
    OTHER = "other", "Other"
