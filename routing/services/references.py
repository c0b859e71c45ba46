"""The reference table (order or product code → partner): one code at a time, or a whole
CSV file at once, all or nothing."""

import csv
import io
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from relay.exceptions import RelayError
from routing.models import Partner, Reference

HEADER = ["code", "partner"]
BATCH = 5000


class ImportClashed(RelayError):
    status_code = 409


class ImportRefused(RelayError):
    status_code = 400

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(f"{len(errors)} lines could not be imported; nothing was")
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    lines: int = 0
    errors: list[dict] = field(default_factory=list)


def reference_save(*, code: str, partner: Partner) -> tuple[Reference, bool]:
    """Say that `partner` owns `code`; True if the code is new."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                return Reference.objects.update_or_create(
                    code=Reference.normalised(code), defaults={"partner": partner}
                )
        except IntegrityError:  # written at the same moment by another request: now it exists
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def references_import(text: str) -> ImportResult:
    """Import `code,partner` lines (a header first). Every bad line is reported with its line
    number (ImportRefused), and then nothing is imported."""
    try:
        rows, errors = _parse(text)
    except csv.Error as exc:
        raise ImportRefused([{"line": None, "error": f"the file is not CSV: {exc}"}]) from exc
    if errors:
        raise ImportRefused(errors)
    result = ImportResult(lines=len(rows))
    try:
        new, moved = _write(rows)
    except IntegrityError as exc:
        raise ImportClashed(
            "another import or write of the same codes ran at the same time; nothing was "
            "imported: send the file again"
        ) from exc
    result.created, result.updated = len(new), len(moved)
    result.unchanged = len(rows) - len(new) - len(moved)
    return result


@transaction.atomic
def _write(rows) -> tuple[list, list]:
    """New codes, and known codes that changed hands, written; (the new, the moved)."""
    known: dict[str, tuple[int, int]] = {}  # code → (id, partner id)
    codes = [code for _, code, _ in rows]
    for start in range(0, len(codes), BATCH):
        found = Reference.objects.filter(code__in=codes[start : start + BATCH])
        known.update((code, (pk, p)) for pk, code, p in found.values_list("pk", "code", "partner"))
    new = [Reference(code=c, partner_id=p) for _, c, p in rows if c not in known]
    moved = [
        Reference(pk=known[c][0], code=c, partner_id=p)
        for _, c, p in rows
        if c in known and known[c][1] != p
    ]
    Reference.objects.bulk_create(new, batch_size=BATCH)
    Reference.objects.bulk_update(moved, ["partner"], batch_size=BATCH)
    return new, moved


def _parse(text: str) -> tuple[list[tuple[int, str, int]], list[dict]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != HEADER:
        return [], [{"line": 1, "error": "the first line must be the header: code,partner"}]
    partners = dict(Partner.objects.values_list("code", "pk"))
    rows, errors, seen = [], [], {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            errors.append(
                {"line": line, "error": f"expected 2 values (code,partner), got {len(row)}"}
            )
            continue
        code, partner = Reference.normalised(row[0]), row[1].strip()
        if not code:
            errors.append({"line": line, "error": "the code is blank"})
        elif len(code) > 100:
            errors.append({"line": line, "error": "the code is longer than 100 characters"})
        elif partner not in partners:
            errors.append({"line": line, "error": f"no partner with code '{partner}'"})
        elif code in seen:
            errors.append(
                {"line": line, "error": f"{code} is listed already, on line {seen[code]}"}
            )
        else:
            seen[code] = line
            rows.append((line, code, partners[partner]))
    return rows, errors
