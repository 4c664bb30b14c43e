"""The suite-wide log scan (tests/conftest.py) notices a patient detail in any log record."""

import logging

from tests.referrals.factories import TEST_NHS_NUMBER


def test_it_catches_an_nhs_number_in_a_message(patient_log_scan):
    logging.getLogger("frontdoor.anything").warning("referral for %s", TEST_NHS_NUMBER)

    assert len(patient_log_scan.found) == 1
    patient_log_scan.found.clear()


def test_it_catches_a_name_in_a_traceback_of_a_quiet_logger(patient_log_scan):
    quiet = logging.getLogger("frontdoor.quiet")
    quiet.propagate = False
    try:
        try:
            raise ValueError("no such patient Testperson")
        except ValueError:
            quiet.exception("lookup failed")
    finally:
        quiet.propagate = True

    assert any("Testperson" in line for line in patient_log_scan.found)
    patient_log_scan.found.clear()


def test_it_leaves_other_records_alone(patient_log_scan):
    logging.getLogger("frontdoor.anything").warning("referral %s accepted", "a1b2")

    assert patient_log_scan.found == []
