"""Reference data the product carries: London's 33 local authorities and the service taxonomy.

The borough centres are approximate and used only to place demo data and as a last-resort
guess of the borough of a coordinate.
"""

from django.db import migrations
from django.utils.text import slugify

BOROUGHS = [
    ("E09000001", "City of London", "NEL", 51.5155, -0.0922),
    ("E09000002", "Barking and Dagenham", "NEL", 51.5607, 0.1557),
    ("E09000003", "Barnet", "NCL", 51.6252, -0.1517),
    ("E09000004", "Bexley", "SEL", 51.4549, 0.1505),
    ("E09000005", "Brent", "NWL", 51.5588, -0.2817),
    ("E09000006", "Bromley", "SEL", 51.4039, 0.0198),
    ("E09000007", "Camden", "NCL", 51.5517, -0.1588),
    ("E09000008", "Croydon", "SWL", 51.3714, -0.0977),
    ("E09000009", "Ealing", "NWL", 51.5130, -0.3089),
    ("E09000010", "Enfield", "NCL", 51.6538, -0.0799),
    ("E09000011", "Greenwich", "SEL", 51.4892, 0.0648),
    ("E09000012", "Hackney", "NEL", 51.5450, -0.0553),
    ("E09000013", "Hammersmith and Fulham", "NWL", 51.4927, -0.2339),
    ("E09000014", "Haringey", "NCL", 51.5906, -0.1110),
    ("E09000015", "Harrow", "NWL", 51.5898, -0.3346),
    ("E09000016", "Havering", "NEL", 51.5812, 0.1837),
    ("E09000017", "Hillingdon", "NWL", 51.5441, -0.4760),
    ("E09000018", "Hounslow", "NWL", 51.4609, -0.3731),
    ("E09000019", "Islington", "NCL", 51.5465, -0.1058),
    ("E09000020", "Kensington and Chelsea", "NWL", 51.5020, -0.1947),
    ("E09000021", "Kingston upon Thames", "SWL", 51.3925, -0.2833),
    ("E09000022", "Lambeth", "SEL", 51.4571, -0.1231),
    ("E09000023", "Lewisham", "SEL", 51.4452, -0.0209),
    ("E09000024", "Merton", "SWL", 51.4098, -0.2108),
    ("E09000025", "Newham", "NEL", 51.5255, 0.0352),
    ("E09000026", "Redbridge", "NEL", 51.5590, 0.0741),
    ("E09000027", "Richmond upon Thames", "SWL", 51.4479, -0.3260),
    ("E09000028", "Southwark", "SEL", 51.4734, -0.0755),
    ("E09000029", "Sutton", "SWL", 51.3618, -0.1945),
    ("E09000030", "Tower Hamlets", "NEL", 51.5099, -0.0059),
    ("E09000031", "Waltham Forest", "NEL", 51.5908, -0.0134),
    ("E09000032", "Wandsworth", "SWL", 51.4567, -0.1910),
    ("E09000033", "Westminster", "NWL", 51.4975, -0.1357),
]

CATEGORIES = [
    ("falls", "Falls", "Falls response and assessment for people who have fallen and are not seriously injured."),
    ("mental-health-crisis", "Mental health crisis", "Crisis teams, crisis cafes and places of safety for people in mental-health crisis."),
    ("urgent-community-response", "Urgent community response", "Two-hour urgent community response: nurses and therapists at home."),
    ("maternity", "Maternity triage", "Maternity assessment and triage for pregnant and recently pregnant women."),
    ("end-of-life", "End of life and palliative care", "Palliative care teams and hospices for people near the end of life."),
    ("urgent-treatment-centre", "Urgent treatment centre", "Walk-in urgent treatment for minor injuries and illnesses."),
    ("same-day-emergency-care", "Same-day emergency care", "SDEC units: hospital assessment and treatment without admission."),
    ("gp-out-of-hours", "GP out of hours", "GP appointments and home visits outside surgery hours."),
    ("pharmacy", "Pharmacy", "Community pharmacy: urgent repeat medicines and minor illness."),
    ("social-care", "Social care", "Urgent social care and emergency duty teams."),
    ("district-nursing", "District nursing", "Community nursing at home."),
    ("frailty", "Frailty", "Frailty assessment and hospital-at-home for frail older people."),
    ("alcohol-and-drugs", "Alcohol and drugs", "Drug and alcohol services, including sobering and recovery."),
    ("emergency-department", "Emergency department", "Type 1 emergency departments: the fallback when nothing else fits."),
]


def load(apps, schema_editor):
    Borough = apps.get_model("directory", "Borough")
    Category = apps.get_model("directory", "Category")
    for gss, name, ics, lat, lon in BOROUGHS:
        Borough.objects.update_or_create(
            gss_code=gss,
            defaults=dict(
                name=name, slug=slugify(name), ics=ics, centre_latitude=lat, centre_longitude=lon
            ),
        )
    for code, name, description in CATEGORIES:
        Category.objects.update_or_create(
            code=code, defaults=dict(name=name, description=description)
        )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
