from django.apps import AppConfig


class CanvassConfig(AppConfig):
    name = "leaven.canvass"
    label = "canvass"
    verbose_name = "Canvassing"

    def ready(self) -> None:
        from leaven.canvass import conditions

        conditions.register()
