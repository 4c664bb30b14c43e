"""Load the postcode sector and district centres (directory/data/postcode_areas.csv, OS
Code-Point Open under the Open Government Licence; see directory/data/README.md), so a
fresh database places every London postcode without the network."""

import csv
from pathlib import Path

from django.db import migrations

AREAS_CSV = Path(__file__).resolve().parent.parent / "data" / "postcode_areas.csv"


def load(apps, schema_editor):
    PostcodeArea = apps.get_model("directory", "PostcodeArea")
    Borough = apps.get_model("directory", "Borough")
    london = set(Borough.objects.values_list("gss_code", flat=True))
    with AREAS_CSV.open(encoding="utf-8", newline="") as handle:
        rows = [
            PostcodeArea(
                code=row["code"],
                kind=row["kind"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                borough_id=row["local_authority_code"] if row["local_authority_code"] in london else None,
                local_authority_code=row["local_authority_code"],
                postcodes=int(row["postcodes"]),
            )
            for row in csv.DictReader(handle)
        ]
    PostcodeArea.objects.bulk_create(rows, batch_size=1000)


def unload(apps, schema_editor):
    apps.get_model("directory", "PostcodeArea").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0006_postcodes_postcode_area"),
    ]

    operations = [migrations.RunPython(load, unload)]
