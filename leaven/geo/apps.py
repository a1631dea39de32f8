from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "leaven.geo"
    label = "geo"
    verbose_name = "Geography"
