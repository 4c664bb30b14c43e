"""The directory's admin, one module per topic; importing them registers their models.

Every access decision comes from directory.permissions (directory.admin.access): partners
see and change only their own organisation's services, sites, hours, exceptions and
capacity; every other page is for operators. The site itself is directory/admin_site.py,
outside this package, because Django resolves it while importing every app's admin.
"""

from directory.admin import accounts, operations, reference, services  # noqa: F401
