"""Load the ONS Postcode Directory (ONSPD) into the postcode table.

The ONSPD CSV holds about 2.7 million rows, so the file is streamed and written in
batches of upserts: memory stays constant and a second import updates rows in place.
Rows without a grid reference (ONS writes latitude 99.999999) and malformed postcodes are
skipped and counted.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from directory.models import Borough, Postcode
from directory.postcodes import normalise_postcode

POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd8", "postcode")
LATITUDE_COLUMNS = ("lat", "latitude")
LONGITUDE_COLUMNS = ("long", "lon", "longitude")
# ONSPD calls the local authority column oslaua; later products name it after the year
# of the boundaries (lad23cd, lad24cd...).
AUTHORITY_COLUMNS = ("oslaua", "laua", "lad", "ladcd", "lacode")
AUTHORITY_PATTERN = re.compile(r"^lad\d{2}cd$")
# ONS marks postcodes without a grid reference with this latitude (and longitude 0).
NO_GRID_LATITUDE = 99.999999


@dataclass
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    in_london: int = 0
    skipped: dict[str, int] = field(
        default_factory=lambda: {"no_coordinates": 0, "bad_postcode": 0, "outside_london": 0}
    )


def _pick(headers: list[str], names: tuple[str, ...], pattern: re.Pattern | None = None):
    lowered = {h.strip().lower(): h for h in headers}
    for name in names:
        if name in lowered:
            return lowered[name]
    if pattern is not None:
        for low, original in lowered.items():
            if pattern.match(low):
                return original
    return None


@contextmanager
def _open_csv(path: Path) -> Iterator[io.TextIOBase]:
    """The CSV as text; for the ONSPD zip, its main data file (the largest .csv inside)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
            if not members:
                raise CommandError(f"{path} holds no .csv file")
            biggest = max(members, key=lambda m: m.file_size)
            with archive.open(biggest) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield handle


def _coordinate(raw: str | None) -> float | None:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return None
    if value != value:  # NaN
        return None
    return value


class Command(BaseCommand):
    help = (
        "Import postcodes from an ONS Postcode Directory CSV (columns pcds, lat, long and "
        "oslaua or ladNNcd); updates rows already present."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="ONSPD CSV file (or the ONSPD zip)")
        parser.add_argument(
            "--london-only",
            action="store_true",
            help="keep only postcodes in London's 33 local authorities",
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, file: str, london_only: bool, batch_size: int, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        boroughs = {b.gss_code: b for b in Borough.objects.all()}
        counts = Counts()

        with _open_csv(path) as handle:
            reader = csv.DictReader(handle)
            headers = reader.fieldnames or []
            postcode_col = _pick(headers, POSTCODE_COLUMNS)
            lat_col = _pick(headers, LATITUDE_COLUMNS)
            lon_col = _pick(headers, LONGITUDE_COLUMNS)
            authority_col = _pick(headers, AUTHORITY_COLUMNS, AUTHORITY_PATTERN)
            missing = [
                name
                for name, col in (("pcds", postcode_col), ("lat", lat_col), ("long", lon_col))
                if col is None
            ]
            if missing:
                raise CommandError(
                    f"{path} lacks the column(s) {', '.join(missing)}; "
                    f"found: {', '.join(headers) or 'nothing'}"
                )

            batch: dict[str, Postcode] = {}
            for row in reader:
                counts.read += 1
                postcode = normalise_postcode(row.get(postcode_col) or "")
                if postcode is None:
                    counts.skipped["bad_postcode"] += 1
                    continue
                lat, lon = _coordinate(row.get(lat_col)), _coordinate(row.get(lon_col))
                if (
                    lat is None
                    or lon is None
                    or abs(lat - NO_GRID_LATITUDE) < 1e-6
                    or not (-90 <= lat <= 90 and -180 <= lon <= 180)
                ):
                    counts.skipped["no_coordinates"] += 1
                    continue
                code = (row.get(authority_col) or "").strip() if authority_col else ""
                borough = boroughs.get(code)
                if borough is None and london_only:
                    counts.skipped["outside_london"] += 1
                    continue
                if borough is not None:
                    counts.in_london += 1
                # A later row for the same postcode wins, within a batch as across batches.
                batch[postcode] = Postcode(
                    postcode=postcode,
                    latitude=lat,
                    longitude=lon,
                    borough=borough,
                    local_authority_code=code[:9],
                )
                if len(batch) >= batch_size:
                    self._write(batch, counts)
                    batch = {}
            if batch:
                self._write(batch, counts)

        skipped = counts.skipped
        self.stdout.write(
            f"Read {counts.read} rows: {counts.created} postcodes created, "
            f"{counts.updated} updated ({counts.in_london} in London); skipped "
            f"{skipped['no_coordinates']} without coordinates, "
            f"{skipped['bad_postcode']} with a malformed postcode"
            + (f", {skipped['outside_london']} outside London" if london_only else "")
            + "."
        )

    def _write(self, batch: dict[str, Postcode], counts: Counts) -> None:
        with transaction.atomic():
            existing = set(
                Postcode.objects.filter(postcode__in=list(batch)).values_list("postcode", flat=True)
            )
            # One upsert per batch: an import re-run (or a newer ONSPD) updates in place.
            Postcode.objects.bulk_create(
                batch.values(),
                update_conflicts=True,
                unique_fields=["postcode"],
                update_fields=["latitude", "longitude", "borough", "local_authority_code"],
            )
        counts.updated += len(existing)
        counts.created += len(batch) - len(existing)
