"""The directory's admin, one module per topic; importing them registers their models."""

from directory.admin import services  # noqa: F401
