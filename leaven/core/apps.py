from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leaven.core"
    label = "core"
    verbose_name = "Leaven core"
