def test_it_describes_every_api_route_in_openapi(api_as, crew):
    answer = api_as(crew).get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    for route in (
        "/api/v1/auth/token/",
        "/api/v1/services/search/",
        "/api/v1/referrals/",
        "/api/v1/endpoints/",
        "/api/v1/reports/referrals/",
    ):
        assert route in paths


def test_it_serves_the_api_docs_page(client, crew):
    client.force_login(crew)
    assert client.get("/api/docs/").status_code == 200


def test_a_search_without_explain_has_every_field_the_schema_requires(api_as, crew):
    client = api_as(crew)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    required = set(schema["components"]["schemas"]["SearchAnswer"]["required"])
    for explain in ("false", "true"):
        answer = client.get(
            "/api/v1/services/search/", {"lat": 51.5, "lon": -0.12, "explain": explain}
        )
        assert answer.status_code == 200
        assert required <= set(answer.json()), explain
