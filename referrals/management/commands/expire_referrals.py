"""manage.py expire_referrals: expire referrals nobody acknowledged or answered in time."""

from django.core.management.base import BaseCommand

from referrals.services import referrals_expire_overdue


class Command(BaseCommand):
    help = "Expire sent referrals past their acknowledge time and open ones past their answer time."

    def handle(self, *args, **options):
        expired = referrals_expire_overdue()
        self.stdout.write(f"Expired {expired} referral(s).")
