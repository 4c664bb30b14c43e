from django.db import migrations, models
from django.db.models import Q

MESSAGE = (
    "A dated exception is either closed all day or open for given times: tick closed all "
    "day, or enter the opening and closing times, not both."
)


def open_the_hours_that_were_entered(apps, schema_editor):
    """Rows saved as closed with both times were days of changed hours that the old default
    ("closed") swallowed: open them for the hours entered. A lone time on a closed day
    says nothing and is dropped."""
    OpeningException = apps.get_model("directory", "OpeningException")
    OpeningException.objects.filter(closed=True, opens__isnull=False, closes__isnull=False).update(
        closed=False
    )
    OpeningException.objects.filter(closed=True).update(opens=None, closes=None)


class Migration(migrations.Migration):
    dependencies = [("directory", "0009_interop_uuids")]

    operations = [
        migrations.AlterField(
            model_name="openingexception",
            name="closed",
            field=models.BooleanField(verbose_name="closed all day"),
        ),
        migrations.RemoveConstraint(model_name="openingexception", name="exception_open_has_hours"),
        migrations.RunPython(open_the_hours_that_were_entered, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="openingexception",
            constraint=models.CheckConstraint(
                condition=(Q(closed=True) & Q(opens__isnull=True) & Q(closes__isnull=True))
                | (Q(closed=False) & Q(opens__isnull=False) & Q(closes__isnull=False)),
                name="exception_closed_or_hours",
                violation_error_message=MESSAGE,
            ),
        ),
    ]
