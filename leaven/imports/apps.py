from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "leaven.imports"
    label = "imports"
    verbose_name = "Imports"
