"""The served recommender is chosen on validation only, and popularity wins where there is no
taste to learn."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from conv_assets.generate import generate

SELECT = ('SELECT model, metric, k, value, served, params, split_date, test_end, train_start, task '
          'FROM ml.rec_evaluation WHERE "window" = $w ORDER BY task, model, metric')


def test_popularity_is_served_where_users_have_no_taste(env):
    generate(env.landing, days=70, users=1500, events_per_day=3000, seed=21,
             start=date(2024, 1, 1), dirty_per_kind=0, taste=False)
    env.run()
    served = env.query("SELECT DISTINCT model FROM ml.rec_evaluation WHERE served AND task = 'discovery'")
    assert served == [("popularity",)]
    assert env.query("SELECT DISTINCT source FROM ml.user_recommendations WHERE list = 'discovery'"
                     ) == [("popularity",)]


def test_no_test_window_event_is_used_in_any_choice(env):
    generate(env.landing, days=70, users=1500, events_per_day=3000, seed=22,
             start=date(2024, 1, 1), dirty_per_kind=0)
    env.run()
    val = env.query(SELECT, {"w": "validation"})
    test = env.query(SELECT, {"w": "test"})
    # The dates: validation ends where the test window starts, both CONV_RECS_TEST_DAYS long.
    v_split, v_end, v_start = val[0][6:9]
    t_split, t_end, t_start = test[0][6:9]
    latest = env.scalar("SELECT max(event_date) FROM clean.events")
    assert (t_end, t_split, v_end, v_split) == (latest, latest - timedelta(14), latest - timedelta(14),
                                                 latest - timedelta(28))
    assert v_start == v_split - timedelta(365) and t_start == t_split - timedelta(365)
    assert {r[9] for r in val} == {r[9] for r in test} == {"discovery", "repeat"}
    # The ranker learns from the window before validation, whose labels end where it starts.
    import json

    ranker_params = {json.loads(r[5])["labels"] for r in val + test if r[0] == "ranker"}
    assert ranker_params == {f"{v_split - timedelta(14)} .. {v_split}"}
    # Now change what happened in the test window: drop its purchases. The choices (parameters,
    # blend weights, served model of each task) and every validation figure stay as they were;
    # the test figures move.
    con = duckdb.connect(str(env.warehouse))
    con.execute("DELETE FROM clean.events WHERE event_type = 'purchase' AND event_date >= $d "
                "AND user_id IN (SELECT user_id FROM clean.events WHERE event_date >= $d "
                "AND event_type = 'purchase' ORDER BY user_id LIMIT 200)", {"d": t_split})
    con.close()
    env.run(select="key:ml/rec_evaluation")
    assert env.query(SELECT, {"w": "validation"}) == val
    assert env.query(SELECT, {"w": "test"}) != test


def test_served_model_losing_to_popularity_on_test_fails_served_beats_popularity(env):
    """Test-window purchases rewritten so that every one is the best-seller of the 28 days before
    the test window: popularity then ranks each user's purchase first, the personal model the
    validation chose does not, and the (warning) check says so."""
    import dagster as dg

    from conv_assets.definitions import ASSETS, build_resources

    generate(env.landing, days=70, users=1500, events_per_day=3000, seed=22,
             start=date(2024, 1, 1), dirty_per_kind=0)
    env.run()

    def evaluate():
        result = dg.materialize(ASSETS, resources=build_resources(),
                                selection=dg.AssetSelection.assets(["ml", "rec_evaluation"]))
        [ev] = [e for e in result.get_asset_check_evaluations()
                if e.check_name == "served_beats_popularity"]
        return result, ev

    result, ev = evaluate()
    served = ev.metadata["served"].value
    assert set(served) == {"discovery", "repeat"}
    assert "popularity" not in served.values() and ev.passed
    t_split = env.scalar("SELECT DISTINCT split_date FROM ml.rec_evaluation WHERE \"window\" = 'test'")
    con = duckdb.connect(str(env.warehouse))
    top = con.execute(
        "SELECT product_id FROM clean.events WHERE event_type = 'purchase' AND event_date >= $a "
        "AND event_date < $d GROUP BY 1 ORDER BY count(DISTINCT user_id) DESC, 1 LIMIT 1",
        {"a": t_split - timedelta(28), "d": t_split}).fetchall()[0][0]
    had = "SELECT user_id FROM clean.events WHERE product_id = $p AND event_date < $d"
    con.execute(f"DELETE FROM clean.events WHERE event_type = 'purchase' AND event_date >= $d "
                f"AND user_id IN ({had})", {"p": top, "d": t_split})
    con.execute("UPDATE clean.events SET product_id = $p WHERE event_type = 'purchase' "
                "AND event_date >= $d", {"p": top, "d": t_split})
    con.close()
    result, ev = evaluate()
    assert result.success  # a warning, not a blocking check
    assert ev.metadata["served"].value == served and not ev.passed
    test_ndcg = ev.metadata["test_ndcg10"].value
    # Every evaluated user bought exactly the product popularity ranks first, in both tasks (the
    # users who had bought it before lost their test purchases).
    for task in ("discovery", "repeat"):
        assert test_ndcg[task]["popularity"] == 1.0
        assert test_ndcg[task][served[task]] < 1.0
    assert ev.metadata["below_popularity"].value == served
