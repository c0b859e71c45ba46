"""What makes a workflow's statuses and transitions usable."""


def workflow_problem(statuses, transitions) -> str | None:
    """Why these statuses and transitions cannot work; None when they can."""
    if not isinstance(statuses, list) or not statuses:
        return "A workflow needs its booking statuses, as a list, the first being where it starts."
    if not all(isinstance(status, str) and status.strip() for status in statuses):
        return "Each booking status must be a word, such as confirmed."
    if len(set(statuses)) != len(statuses):
        return "A booking status is listed twice."
    if not isinstance(transitions, dict):
        return 'Transitions must map a status to where it may go: {"requested": ["confirmed"]}.'
    for source, targets in transitions.items():
        unknown = [
            s
            for s in [source, *(targets if isinstance(targets, list) else [targets])]
            if s not in statuses
        ]
        if not isinstance(targets, list) or unknown:
            return (
                f"Transitions from {source}: every status named must be one of "
                f"{', '.join(statuses)}, and where it may go a list."
            )
    return None
