import zipfile

import pytest
from django.core.management import CommandError, call_command

from directory.models import Postcode

ONSPD_HEADER = "pcd,pcd2,pcds,dointr,doterm,oslaua,osward,lat,long"


def _write(tmp_path, lines, name="onspd.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(path, *args):
    from io import StringIO

    out = StringIO()
    call_command("import_postcodes", str(path), *args, stdout=out)
    return out.getvalue()


def test_it_normalises_postcodes_and_links_london_boroughs(db, tmp_path):
    path = _write(
        tmp_path,
        [
            ONSPD_HEADER,
            "SW1A1AA,SW1A 1AA,sw1a  1aa,198001,,E09000033,E05013806,51.501009,-0.141588",
            "M1 1AE,M1  1AE,M1 1AE,198001,,E08000003,E05011362,53.480227,-2.238318",
        ],
    )
    _import(path)
    westminster = Postcode.objects.get(postcode="SW1A 1AA")
    assert westminster.borough.name == "Westminster"
    assert westminster.local_authority_code == "E09000033"
    assert westminster.latitude == pytest.approx(51.501009)
    assert westminster.longitude == pytest.approx(-0.141588)
    manchester = Postcode.objects.get(postcode="M1 1AE")
    assert manchester.borough is None
    assert manchester.local_authority_code == "E08000003"


def test_it_skips_rows_without_coordinates_or_with_a_bad_postcode(db, tmp_path):
    path = _write(
        tmp_path,
        [
            ONSPD_HEADER,
            "E1 6AN,E1  6AN,E1 6AN,198001,,E09000030,E05009317,51.520,-0.072",
            "GY1 1AA,GY1 1AA,GY1 1AA,198001,,L99999999,,99.999999,0.000000",
            "E2 9ZZ,E2  9ZZ,E2 9ZZ,198001,,E09000030,,,",
            "NOTAPOSTCODE,,NOTAPOSTCODE,198001,,E09000030,,51.5,-0.07",
        ],
    )
    report = _import(path)
    assert list(Postcode.objects.values_list("postcode", flat=True)) == ["E1 6AN"]
    assert "1 postcodes created" in report
    assert "2 without coordinates" in report
    assert "1 with a malformed postcode" in report


def test_it_updates_rows_already_there_when_run_again(db, tmp_path):
    row = "N1 9GU,N1  9GU,N1 9GU,198001,,E09000019,,51.5352,-0.1240"
    _import(_write(tmp_path, [ONSPD_HEADER, row]))
    moved = row.replace("51.5352", "51.5360")
    report = _import(_write(tmp_path, [ONSPD_HEADER, moved, row.replace("N1 9GU", "N1 9GX")]))
    assert Postcode.objects.count() == 2
    assert Postcode.objects.get(postcode="N1 9GU").latitude == pytest.approx(51.5360)
    assert "1 postcodes created, 1 updated" in report


def test_it_accepts_the_newer_lad_column_names_and_small_batches(db, tmp_path):
    lines = ["pcds,lad23cd,lat,long"] + [
        f"SE1 {n}AB,E09000028,51.50{n},-0.09{n}" for n in range(1, 8)
    ]
    _import(_write(tmp_path, lines), "--batch-size", "3")
    assert Postcode.objects.count() == 7
    assert set(Postcode.objects.values_list("borough__name", flat=True)) == {"Southwark"}


def test_it_keeps_only_london_when_asked(db, tmp_path):
    path = _write(
        tmp_path,
        [
            ONSPD_HEADER,
            "E1 6AN,E1  6AN,E1 6AN,198001,,E09000030,,51.520,-0.072",
            "M1 1AE,M1  1AE,M1 1AE,198001,,E08000003,,53.480,-2.238",
        ],
    )
    _import(path, "--london-only")
    assert list(Postcode.objects.values_list("postcode", flat=True)) == ["E1 6AN"]


def test_it_reads_the_csv_inside_the_onspd_zip(db, tmp_path):
    archive = tmp_path / "ONSPD.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Documents/readme.csv", "a,b\n1,2\n")
        zf.writestr(
            "Data/ONSPD_FEB_2025_UK.csv",
            ONSPD_HEADER + "\n" + "E1 6AN,E1  6AN,E1 6AN,198001,,E09000030,,51.520,-0.072\n" * 3,
        )
    _import(archive)
    assert Postcode.objects.get(postcode="E1 6AN").borough.name == "Tower Hamlets"


def test_it_names_the_missing_columns(db, tmp_path):
    path = _write(tmp_path, ["postcode_only,other", "E1 6AN,x"])
    with pytest.raises(CommandError, match="lat, long"):
        _import(path)
    assert Postcode.objects.count() == 0
