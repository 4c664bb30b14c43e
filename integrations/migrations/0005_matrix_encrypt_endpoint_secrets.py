"""Endpoint secrets encrypted at rest: the column widens and every existing row is re-saved,
which encrypts its plain `whsec_` secret (integrations/fields.py)."""

from django.db import migrations

import integrations.fields
import integrations.models


def encrypt_existing(apps, schema_editor):
    Endpoint = apps.get_model("integrations", "Endpoint")
    for endpoint in Endpoint.objects.only("pk", "secret").iterator():
        # Read as plain (a legacy row) or decrypted; saved encrypted.
        endpoint.save(update_fields=["secret"])


def decrypt_existing(apps, schema_editor):
    from integrations.fields import decrypt_secret

    Endpoint = apps.get_model("integrations", "Endpoint")
    table = Endpoint._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table}")  # noqa: S608 - our own table name
        for pk, stored in cursor.fetchall():
            cursor.execute(
                f"UPDATE {table} SET secret = %s WHERE id = %s",  # noqa: S608
                [decrypt_secret(stored), pk],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_timewindow_escalations_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="endpoint",
            name="secret",
            field=integrations.fields.EncryptedSecretField(
                default=integrations.models.new_webhook_secret, editable=False, max_length=255
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
