from __future__ import annotations

import pytest

from tenantsync.tapkit.common import (
    CommonMapping,
    address,
    addresses,
    const,
    emails,
    iso_timestamp,
    opportunity_status,
    phones,
    src,
)


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-02T03:04:05.000+0000", "2024-01-02T03:04:05.000+00:00"),
    ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000+00:00"),
    ("2024-01-02T05:04:05.250+02:00", "2024-01-02T03:04:05.250+00:00"),
    ("2024-01-02T03:04:05", "2024-01-02T03:04:05.000+00:00"),
    ("2024-01-31", "2024-01-31T00:00:00.000+00:00"),
    (1704164645000, "2024-01-02T03:04:05.000+00:00"),
    (None, None), ("", None),
])
def test_iso_timestamp(value, expected):
    assert iso_timestamp(value) == expected


def test_iso_timestamp_names_bad_input():
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp: 'yesterday'"):
        iso_timestamp("yesterday")


def test_address_splits_streets_and_drops_empty_addresses():
    get = addresses(address("billing", street="S", city="C", postal_code="P", country="K"),
                    address("shipping", street="S2", city="C2"))
    rec = {"S": "1 Main St\nSuite 5", "C": "Paris", "P": "75001", "K": None,
           "S2": None, "C2": "  "}
    assert get(rec) == [{"street_1": "1 Main St", "street_2": "Suite 5", "city": "Paris",
                         "state": None, "postal_code": "75001", "country": None,
                         "address_type": "billing"}]
    with pytest.raises(ValueError, match="address_type"):
        address("home")


def test_phones_and_emails_keep_non_empty_values_in_order():
    rec = {"Phone": "+1 555", "Fax": "", "Mobile": "+1 777", "Email": "a@b.co"}
    assert phones(primary="Phone", mobile="Mobile", fax="Fax")(rec) == [
        {"phone_number": "+1 555", "phone_number_type": "primary"},
        {"phone_number": "+1 777", "phone_number_type": "mobile"}]
    assert emails(primary="Email")(rec) == [
        {"email_address": "a@b.co", "email_address_type": "primary"}]
    with pytest.raises(ValueError, match="phone type"):
        phones(home="Phone")


@pytest.mark.parametrize(("closed", "won", "status"), [
    (False, False, "OPEN"), (True, False, "LOST"), (True, True, "WON")])
def test_opportunity_status(closed, won, status):
    assert opportunity_status("C", "W")({"C": closed, "W": won}) == status


def test_mapping_must_cover_the_common_object_exactly():
    with pytest.raises(ValueError, match=r"missing \['email', 'is_active'\], unknown \['mail'\]"):
        CommonMapping("crm_users", id="Id", last_modified_at="M",
                      fields={"name": src("N"), "mail": src("E")})
    users = CommonMapping("crm_users", id="Id", last_modified_at="M", is_deleted="D",
                          fields={"name": src("N"), "email": src("E"), "is_active": const(True)})
    raw = {"Id": "005", "M": "2024-01-02T03:04:05.000+0000", "N": "Ada", "E": None, "D": True}
    assert users.to_common(raw) == {
        "id": "005", "created_at": None, "updated_at": None, "is_deleted": True,
        "last_modified_at": "2024-01-02T03:04:05.000+00:00", "name": "Ada", "email": None,
        "is_active": True, "raw_data": raw}


def test_every_jsonb_field_of_the_common_schema_gets_a_typed_schema():
    from tenantsync.common_schema import COMMON_OBJECTS, JSONB
    from tenantsync.tapkit.common import common_stream_schema

    for table, obj in COMMON_OBJECTS.items():
        schema = common_stream_schema(table)
        for f in obj.fields:
            if f.type == JSONB:
                assert schema["properties"][f.name].get("type"), (table, f.name)
