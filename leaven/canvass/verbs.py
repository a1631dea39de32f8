from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "turf.cut": _("turfs cut"),
        "turf.door_moved": _("door moved to another turf"),
        "turf.archived": _("turf archived"),
        "turf.assigned": _("turf assigned"),
        "turf.handed_off": _("turf handed to a teammate"),
        "turf.assignment_revoked": _("canvass assignment revoked"),
        "script.created": _("canvass script created"),
        "script.question_added": _("question added to a script"),
        "canvass.result_recorded": _("door result recorded"),
        "canvass.walklist_downloaded": _("walk list downloaded to a phone"),
    }
)
