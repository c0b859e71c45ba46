from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class CSVTextParser(BaseParser):
    """A `text/csv` body, as text (UTF-8, a byte order mark allowed: spreadsheets write one)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        try:
            text = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError("the CSV file is not UTF-8 text") from exc
        if "\x00" in text:
            raise ParseError("NUL characters are not allowed in the CSV file")
        return text
