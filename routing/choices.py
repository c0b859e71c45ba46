from django.db import models


class PartnerKind(models.TextChoices):
    LOCATION = "location", "Location"
    WORKSHOP = "workshop", "Workshop"
    FACTORY = "factory", "Factory"
    CAREGIVER = "caregiver", "Caregiver"
    OTHER = "other", "Other"


class Assignment(models.TextChoices):
    LEAST_LOADED = "least_loaded", "Least loaded: the available agent with the fewest open sessions"
    ROUND_ROBIN = "round_robin", "Round robin: available agents in turn"
    MANUAL = "manual", "Manual: agents claim sessions themselves"
