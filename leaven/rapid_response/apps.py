from django.apps import AppConfig


class RapidResponseConfig(AppConfig):
    name = "leaven.rapid_response"
    label = "rapid_response"
    verbose_name = "Rapid response"
