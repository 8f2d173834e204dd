"""The served recommender is chosen on validation only, and popularity wins where there is no
taste to learn."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from conv_assets.generate import generate

SELECT = ('SELECT model, metric, k, value, served, params, split_date, test_end, train_start '
          'FROM ml.rec_evaluation WHERE "window" = $w ORDER BY model, metric')


def test_popularity_is_served_where_users_have_no_taste(env):
    generate(env.landing, days=70, users=1500, events_per_day=3000, seed=21,
             start=date(2024, 1, 1), dirty_per_kind=0, taste=False)
    env.run()
    served = env.query('SELECT DISTINCT model FROM ml.rec_evaluation WHERE served')
    assert served == [("popularity",)]
    assert env.query("SELECT DISTINCT source FROM ml.user_recommendations") == [("popularity",)]


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
    # Now change what happened in the test window: drop its purchases. The choices (parameters,
    # blend weights, served model) and every validation figure stay as they were; the test
    # figures move.
    con = duckdb.connect(str(env.warehouse))
    con.execute("DELETE FROM clean.events WHERE event_type = 'purchase' AND event_date >= $d "
                "AND user_id IN (SELECT user_id FROM clean.events WHERE event_date >= $d "
                "AND event_type = 'purchase' ORDER BY user_id LIMIT 200)", {"d": t_split})
    con.close()
    env.run(select="key:ml/rec_evaluation")
    assert env.query(SELECT, {"w": "validation"}) == val
    assert env.query(SELECT, {"w": "test"}) != test
