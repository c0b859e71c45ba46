"""Real numbers are shown only to users allowed to see them; everyone else sees them
masked. Used by the admin of every app and by the pages that show contacts."""

from django.http import HttpRequest

from relay.models import Contact

REAL_NUMBER_PERMISSION = "relay.view_real_number"


def sees_real_numbers(request: HttpRequest) -> bool:
    return request.user.has_perm(REAL_NUMBER_PERMISSION)


class RevealMixin:
    """For admin classes: lists and forms name the masked field; users allowed to see real
    numbers get the revealing twin instead. Masked is the default, so a forgotten swap never
    leaks."""

    revealed: dict[str, str] = {"number": "real_number"}

    def _reveal(self, request: HttpRequest, names) -> list:
        if not sees_real_numbers(request):
            return list(names)
        return [self.revealed.get(name, name) for name in names]

    def get_list_display(self, request: HttpRequest):
        return self._reveal(request, super().get_list_display(request))

    def get_fields(self, request: HttpRequest, obj=None):
        return self._reveal(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self._reveal(request, super().get_readonly_fields(request, obj))

    def number(self, obj) -> str:
        contact = _contact_of(obj)
        return contact.masked_identity if contact else ""

    def real_number(self, obj) -> str:
        contact = _contact_of(obj)
        return (contact.phone or contact.bsuid) if contact else ""

    number.short_description = real_number.short_description = "number"


def _contact_of(obj) -> Contact | None:
    if isinstance(obj, Contact):
        return obj
    return obj.contact if getattr(obj, "contact_id", None) else None
