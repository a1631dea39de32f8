from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "leaven.events"
    label = "events"
    verbose_name = "Events"
