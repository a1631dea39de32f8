from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "household.jurisdictions_assigned": _("precinct and ward assigned"),
        "geo.boundaries_imported": _("boundaries imported"),
        "geo.results_imported": _("election results imported"),
    }
)
