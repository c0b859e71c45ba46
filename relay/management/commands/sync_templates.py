from django.core.management.base import BaseCommand, CommandError, CommandParser

from relay.providers.base import ProviderError
from relay.services.templates import templates_sync


class Command(BaseCommand):
    help = (
        "Fetch the message templates of the WhatsApp Business Account(s) from WhatsApp. "
        "Templates are created and approved in WhatsApp Manager; this keeps our copy current."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account",
            help="One WABA id; by default WHATSAPP_BUSINESS_ACCOUNT_ID and every pool's own",
        )

    def handle(self, *args, account: str | None, **options) -> None:
        try:
            result = templates_sync(account=account)
        except ProviderError as error:
            raise CommandError(f"templates could not be synced: {error}") from error
        self.stdout.write(
            f"Synced {', '.join(result.accounts) or 'the local catalogue'}: {result.created} new, "
            f"{result.updated} updated, {result.removed} no longer on WhatsApp."
        )
