from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "leaven.messaging"
    label = "messaging"
    verbose_name = "Messaging"
