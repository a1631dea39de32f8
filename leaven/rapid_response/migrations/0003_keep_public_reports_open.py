"""Units that already run rapid response keep their public report page open.

The page became opt-in per unit (OrgUnit.takes_public_reports, off by default). A unit that
has received incidents or has responders on its roster was already using it: its address is
on flyers and in group chats, and closing it on upgrade would turn those links into "not
found" for a person trying to report enforcement. Such units are opened; others stay closed.
"""

from django.db import migrations


def open_units_in_use(apps, schema_editor):
    OrgUnit = apps.get_model("core", "OrgUnit")
    Incident = apps.get_model("rapid_response", "Incident")
    Responder = apps.get_model("rapid_response", "Responder")
    in_use = set(Incident.objects.values_list("owner_unit_id", flat=True).distinct())
    in_use |= set(Responder.objects.values_list("owner_unit_id", flat=True).distinct())
    OrgUnit.objects.filter(pk__in=in_use - {None}).update(takes_public_reports=True)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_orgunit_takes_public_reports"),
        ("rapid_response", "0002_responder_precinct"),
    ]

    operations = [migrations.RunPython(open_units_in_use, migrations.RunPython.noop)]
