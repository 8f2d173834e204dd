"""The generic mapping file and the retailrocket and canonical adapters on hand-made files."""

from __future__ import annotations

import polars as pl
import pytest

from conv_assets.cli import main
from conv_assets.sources import MappingError, resolve_mapping
from conv_assets.sources.mapping import load_mapping
from tests.conftest import write_csv

MAPPING = """
format: csv
columns:
  user_id: Kunde
  product_id: Artikel
  event_time: Zeitpunkt
  event_type: Aktion
  price: Betrag
  quantity: Menge
  order_id: Bestellung
constants:
  brand: house
event_type_values:
  angesehen: view
  Warenkorb: cart
  gekauft: purchase
timestamp:
  format: "%d.%m.%Y %H:%M"
  timezone: Europe/Berlin
price_is_line_total: true
csv:
  delimiter: ";"
  header: true
"""


def test_mapping_file_ingests_differently_named_columns(env, tmp_path):
    mapping = tmp_path / "shop.yaml"
    mapping.write_text(MAPPING)
    write_csv(env.landing / "export.csv", "Kunde;Artikel;Zeitpunkt;Aktion;Betrag;Menge;Bestellung", [
        "k1;A-1;01.07.2024 00:30;angesehen;;;",
        "k1;A-1;01.07.2024 00:40;Warenkorb;;;",
        "k1;A-1;01.07.2024 00:45;gekauft;30.00;3;B1",
        "k2;A-2;02.07.2024 12:00;zurueck;5;1;B2",
    ])
    env.set(CONV_MAPPING=str(mapping))
    env.run()
    rows = env.query(
        "SELECT user_id, event_type, event_time::VARCHAR, event_date::VARCHAR, price, quantity, brand "
        "FROM clean.events ORDER BY event_time")
    # 00:30 Berlin summer time is 22:30 UTC the day before.
    assert rows == [
        ("k1", "view", "2024-06-30 22:30:00", "2024-06-30", None, 1, "house"),
        ("k1", "cart", "2024-06-30 22:40:00", "2024-06-30", None, 1, "house"),
        ("k1", "purchase", "2024-06-30 22:45:00", "2024-06-30", 10, 3, "house"),
    ]
    assert env.query("SELECT reason, event_type_raw FROM clean.quarantine") == [
        ("unknown_event_type", "zurueck")]


def test_mapping_naming_a_missing_column_fails_at_once(env, tmp_path, capsys):
    mapping = tmp_path / "shop.yaml"
    mapping.write_text(MAPPING.replace("Menge", "Stueckzahl"))
    write_csv(env.landing / "export.csv", "Kunde;Artikel;Zeitpunkt;Aktion;Betrag;Menge;Bestellung",
              ["k1;A-1;01.07.2024 00:30;angesehen;;;"])
    assert main(["run", "--mapping", str(mapping)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "['Stueckzahl']" in err and "Menge" in err and "Kunde" in err


@pytest.mark.parametrize("text, message", [
    ("columns: {user_id: a}\nbogus: 1\n", "unknown keys ['bogus']"),
    ("columns: {user_id: a, product_id: b, event_time: c}\n", "required fields not mapped: ['event_type']"),
    ("columns: {user_id: a, product_id: b, event_time: c, event_type: d}\ntimestamp: {timezone: Mars/Base}\n",
     "unknown timezone"),
    ("[1, 2", "not valid YAML"),
])
def test_bad_mapping_files_give_clear_errors(tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_mapping(path)


def test_unknown_source_is_a_clear_error():
    with pytest.raises(MappingError, match="unknown source 'shopify'"):
        resolve_mapping("shopify", None)


def test_retailrocket_adapter(env):
    # 1433221332117 ms = 2015-06-02 05:02:12.117 UTC
    write_csv(env.landing / "events.csv", "timestamp,visitorid,event,itemid,transactionid", [
        "1433221332117,257597,view,355908,",
        "1433221332200,257597,addtocart,355908,",
        "1433221332300,257597,transaction,355908,4000",
        "1433221332400,257597,wishlist,355908,",
    ])
    env.set(CONV_SOURCE="retailrocket")
    env.run()
    assert env.query(
        "SELECT event_type, event_time::VARCHAR, order_id FROM clean.events ORDER BY event_time") == [
        ("view", "2015-06-02 05:02:12.117", None),
        ("cart", "2015-06-02 05:02:12.2", None),
        ("purchase", "2015-06-02 05:02:12.3", "4000"),
    ]
    assert env.query("SELECT reason FROM clean.quarantine") == [("unknown_event_type",)]


def test_canonical_parquet_and_csv(env):
    frame = pl.DataFrame({
        "event_id": ["a", "b"], "event_time": ["2024-03-01T10:00:00Z", "2024-03-01T12:00:00+02:00"],
        "event_type": ["view", "purchase"], "user_id": ["u", "u"], "product_id": ["p", "p"],
        "price": [None, 9.5], "quantity": [None, 2],
    })
    frame.write_parquet(env.landing / "a.parquet")
    write_csv(env.landing / "b.csv", "event_id,event_time,event_type,user_id,product_id",
              ["c,2024-03-01 11:00:00,cart,u,p"])
    env.run()
    assert env.query(
        "SELECT event_id, event_time::VARCHAR, event_type, price, quantity FROM clean.events "
        "ORDER BY event_time, event_id") == [
        ("a", "2024-03-01 10:00:00", "view", None, 1),
        ("b", "2024-03-01 10:00:00", "purchase", 9.5, 2),
        ("c", "2024-03-01 11:00:00", "cart", None, 1),
    ]
