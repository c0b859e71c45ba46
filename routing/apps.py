from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from routing.models import Rule
        from routing.rules import rules_forget

        post_save.connect(rules_forget, sender=Rule, dispatch_uid="rules_forget_saved")
        post_delete.connect(rules_forget, sender=Rule, dispatch_uid="rules_forget_deleted")
