"""UK postcodes: validate and normalise, and find where one is.

Where comes from the postcode table (filled by `manage.py import_postcodes` from the ONS
Postcode Directory). A network geocoder is used only when settings.GEOCODER names one.
"""

from __future__ import annotations

import re

# The UK format (BS 7666), plus the special GIR 0AA. Outward code, space, inward code.
_POSTCODE = re.compile(
    r"^(GIR ?0AA"
    r"|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_postcode(raw: str) -> str | None:
    """'sw1a1aa ' -> 'SW1A 1AA'; None if it is not a UK postcode."""
    compact = re.sub(r"\s+", "", (raw or "").upper())
    if not 5 <= len(compact) <= 7 or not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_district(postcode: str) -> str:
    """The outward code of a normalised postcode: 'SW1A 1AA' -> 'SW1A'."""
    return postcode.split(" ", 1)[0]
