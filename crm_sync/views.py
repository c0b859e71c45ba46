"""The printable transcript of a booking (/bookings/{external_ref}/transcript/), for
compliance: supervisors see every booking, agents their teams', with real numbers only for
those allowed to see them."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from crm_sync.transcripts import transcript_of
from relay.exceptions import NotFound
from relay.models import RelaySession
from routing.models import Agent


@login_required
def transcript_page(request: HttpRequest, external_ref: str) -> HttpResponse:
    if not _may_read(request.user, external_ref):
        raise Http404("no such booking")  # the same answer as for one that does not exist
    try:
        transcript = transcript_of(
            external_ref, numbers_shown=request.user.has_perm("relay.view_real_number")
        )
    except NotFound:
        raise Http404("no such booking") from None
    return render(request, "crm_sync/transcript.html", {"transcript": transcript})


def _may_read(user, external_ref: str) -> bool:
    agent = Agent.objects.filter(user=user).first()
    if user.is_superuser or (agent is not None and agent.supervisor):
        return True
    if agent is None:
        return False
    return RelaySession.objects.filter(
        external_ref=external_ref, team__in=agent.teams.all()
    ).exists()
