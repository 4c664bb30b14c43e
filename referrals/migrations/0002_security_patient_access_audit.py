"""The patient-access audit keeps who read as text, refused tries, address and user agent,
and becomes append-only in the database."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "referrals_patientaccess"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION referrals_patientaccess_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'patient access audit rows are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER referrals_patientaccess_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION referrals_patientaccess_append_only();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS referrals_patientaccess_append_only ON {TABLE};
DROP FUNCTION IF EXISTS referrals_patientaccess_append_only();
"""
# SQLite: UPDATE is refused. DELETE is not: Django empties SQLite tables with DELETE
# between transactional tests, and SQLite has no TRUNCATE that would skip a trigger.
SQLITE_UP = f"""
CREATE TRIGGER referrals_patientaccess_no_update BEFORE UPDATE ON {TABLE}
BEGIN
    SELECT RAISE(ABORT, 'patient access audit rows are append-only (UPDATE refused)');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS referrals_patientaccess_no_update;"


def triggers_up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def triggers_down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


def fill_who(apps, schema_editor):
    PatientAccess = apps.get_model("referrals", "PatientAccess")
    for access in PatientAccess.objects.select_related("user", "user__organisation").iterator():
        user = access.user
        access.referral_ref = access.referral_id
        if user is not None:
            access.username = user.username
            access.role = user.role
            access.organisation_name = user.organisation.name if user.organisation else ""
        access.save(update_fields=["referral_ref", "username", "role", "organisation_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="patientaccess",
            name="referral_ref",
            field=models.UUIDField(null=True),
        ),
        migrations.AddField(
            model_name="patientaccess",
            name="username",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name="patientaccess",
            name="organisation_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="patientaccess",
            name="role",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="patientaccess",
            name="resource",
            field=models.CharField(
                choices=[("detail", "Patient details"), ("events", "Events (answers and notes)")],
                default="detail",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="patientaccess",
            name="outcome",
            field=models.CharField(
                choices=[("granted", "Shown"), ("denied", "Refused (not found or not theirs)")],
                default="granted",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="patientaccess",
            name="ip_address",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="patientaccess",
            name="user_agent",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.RunPython(fill_who, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="patientaccess",
            name="referral_ref",
            field=models.UUIDField(db_index=True),
        ),
        migrations.AlterField(
            model_name="patientaccess",
            name="referral",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="accesses",
                to="referrals.referral",
            ),
        ),
        migrations.AlterField(
            model_name="patientaccess",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(triggers_up, triggers_down),
    ]
