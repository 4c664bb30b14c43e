"""Places: London's integrated care systems and boroughs, postcodes and postcode areas."""

from __future__ import annotations

from django.db import models


class ICS(models.TextChoices):
    """The five London integrated care systems."""

    NORTH_CENTRAL = "NCL", "North Central London"
    NORTH_EAST = "NEL", "North East London"
    NORTH_WEST = "NWL", "North West London"
    SOUTH_EAST = "SEL", "South East London"
    SOUTH_WEST = "SWL", "South West London"


class Borough(models.Model):
    """One of London's 33 local authorities (32 boroughs and the City), loaded by migration."""

    gss_code = models.CharField(max_length=9, primary_key=True)
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    ics = models.CharField(max_length=3, choices=ICS.choices)
    centre_latitude = models.FloatField()
    centre_longitude = models.FloatField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Postcode(models.Model):
    """ONS Postcode Directory rows we need: where a postcode is and which authority it is in."""

    postcode = models.CharField(max_length=8, primary_key=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    borough = models.ForeignKey(Borough, null=True, blank=True, on_delete=models.SET_NULL)
    local_authority_code = models.CharField(max_length=9, blank=True)

    class Meta:
        # H1 (search): finding the postcode nearest a coordinate scans a small box on this.
        indexes = [models.Index(fields=["latitude", "longitude"], name="postcode_lat_lon")]

    def __str__(self) -> str:
        return self.postcode


class PostcodeArea(models.Model):
    """The centre of a postcode sector ("SE1 7") or district ("SE1"), loaded by migration
    from directory/data/postcode_areas.csv (OS Code-Point Open).

    Kept apart from Postcode so that a centre is never taken for a postcode's own place:
    it answers, approximately, for postcodes the postcode table lacks and for points.
    """

    class Kind(models.TextChoices):
        SECTOR = "sector", "Postcode sector"
        DISTRICT = "district", "Postcode district"

    code = models.CharField(max_length=6, primary_key=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    latitude = models.FloatField()
    longitude = models.FloatField()
    # Null outside London; local_authority_code still says where.
    borough = models.ForeignKey(Borough, null=True, blank=True, on_delete=models.SET_NULL)
    local_authority_code = models.CharField(max_length=9, blank=True)
    postcodes = models.PositiveIntegerField(default=0)

    class Meta:
        # A point's nearest area is found in a small box on this.
        indexes = [models.Index(fields=["latitude", "longitude"], name="postcode_area_lat_lon")]

    def __str__(self) -> str:
        return self.code
