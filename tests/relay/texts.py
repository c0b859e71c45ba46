from relay.texts import CATALOGUE


def english(key, **values) -> str:
    """The built-in English wording of one of Switchboard's texts, filled in."""
    return CATALOGUE[key].format(**values)
