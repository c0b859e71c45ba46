"""Short times for the inbox list: "now", "5 min", "3 h", "2 d"."""

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def ago(moment) -> str:
    if moment is None:
        return ""
    seconds = max(0, (timezone.now() - moment).total_seconds())
    if seconds < 60:
        return "now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return "now"
