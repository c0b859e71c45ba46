"""Routing rules read as sentences, for the people who configure them: "If the text matches
PO… then send to the partner that owns the code in the reference table, production contact."""

from routing.conditions import keywords_of

CONDITIONS = {
    "keyword": lambda value: "the text has " + " or ".join(f"“{w}”" for w in keywords_of(value)),
    "regex": lambda value: f"the text matches {_short(value)}",
    "message_type": lambda value: f"it is {_article(value)}",
    "number": lambda value: f"it was written to {value}",
    "workflow": lambda value: f"its workflow is {value}",
    "tag": lambda value: f"the customer is tagged {value}",
    "time": lambda value: f"it comes {value}",
}
ACTIONS = {
    "set_partner": lambda value: f"send to partner {value}",
    "partner_by_reference": lambda value: (
        f"send to the partner that owns the {value} in the reference table"
    ),
    "partner_by_specialization": lambda value: f"send to a partner for {value}",
    "contact_role": lambda value: f"{value} contact",
    "assign_team": lambda value: f"team {value}",
    "assign_agent": lambda value: f"agent {value}",
    "add_tag": lambda value: f"tag it {value}",
    "set_workflow": lambda value: f"workflow {value}",
    "set_mode": lambda value: f"{value} mode",
    "set_priority": lambda value: f"{value} priority",
    "set_sla_policy": lambda value: f"held to SLA policy {value}",
}


def rule_sentence(rule) -> str:
    conditions = [_said(CONDITIONS, item) for item in rule.conditions or []]
    actions = [_said(ACTIONS, item) for item in rule.actions or []]
    head = f"If {' and '.join(conditions)}" if conditions else "Always"
    sentence = f"{head}, then {', '.join(actions) or 'do nothing'}"
    return sentence + ("; stop." if rule.stop else ".")


def _said(phrases: dict, item: dict) -> str:
    phrase = phrases.get(item.get("kind"))
    value = str(item.get("value", ""))
    return phrase(value) if phrase else f"{item.get('kind')} {value}"


def _short(pattern: str) -> str:
    return pattern if len(pattern) <= 24 else pattern[:22] + "…"


def _article(kind: str) -> str:
    return {"image": "a photo", "photo": "a photo", "pdf": "a PDF", "audio": "a voice message"}.get(
        kind, f"a {kind}"
    )
