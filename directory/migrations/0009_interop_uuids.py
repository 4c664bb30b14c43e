"""Stable public UUIDs on organisations, locations and services (HSDS and FHIR ids).

Added nullable, filled row by row (a column default would give every row the same
value), then made unique and required.
"""

import uuid

from django.db import migrations, models


def fill_uuids(apps, schema_editor):
    for name in ("Organisation", "Location", "Service"):
        model = apps.get_model("directory", name)
        rows = list(model.objects.filter(uuid__isnull=True).only("pk"))
        for row in rows:
            row.uuid = uuid.uuid4()
        model.objects.bulk_update(rows, ["uuid"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0008_crewpages_service_visits_at_home"),
    ]

    operations = [
        *[
            migrations.AddField(
                model_name=name, name="uuid", field=models.UUIDField(null=True, editable=False)
            )
            for name in ("organisation", "location", "service")
        ],
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        *[
            migrations.AlterField(
                model_name=name,
                name="uuid",
                field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
            )
            for name in ("organisation", "location", "service")
        ],
    ]
