"""Language codes. People's languages are kept as BCP 47 tags ("es", "pt-BR"); WhatsApp
names template languages its own way ("es", "pt_BR", "en_US")."""

import re

TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}|[A-Za-z]{4}))?$")


class InvalidLanguage(ValueError):
    pass


def normalise(code: str) -> str:
    """`pt_br`, `PT-BR` -> `pt-BR`; `es` -> `es`. Raises InvalidLanguage for anything else."""
    match = TAG.match((code or "").strip())
    if not match:
        raise InvalidLanguage("is not a language code such as en, es or pt-BR")
    language, region = match.groups()
    if not region:
        return language.lower()
    return f"{language.lower()}-{region.title() if len(region) == 4 else region.upper()}"


def base(code: str) -> str:
    return re.split("[-_]", code, maxsplit=1)[0].lower()


def matches(template_language: str, wanted: str) -> int:
    """How well a template language serves someone who reads `wanted`: 2 exactly, 1 the
    same language of another region, 0 not at all."""
    if template_language.replace("_", "-").lower() == wanted.replace("_", "-").lower():
        return 2
    return 1 if base(template_language) == base(wanted) else 0
