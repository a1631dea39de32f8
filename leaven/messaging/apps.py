from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "leaven.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from leaven.messaging import webhooks

        webhooks.connect()
