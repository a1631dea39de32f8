from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "leaven.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from leaven.api import hooks
        from leaven.core.models import AuditEvent

        post_save.connect(hooks.on_audit_event, sender=AuditEvent, dispatch_uid="api-webhooks")
