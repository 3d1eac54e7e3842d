from tests.factories import BUSINESSES, make_business


def test_get_business_returns_graph_shape(client, auth, runtime):
    business_id = make_business(runtime)

    response = client.get(f"{BUSINESSES}/{business_id}", headers=auth)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "contosohealth@openvisit.test"
    assert body["@odata.context"].endswith("$metadata#solutions/bookingBusinesses/$entity")
