from directory.models import Borough, Category


def test_it_carries_londons_33_authorities_in_five_systems(db):
    assert Borough.objects.count() == 33
    assert set(Borough.objects.values_list("ics", flat=True)) == {"NCL", "NEL", "NWL", "SEL", "SWL"}


def test_it_has_the_coded_taxonomy(db):
    codes = set(Category.objects.values_list("code", flat=True))
    assert {"falls", "mental-health-crisis", "emergency-department", "alcohol-and-drugs"} <= codes
