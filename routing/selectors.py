"""Reads of routing's own tables, for the other apps and the API."""

from relay.exceptions import RelayError
from routing.models import Reference, Workflow


class UnknownWorkflow(RelayError):
    status_code = 400


def workflow_find(slug: str) -> Workflow:
    """The workflow `slug`; UnknownWorkflow, listing the valid slugs, when there is none."""
    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        valid = ", ".join(Workflow.objects.order_by("slug").values_list("slug", flat=True))
        valid = valid or "none yet (an admin creates them)"
        raise UnknownWorkflow(
            f"unknown workflow '{slug}'; valid workflows: {valid}",
            field="workflow",
        )
    return workflow


def reference_partner_id(code: str) -> int | None:
    """The partner that owns the order or product `code`, by its id (one index lookup)."""
    return (
        Reference.objects.filter(code=Reference.normalised(code))
        .values_list("partner_id", flat=True)
        .first()
    )
