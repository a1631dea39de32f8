from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "import.uploaded": _("file uploaded"),
        "import.encoding_confirmed": _("file encoding confirmed"),
        "import.mapped": _("columns mapped"),
        "import.mapping_saved": _("column mapping saved"),
        "import.queued": _("import queued"),
        "import.batch": _("import batch loaded"),
        "import.done": _("import finished"),
        "import.cancel_requested": _("import cancelled"),
        "import.deleted": _("import deleted"),
    }
)
