from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "leaven.people"
    label = "people"
    verbose_name = "People"
