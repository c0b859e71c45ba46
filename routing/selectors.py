"""Reads of routing's own tables, for the other apps and the API."""

import re

import regex

from relay.exceptions import RelayError
from relay.privacy import phone_like
from routing.conditions import REGEX_TIMEOUT_SECONDS
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


def workflow_slug_problem(slug: str) -> str | None:
    """Why `slug` names no workflow (the valid ones listed); None when it names one."""
    try:
        workflow_find(slug)
    except UnknownWorkflow as exc:
        return exc.message
    return None


def partner_contact_for(partner, role: str = ""):
    """The partner's contact with `role` (any case), else its first; None without a partner."""
    if partner is None:
        return None
    contacts = partner.contacts.select_related("contact")
    return (role and contacts.filter(role__iexact=role).first()) or contacts.first()


def reference_partner_id(code: str) -> int | None:
    """The partner that owns the order or product `code`, by its id (one index lookup)."""
    return (
        Reference.objects.filter(code=Reference.normalised(code))
        .values_list("partner_id", flat=True)
        .first()
    )


# Candidate codes in a text: a word of letters, digits and dashes holding a digit; one with
# fewer digits than this is never hidden as a phone number, so it is not looked for.
CODE_CANDIDATE = re.compile(r"(?<![\w-])[A-Za-z0-9][\w-]*\d[\w-]*(?![\w-])")
HIDDEN_FROM_DIGITS = 6


def references_in(text: str, region: str | None = None) -> list[str]:
    """The parts of `text` routing knows to be references, which the privacy guard never
    hides: what the patterns of active rules capture in named groups, and codes of the
    reference table. Only words with digits enough to be taken for a number are looked for:
    the guard leaves the others alone anyway."""
    candidates = {
        word: Reference.normalised(word)
        for word in CODE_CANDIDATE.findall(text)
        if sum(ch.isdigit() for ch in word) >= HIDDEN_FROM_DIGITS
    }
    if not candidates:
        return []
    from routing.rules import active_rules  # routing.rules imports this module

    found = []
    for rule in active_rules():
        for condition in rule.conditions:
            if condition.get("kind") != "regex":
                continue
            try:
                match = regex.search(
                    condition["value"], text, regex.IGNORECASE, timeout=REGEX_TIMEOUT_SECONDS
                )
            except (TimeoutError, regex.error):
                continue
            if match:
                groups = match.groupdict().values()
                found += [value for value in groups if value and not phone_like(value, region)]
    known = set(
        Reference.objects.filter(code__in=set(candidates.values())).values_list("code", flat=True)
    )
    return found + [word for word, code in candidates.items() if code in known]
