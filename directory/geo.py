"""Great-circle distance, in Python and as a database expression, and bounding boxes.

A sphere of the mean Earth radius is within 0.5% of the WGS84 geodesic at London's
latitude (tested against geopy), and lets the database do the sum with plain trigonometry
(Django registers SIN, COS, ASIN... on SQLite, PostgreSQL has them built in).
"""

from __future__ import annotations

import math

from django.db import connection
from django.db.models import F, FloatField, Value
from django.db.models.expressions import CombinedExpression, ExpressionWrapper, RawSQL
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude: float, longitude: float, radius_km: float) -> tuple[float, ...]:
    """(min_lat, max_lat, min_lon, max_lon) holding every point within radius_km."""
    # A hair of slack so rounding never drops a point on the circle.
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM) * 1.001
    cos_lat = max(math.cos(math.radians(latitude)), 0.01)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)) * 1.001
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


def distance_km_expression(
    latitude: float, longitude: float, lat_field: str = "latitude", lon_field: str = "longitude"
) -> CombinedExpression:
    """The haversine distance (km) from a point to the row's lat/lon fields, in SQL."""
    phi0 = math.radians(latitude)
    lambda0 = math.radians(longitude)
    half_dphi = (Radians(F(lat_field)) - Value(phi0)) / Value(2.0)
    half_dlambda = (Radians(F(lon_field)) - Value(lambda0)) / Value(2.0)
    a = Power(Sin(half_dphi), 2) + Value(math.cos(phi0)) * Cos(Radians(F(lat_field))) * Power(
        Sin(half_dlambda), 2
    )
    return ExpressionWrapper(Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(a)), output_field=FloatField())


def distance_params(latitude: float, longitude: float) -> tuple[float, float, float, float]:
    """distance_km_sql's parameters for a point: 2R, its latitude in radians and that
    latitude's cosine, its longitude in radians."""
    phi0 = math.radians(latitude)
    return 2 * EARTH_RADIUS_KM, phi0, math.cos(phi0), math.radians(longitude)


def distance_km_sql(model, latitude: float, longitude: float) -> RawSQL:
    """distance_km_expression as one raw SQL node on model's latitude/longitude columns.

    The same sum, but Django compiles one node instead of a tree of twenty on every
    query, which the search feels (H8). Values are parameters; only the model's own
    quoted table and column names are pasted in.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    lat, lon = f"{table}.{quote('latitude')}", f"{table}.{quote('longitude')}"
    sql = (
        f"(%s * ASIN(SQRT(POWER(SIN((RADIANS({lat}) - %s) / 2.0), 2)"
        f" + %s * COS(RADIANS({lat})) * POWER(SIN((RADIANS({lon}) - %s) / 2.0), 2))))"
    )
    return RawSQL(sql, distance_params(latitude, longitude), output_field=FloatField())  # noqa: S611  (values are params)
