import django.db.models.deletion
from django.db import migrations, models

# Single-column indexes dropped in place (altering the fields through the schema editor would
# copy each whole table on SQLite), each covered by a wider index: a unit link by person or by
# unit is found by the unique (person, unit) constraint or the (unit, person) index; a person
# by household by the new (household, sort name) index, which also answers, from the index
# alone, the residents of a household in name order.
INDEXES = (
    ("people_personunit", "people_personunit_person_id_1e4f961d", "person_id"),
    ("people_personunit", "people_personunit_unit_id_092544d1", "unit_id"),
    ("people_person", "people_person_household_id_5312f7c5", "household_id"),
)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_orgunit_takes_public_reports"),
        ("people", "0003_email_status_none"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="personunit",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="unit_links",
                        to="people.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="household",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="residents",
                        to="people.household",
                        verbose_name="household",
                    ),
                ),
                migrations.AlterField(
                    model_name="personunit",
                    name="unit",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="person_links",
                        to="core.orgunit",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for table, name, column in INDEXES
            ],
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["household", "sort_name"], name="person_home_idx"),
        ),
    ]
