"""The phone simulator: be a customer or a partner contact, with the console provider."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from config.http import HtmxHttpRequest
from relay.masking import sees_real_numbers
from relay.simulator.forms import PhoneForm, SendForm
from relay.simulator.phone import phone_send, phone_threads, phones_known


def console_only(view):
    """Nothing here is real WhatsApp: with any other provider the page does not exist."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if settings.RELAY_PROVIDER != "console":
            raise Http404("The phone simulator needs RELAY_PROVIDER=console.")
        return view(request, *args, **kwargs)

    return wrapped


@console_only
@staff_member_required
@require_GET
def phone(request: HtmxHttpRequest) -> HttpResponse:
    form = PhoneForm(request.GET or None)
    number = form.cleaned_data["phone"] if form.is_valid() else ""
    if request.htmx and not request.htmx.boosted:
        return _thread_list(request, number)
    return _page(request, form, number, SendForm(initial={"phone": number}, phone=number))


@console_only
@staff_member_required
@require_POST
def message_send(request: HtmxHttpRequest) -> HttpResponse:
    form = SendForm(request.POST, phone=request.POST.get("phone", ""))
    if not form.is_valid():
        if request.htmx:
            response = render(request, "relay/partials/send_error.html", {"send_form": form})
            return retarget(reswap(response, "innerHTML"), "#send-error")
        phone_form = PhoneForm({"phone": request.POST.get("phone", "")})
        number = phone_form.cleaned_data["phone"] if phone_form.is_valid() else ""
        return _page(request, phone_form, number, form, status=400)
    data = form.cleaned_data
    phone_send(phone=data["phone"], number=data["number"], text=data["text"], reply=form.reply)
    if request.htmx:
        return _thread_list(request, data["phone"])
    return redirect(f"{reverse('simulator:phone')}?{urlencode({'phone': data['phone']})}")


def _thread_list(request: HttpRequest, number: str) -> HttpResponse:
    threads = phone_threads(phone=number) if number else []
    context = {"phone": number, "threads": threads}
    return render(request, "relay/partials/thread_list.html", context)


def _page(
    request: HttpRequest, form: PhoneForm, number: str, send_form: SendForm, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "phone": number,
        "threads": phone_threads(phone=number) if number else [],
        "send_form": send_form,
        # Picking a side of a session reveals its real number: only for those who may see it.
        "phones": phones_known() if sees_real_numbers(request) else [],
    }
    return render(request, "relay/simulator.html", context, status=status)
