"""Mutation run: put each deliberate bug below into the code, one at a time, run the tests that
guard against it, and fail if any bug survives (its tests still pass).

    .venv/bin/python tests/mutate.py            # every mutation (CI runs this after the suite)
    .venv/bin/python tests/mutate.py --list     # the list
    .venv/bin/python tests/mutate.py NAME ...   # some of them

Each mutation replaces one exact piece of text, which must occur exactly once (so the list
breaks loudly when the code it names changes). The file is restored however the run ends.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = [
    Mutation("dedup off", "sql/clean/stage_events.sql",
             "THEN 'duplicate'", "THEN NULL",
             ("tests/clean/test_clean.py::test_duplicates_and_repeated_order_lines_are_kept_once",)),
    Mutation("quarantine reason lost", "sql/clean/insert_quarantine.sql",
             "event_date, final_reason, source_file", "event_date, 'rejected', source_file",
             ("tests/clean/test_clean.py::test_file_level_problems_are_quarantined_and_other_files_load",)),
    Mutation("rows_accounted_for always passes", "conv_assets/clean/assets.py",
             'check_name="rows_accounted_for", asset_key=EVENTS, passed=mismatched.is_empty()',
             'check_name="rows_accounted_for", asset_key=EVENTS, passed=True',
             ("tests/clean/test_checks_fail.py::test_a_row_lost_before_raw_fails_rows_accounted_for",)),
    Mutation("quarantine share never checked", "conv_assets/clean/assets.py",
             "passed=share <= settings.max_quarantine_share", "passed=True",
             ("tests/clean/test_clean.py::test_file_level_problems_are_quarantined_and_other_files_load",)),
    Mutation("erasure skips the quarantine", "conv_assets/forget.py",
             'return [f\'"{s}"."{t}"\' for s, t in run_sql(con, "ops/select_user_tables").fetchall()]',
             'return [f\'"{s}"."{t}"\' for s, t in run_sql(con, "ops/select_user_tables").fetchall() '
             'if t != "quarantine"]',
             # forget rebuilds the days it touched (which rewrites their quarantine); a one-day
             # run leaves the other days' quarantine to the delete alone.
             ("tests/reliability/test_erasure.py::test_erasure_file_listed_after_loading_then_a_one_day_run",)),
    Mutation("erasure file only keeps later loads out", "conv_assets/ingest/assets.py",
             "left = rows_of(con, erase) if erase else {}", "left = {}",
             ("tests/reliability/test_erasure.py::test_erasure_file_listed_after_loading_then_a_one_day_run",)),
    Mutation("erased rows not physically removed", "conv_assets/forget.py",
             "    compact(warehouse.path)\n", "",
             ("tests/reliability/test_erasure.py::test_erasure_file_listed_after_loading_then_the_daily_schedule_tick",)),
    Mutation("erased users loaded again", "conv_assets/ingest/assets.py",
             "frame = drop_erased(pseudonymise(frame, key), erased)",
             "frame = pseudonymise(frame, key)",
             ("tests/reliability/test_erasure.py::test_erasure_file_listed_before_loading_keeps_the_user_out_of_a_full_run",)),
    Mutation("held-out window used", "conv_assets/forecast/models.py",
             "select = per_window[:-1] if k >= 2 else per_window", "select = per_window",
             ("tests/forecast/test_models.py::test_the_choice_never_looks_at_the_held_out_window",)),
    Mutation("forecast chosen on a gain within noise", "conv_assets/forecast/models.py",
             "sure = [m for m in order if m in per_block and gains[m][0] > 0]",
             "sure = [m for m in order if m in per_block and gains[m][1] > 0]",
             ("tests/forecast/test_models.py::test_a_gain_within_noise_keeps_seasonal_naive_and_a_real_one_does_not",)),
    Mutation("coverage counts the 95% interval as the 80%", "conv_assets/forecast/models.py",
             'return {"cover80": np.where(skip, nan, (actual >= fc.lo80 - 1e-9) & (actual <= fc.hi80 + 1e-9)),',
             'return {"cover80": np.where(skip, nan, (actual >= fc.lo95 - 1e-9) & (actual <= fc.hi95 + 1e-9)),',
             ("tests/forecast/test_models.py::test_interval_coverage_and_score_by_hand",)),
    Mutation("conformal factor without the finite-sample correction", "conv_assets/forecast/models.py",
             "k = min(len(r) - 1, int(np.ceil((len(r) + 1) * level)) - 1)",
             "k = min(len(r) - 1, int(np.ceil(len(r) * level)) - 1)",
             ("tests/forecast/test_models.py::test_interval_coverage_and_score_by_hand",)),
    Mutation("categories not reconciled", "conv_assets/forecast/assets.py",
             "            new_mean = share[j] * total.forecast.mean\n",
             "            new_mean = f.mean\n",
             ("tests/forecast/test_forecast_assets.py::test_categories_are_reconciled_to_the_total",)),
    Mutation("sparse series judged by absolute error", "conv_assets/forecast/models.py",
             'metric, loss = ("mse", np.square) if sparse else ("mae", np.abs)',
             'metric, loss = ("mae", np.abs)',
             ("tests/forecast/test_models.py::test_a_series_with_80_percent_zero_days_gets_an_intermittent_model",)),
    Mutation("calendar closed days forecast as usual", "conv_assets/forecast/models.py",
             "shut = cal[len(y):len(y) + h, 2] > 0", "shut = cal[len(y):len(y) + h, 2] < 0",
             ("tests/forecast/test_calendar.py::test_promotions_as_regressors_and_a_closed_day",)),
    Mutation("promotion flags not used as regressors", "conv_assets/forecast/models.py",
             "            x = exog[:, keep] if keep else None\n",
             "            keep = []\n            x = None\n",
             ("tests/forecast/test_calendar.py::test_promotions_as_regressors_and_a_closed_day",)),
    Mutation("a category's promotion flags every series", "conv_assets/forecast/calendar.py",
             '    return series == f"category:{category}"', "    return True",
             ("tests/forecast/test_calendar.py::test_calendar_files_and_public_holidays",)),
    Mutation("days before the first sale kept", "conv_assets/forecast/models.py",
             "    start = int(np.argmax(y != 0)) if np.any(y != 0) else 0\n",
             "    start = 0\n",
             ("tests/forecast/test_models.py::test_days_before_the_first_sale_are_left_out",)),
    Mutation("negative forecasts let through", "sql/ml/check_forecasts_non_negative.sql",
             "upper_80, upper_95) < 0", "upper_80, upper_95) < -1e300",
             ("tests/forecast/test_forecast_assets.py::test_forecasts_check_passes_on_real_output_and_fails_on_a_negative_forecast",)),
    Mutation("served model ignores evaluation", "conv_assets/recs/assets.py",
             'served = next((m for m, c in chosen.items() if c["served"]), "als")',
             'served = "als"',
             ("tests/recs/test_selection.py::test_popularity_is_served_where_users_have_no_taste",)),
    Mutation("buy-again list ignores the repeat evaluation", "conv_assets/recs/assets.py",
             'served_again = next((m for m, c in chosen_again.items() if c["served"]), "buy_again")',
             'served_again = "als"',
             ("tests/recs/test_rec_assets.py::test_interaction_weights_exclusion_and_cold_user_fallback",)),
    Mutation("a gain within noise is served", "conv_assets/choice.py",
             "m != baseline and gains[m][0] > 0]", "m != baseline and gains[m][1] > 0]",
             ("tests/recs/test_rec_models.py::test_popularity_is_served_unless_a_gain_over_it_is_sure",)),
    Mutation("a more complex model served on a gain within noise", "conv_assets/choice.py",
             "        if over[0] <= 0:\n", "        if False:\n",
             ("tests/recs/test_rec_models.py::test_a_more_complex_model_needs_a_sure_gain_over_the_simpler_ones",)),
    Mutation("a ranker served without its saved file", "conv_assets/recs/assets.py",
             "ok = (ranker_file(warehouse, task).exists() and bool(spec[\"ranker_models\"])",
             "ok = (bool(spec[\"ranker_models\"])",
             ("tests/recs/test_ranker.py::test_a_model_this_training_cannot_serve_falls_back_and_says_so",)),
    Mutation("nested events without array elements dropped", "conv_assets/sources/mapping.py",
             "explode(_ELEMENT, _ELEMENT_INDEX, empty_as_null=True)",
             "explode(_ELEMENT, _ELEMENT_INDEX, empty_as_null=False)",
             ("tests/sources/test_nested_exports.py::test_a_mapping_file_reads_nested_fields_without_code",)),
    Mutation("ignored event types counted as defects", "conv_assets/clean/assets.py",
             ' - by_reason.get("ignored_event_type", 0)', "",
             ("tests/sources/test_nested_exports.py::test_ga4_jsonl_export_one_row_per_item",)),
    Mutation("products of one Segment message share one event id", "conv_assets/sources/mapping.py",
             'base + pl.lit("#") + pl.col(_ELEMENT_INDEX).cast(pl.String)', "base",
             ("tests/sources/test_nested_exports.py::test_segment_track_calls_one_row_per_product",)),
    Mutation("attribution lookback window ignored", "sql/analytics/replace_channel_attribution.sql",
             "AND t.session_start >= o.order_time - to_days(CAST($lookback_days AS INTEGER))", "",
             ("tests/analytics/test_lifecycle_attribution.py::test_attribution_models_by_hand",)),
    Mutation("last touch credits the first session", "sql/analytics/replace_channel_attribution.sql",
             "WHEN 'last_touch' THEN CASE WHEN p.pos = p.n", "WHEN 'last_touch' THEN CASE WHEN p.pos = 1",
             ("tests/analytics/test_lifecycle_attribution.py::test_attribution_models_by_hand",)),
    Mutation("lifecycle compares with two weeks before", "sql/analytics/replace_user_lifecycle.sql",
             "AND p.week = a.week - 7", "AND p.week = a.week - 14",
             ("tests/analytics/test_lifecycle_attribution.py::test_lifecycle_of_a_small_shop",)),
    Mutation("user funnels rebuilt for the changed days only", "conv_assets/sensors.py",
             "lo = max(first - timedelta(days=max_window_days()),", "lo = max(first,",
             ("tests/test_sensors_schedules.py::test_user_funnels_rebuild_the_entry_days_whose_window_holds_the_changed_days",)),
    Mutation("funnel conversion window ignored", "sql/analytics/insert_funnel_step.sql",
             "    AND e.event_time <= en.entry_time + to_days(s.window_days)\n", "",
             ("tests/analytics/test_user_funnel.py::test_user_funnel_across_sessions_by_hand",)),
    Mutation("checkout steps after the purchase", "conv_assets/generate.py",
             'purchases["t"] - 45.0 + 15.0 * k', 'purchases["t"] + 15.0 * k',
             ("tests/test_generate.py::test_marketing_adds_context_checkout_and_spend_and_changes_nothing_else",)),
    Mutation("funnel window from the previous step", "sql/analytics/insert_funnel_step.sql",
             "    AND e.event_time <= en.entry_time + to_days(s.window_days)\n",
             "    AND e.event_time <= r.reached_at + to_days(s.window_days)\n",
             ("tests/analytics/test_user_funnel.py::test_generated_shop_funnels_match_plain_python",)),
    Mutation("negative discount accepted", "sql/clean/stage_events.sql",
             "(discount_num IS NULL OR discount_num < 0)", "discount_num IS NULL",
             ("tests/clean/test_clean.py::test_checkout_steps_and_marketing_context_are_typed_and_kept",)),
    Mutation("blend scored on the users its weights were fitted on", "conv_assets/recs/models.py",
             "fit_on, held = np.flatnonzero(fold != f), np.flatnonzero(fold == f)",
             "fit_on, held = np.arange(m), np.flatnonzero(fold == f)",
             ("tests/recs/test_rec_models.py::test_crossfit_blend_scores_each_half_with_the_other_halfs_weights",)),
    Mutation("ranker's trees chosen on the users it scores", "conv_assets/recs/ranker.py",
             "tune_on = half[rv] != h", "tune_on = np.ones(len(rv), bool)",
             ("tests/recs/test_ranker.py::test_crossfit_chooses_each_halfs_trees_on_the_other_half",)),
    Mutation("ranker ignores days since the last interaction", "conv_assets/recs/ranker.py",
             "again, np.where(since > 0, since - 1, np.nan), share,",
             "again, np.full(len(since), np.nan), share,",
             ("tests/recs/test_ranker.py::test_features_by_hand",)),
    Mutation("new customers get best-sellers only", "conv_assets/recs/assets.py",
             "has_events = m.getnnz(axis=1) > 0", "has_events = m.getnnz(axis=1) < 0",
             ("tests/recs/test_new_users.py",)),
    Mutation("new customers' ALS factors not recalculated", "conv_assets/recs/assets.py",
             "als.user_factors = als.recalculate_user(np.arange(users.height), m)",
             "als.user_factors = np.zeros((users.height, als.factors), np.float32)",
             ("tests/recs/test_new_users.py",)),
    Mutation("a reason names the recommended product itself", "conv_assets/recs/models.py",
             "c.data[(c.indices == skip[rows_of]) | (c.data < 0)] = 0", "c.data[c.data < 0] = 0",
             ("tests/recs/test_rec_models.py::test_explain_names_the_users_item_that_adds_most",)),
    Mutation("co-visitation pairs a product with itself", "conv_assets/recs/models.py",
             "    c.setdiag(0)\n", "",
             ("tests/recs/test_rec_models.py::test_co_visitation_pairs_by_hand",)),
    Mutation("served_beats_popularity always passes", "conv_assets/recs/assets.py",
             "passed=any(test_ndcg.values()) and not losing,",
             "passed=True,",
             ("tests/recs/test_selection.py::test_served_model_losing_to_popularity_on_test_fails_served_beats_popularity",)),
    Mutation("rates_within_0_1 always passes", "conv_assets/analytics/assets.py",
             'check_name="rates_within_0_1", passed=bad_rates.is_empty()',
             'check_name="rates_within_0_1", passed=True',
             ("tests/analytics/test_funnel_checks.py",)),
    Mutation("anomaly band ignored", "conv_assets/anomaly.py",
             "if r is not None and not band.low <= r <= band.high:", "if False:",
             ("tests/analytics/test_daily_alarms.py::test_a_tenth_of_the_events_warns_and_a_normal_or_closed_day_does_not",)),
    Mutation("closed day judged", "conv_assets/anomaly.py",
             "        if not row[count]:\n            status = \"closed\"\n        elif",
             "        if",
             ("tests/analytics/test_daily_alarms.py::test_a_tenth_of_the_events_warns_and_a_normal_or_closed_day_does_not",)),
    Mutation("late rows not counted", "sql/clean/check_daily_volume.sql",
             "f.arrived_at >= d.event_date + INTERVAL 2 DAY", "false",
             ("tests/analytics/test_daily_alarms.py::test_rows_arriving_late_warn",)),
    Mutation("late file's old days not rebuilt", "conv_assets/sensors.py",
             "span = days + old_days", "span = days",
             ("tests/test_sensors_schedules.py::test_each_file_version_loads_once",)),
    Mutation("chain skips the day before", "conv_assets/sensors.py",
             "lo = max(first - timedelta(days=1),", "lo = max(first,",
             ("tests/test_sensors_schedules.py::test_chain_covers_the_neighbouring_days_within_the_partitions",)),
    Mutation("same content loaded twice", "conv_assets/ingest/assets.py",
             "        if sha in first_path:", "        if False:",
             ("tests/reliability/test_bad_input.py::test_same_file_twice_and_same_content_under_a_new_name",)),
    Mutation("too_late never applied", "conv_assets/ingest/assets.py",
             "                if accept_from is not None:", "                if False:",
             ("tests/reliability/test_bad_input.py::test_late_events_within_lookback_rebuild_beyond_are_too_late",)),
    Mutation("unique_event_ids always passes", "conv_assets/clean/assets.py",
             "passed=dup_ids == 0,", "passed=True,",
             ("tests/clean/test_checks_fail.py::test_an_event_id_repeated_on_another_day_fails_unique_event_ids",)),
    Mutation("ids not pseudonymised", "conv_assets/privacy.py",
             "    if key is None or frame.is_empty():\n        return frame\n    ids",
             "    return frame\n    ids",
             ("tests/reliability/test_privacy.py::test_user_ids_are_pseudonymised_with_the_key_and_the_key_is_never_stored",)),
]


def run(m: Mutation) -> tuple[bool, float]:
    """Apply `m`, run its tests, restore the file; True when a test failed (the bug is caught)."""
    path = ROOT / m.path
    original = path.read_text()
    found = original.count(m.old)
    if found != 1:
        raise SystemExit(f"mutate: {m.name!r}: expected the text once in {m.path}, found {found}")
    t0 = time.perf_counter()
    try:
        path.write_text(original.replace(m.old, m.new))
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:logging",
             *m.tests], cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        path.write_text(original)
    return done.returncode != 0, time.perf_counter() - t0


def main(argv: list[str]) -> int:
    # A terminated run still restores the file (the `finally` above).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if argv[:1] == ["--list"]:
        for m in MUTATIONS:
            print(f"{m.name:<42} {m.path:<40} {' '.join(m.tests)}")
        return 0
    chosen = [m for m in MUTATIONS if not argv or m.name in argv]
    if argv and len(chosen) != len(argv):
        raise SystemExit(f"mutate: unknown names in {argv}; see --list")
    survived = []
    for m in chosen:
        caught, seconds = run(m)
        print(f"{'caught  ' if caught else 'SURVIVED'} {m.name} ({seconds:.0f} s)", flush=True)
        if not caught:
            survived.append(m.name)
    print(f"{len(chosen) - len(survived)} of {len(chosen)} mutations caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
