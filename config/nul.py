"""NUL characters in input: PostgreSQL text cannot hold them, and no field has a use for them.

Checked once for every request: query strings and form bodies by
config.middleware.RefuseNulCharacters, JSON bodies by config.parsers.JSONParser.
"""

from __future__ import annotations

NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character."


def nul_field(data, path: str = "") -> str | None:
    """The name (a dotted path in JSON) of the first key or text holding a NUL, or None."""
    if isinstance(data, str):
        return path or "body" if NUL in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return name
            found = nul_field(value, name)
            if found:
                return found
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            found = nul_field(value, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def querydict_nul(query) -> str | None:
    for key, values in query.lists():
        if NUL in key or any(NUL in value for value in values):
            return key
    return None
