"""manage.py purge_patient_details --older-than DAYS"""

from django.core.management.base import BaseCommand, CommandError

from referrals.idempotency import idempotency_keys_purge
from referrals.services import referrals_purge_patient_details


class Command(BaseCommand):
    help = (
        "Blank patient identifiers of closed referrals closed more than DAYS ago, keeping "
        "de-identified facts (age band, borough, category, statuses, times) for reports. "
        "Also deletes idempotency keys older than 24 hours (their stored answers name patients)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    def handle(self, *args, older_than: int, **options):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 (day).")
        purged = referrals_purge_patient_details(older_than_days=older_than)
        keys = idempotency_keys_purge()
        self.stdout.write(f"Purged patient details of {purged} referral(s); {keys} old key(s).")
