from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "leaven.api"
    label = "api"
    verbose_name = "API"
