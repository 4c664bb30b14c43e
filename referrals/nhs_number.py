"""NHS numbers: ten digits, the last a Modulus 11 check digit over the first nine.

The check catches every single mistyped digit and every swap of two adjacent different
digits, because each weight (10..1) is non-zero modulo 11 and adjacent weights differ by
one. 0000000000 passes the arithmetic but is never issued, so it is refused too.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s-]+")
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when the remainder makes them unusable (10)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_is_valid(value: str) -> bool:
    """True for a ten-digit string (no separators) whose check digit is right."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    if value == "0000000000":
        return False
    return nhs_check_digit(value[:9]) == int(value[9])


def normalise_nhs_number(raw: str) -> str | None:
    """'943 476 5919' -> '9434765919'; None if it is not a valid NHS number."""
    compact = _SEPARATORS.sub("", raw or "")
    return compact if nhs_number_is_valid(compact) else None
