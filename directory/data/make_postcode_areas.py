"""Build postcode_areas.csv (postcode sector and district centroids) from OS Code-Point Open.

    python directory/data/make_postcode_areas.py CODEPO_GB.zip > directory/data/postcode_areas.csv

The input is Ordnance Survey's Code-Point Open (the zip as OS publishes it: Data/CSV/*.csv,
columns postcode, quality, easting, northing, ..., admin district code). It is not needed
at run time: the app loads the CSV this writes (migration 0007). See README.md here.

Written for each area: its code, kind, the mean position of its postcodes (British National
Grid converted to WGS84 latitude/longitude), the local authority most of its postcodes are
in, and how many postcodes it has. Kept:

- every sector ("SE1 7") of a district that has any postcode in London, and every sector
  whose centre is within RING_KM of Charing Cross, so a point near London's edge is judged
  from fine areas on both sides of it;
- every district ("SE1", "M1", "EH1") in Great Britain, so a postcode or point anywhere
  can be placed (and told it is outside London).
"""

from __future__ import annotations

import csv
import io
import math
import sys
import zipfile
from collections import Counter, defaultdict

LONDON = {f"E09{n:06d}" for n in range(1, 34)}
CHARING_CROSS = (51.5073, -0.1276)
RING_KM = 40.0


def osgb36_to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """British National Grid to WGS84 latitude/longitude (OS's published formulas, Airy 1830
    inverse transverse Mercator then a Helmert shift: within ~5 m, ample for centroids)."""
    a, b = 6377563.396, 6356256.909
    f0, lat0, lon0 = 0.9996012717, math.radians(49), math.radians(-2)
    n0, e0 = -100000, 400000
    e2 = 1 - (b * b) / (a * a)
    n = (a - b) / (a + b)
    lat, m = lat0, 0.0
    while True:
        lat = (northing - n0 - m) / (a * f0) + lat
        m = (
            b
            * f0
            * (
                (1 + n + 5 / 4 * n**2 + 5 / 4 * n**3) * (lat - lat0)
                - (3 * n + 3 * n**2 + 21 / 8 * n**3) * math.sin(lat - lat0) * math.cos(lat + lat0)
                + (15 / 8 * n**2 + 15 / 8 * n**3)
                * math.sin(2 * (lat - lat0))
                * math.cos(2 * (lat + lat0))
                - 35 / 24 * n**3 * math.sin(3 * (lat - lat0)) * math.cos(3 * (lat + lat0))
            )
        )
        if abs(northing - n0 - m) < 0.00001:
            break
    sin_lat, cos_lat, tan_lat = math.sin(lat), math.cos(lat), math.tan(lat)
    nu = a * f0 / math.sqrt(1 - e2 * sin_lat**2)
    rho = a * f0 * (1 - e2) / (1 - e2 * sin_lat**2) ** 1.5
    eta2 = nu / rho - 1
    vii = tan_lat / (2 * rho * nu)
    viii = tan_lat / (24 * rho * nu**3) * (5 + 3 * tan_lat**2 + eta2 - 9 * tan_lat**2 * eta2)
    ix = tan_lat / (720 * rho * nu**5) * (61 + 90 * tan_lat**2 + 45 * tan_lat**4)
    x = 1 / (cos_lat * nu)
    xi = 1 / (cos_lat * 6 * nu**3) * (nu / rho + 2 * tan_lat**2)
    xii = 1 / (cos_lat * 120 * nu**5) * (5 + 28 * tan_lat**2 + 24 * tan_lat**4)
    xiia = (
        1
        / (cos_lat * 5040 * nu**7)
        * (61 + 662 * tan_lat**2 + 1320 * tan_lat**4 + 720 * tan_lat**6)
    )
    de = easting - e0
    lat = lat - vii * de**2 + viii * de**4 - ix * de**6
    lon = lon0 + x * de - xi * de**3 + xii * de**5 - xiia * de**7

    # OSGB36 (Airy) cartesian -> WGS84 (GRS80) by the OS Helmert parameters.
    h = 0.0
    sin_lat, cos_lat = math.sin(lat), math.cos(lat)
    nu = a / math.sqrt(1 - e2 * sin_lat**2)
    x1 = (nu + h) * cos_lat * math.cos(lon)
    y1 = (nu + h) * cos_lat * math.sin(lon)
    z1 = ((1 - e2) * nu + h) * sin_lat
    tx, ty, tz, s = 446.448, -125.157, 542.060, -20.4894e-6
    rx, ry, rz = (math.radians(v / 3600) for v in (0.1502, 0.2470, 0.8421))
    x2 = tx + (1 + s) * x1 - rz * y1 + ry * z1
    y2 = ty + rz * x1 + (1 + s) * y1 - rx * z1
    z2 = tz - ry * x1 + rx * y1 + (1 + s) * z1
    a2, b2 = 6378137.000, 6356752.3141
    e2b = 1 - (b2 * b2) / (a2 * a2)
    p = math.sqrt(x2**2 + y2**2)
    lat = math.atan2(z2, p * (1 - e2b))
    for _ in range(10):
        nu = a2 / math.sqrt(1 - e2b * math.sin(lat) ** 2)
        lat = math.atan2(z2 + e2b * nu * math.sin(lat), p)
    return math.degrees(lat), math.degrees(math.atan2(y2, x2))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _rows(path: str):
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if not (name.startswith("Data/CSV/") and name.endswith(".csv")):
                continue
            with archive.open(name) as raw:
                yield from csv.reader(io.TextIOWrapper(raw, encoding="latin-1"))


def build(path: str, out) -> None:
    # area code -> [sum easting, sum northing, count], and its authorities' counts
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    authorities: dict[str, Counter] = defaultdict(Counter)
    for row in _rows(path):
        postcode, easting, northing, district_code = row[0], row[2], row[3], row[8]
        compact = postcode.replace(" ", "").upper()
        outward, inward = compact[:-3], compact[-3:]
        if not easting or (easting == "0" and northing == "0"):
            continue  # no grid reference
        for code in (outward, f"{outward} {inward[0]}"):
            total = sums[code]
            total[0] += float(easting)
            total[1] += float(northing)
            total[2] += 1
            authorities[code][district_code] += 1

    london_districts = {
        code for code, counts in authorities.items() if " " not in code and LONDON & set(counts)
    }
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "kind", "latitude", "longitude", "local_authority_code", "postcodes"])
    for code in sorted(sums):
        easting, northing, count = sums[code]
        lat, lon = osgb36_to_wgs84(easting / count, northing / count)
        kind = "sector" if " " in code else "district"
        near_london = code.split(" ")[0] in london_districts
        if kind == "sector" and not near_london and _km(lat, lon, *CHARING_CROSS) > RING_KM:
            continue
        authority = authorities[code].most_common(1)[0][0]
        writer.writerow([code, kind, f"{lat:.5f}", f"{lon:.5f}", authority, count])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(sys.argv[1], sys.stdout)
