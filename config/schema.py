"""OpenAPI names for our one-view-per-operation style.

Every view nests its own InputSerializer/OutputSerializer, so the plain class name is not
unique: name components after the view that holds them, and operations after the view.
"""

import re

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, inner = qualname.rsplit(".", 1)
            outer = re.sub(r"Api$", "", outer.replace(".", "")).lstrip("_")
            return outer + re.sub(r"Serializer$", "", inner)
        return super().get_serializer_name(serializer, direction)

    def get_operation_id(self) -> str:
        view = re.sub(r"Api$", "", type(self.view).__name__).lstrip("_")
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", view).lower()
        return f"{snake}_{self.method.lower()}"


class FrontdoorTokenScheme(KnoxTokenScheme):
    """Our one-query knox authenticator: the same header and token as knox's own scheme."""

    target_class = "directory.permissions.TokenAuthentication"
    name = "deviceToken"
