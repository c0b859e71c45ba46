from django.apps import AppConfig


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
    verbose_name = "CRM sync"

    def ready(self) -> None:
        from crm_sync import outbox  # noqa: F401 (connects the outbox to the timeline)
