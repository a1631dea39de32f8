from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "leaven.membership"
    label = "membership"
    verbose_name = "Membership"
