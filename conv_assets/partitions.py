"""The daily partitions every event table is split by (UTC days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from conv_assets.settings import load_settings

# end_offset=1: today's partition exists, so files landing during the day load at once.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=load_settings().start_date, timezone="UTC", end_offset=1
)


def window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The run's partition window as dates, end exclusive (works for single-run backfills)."""
    tw = context.partition_time_window
    return tw.start.date(), tw.end.date()


def first_and_last_day() -> tuple[date, date]:
    """The days an event may fall on: the partition start date to today (UTC)."""
    start = date.fromisoformat(load_settings().start_date)
    return start, datetime.now(UTC).date()


def day_keys(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


# Daily assets should be no older than a day and a bit; a failed nightly run turns them red.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=48), warn_window=timedelta(hours=30)
)


def day_batches(start: date, end: date, day_rows: list[tuple[date, int]],
                batch_rows: int) -> list[tuple[date, date]]:
    """[start, end) cut into consecutive ranges of whole days of at most `batch_rows` rows each
    (a larger day is a batch of its own; days without rows join the batch they fall in)."""
    batches, lo, n = [], start, 0
    for day, rows in day_rows:
        if n and n + rows > batch_rows:
            batches.append((lo, day))
            lo, n = day, 0
        n += rows
    return batches + [(lo, end)]
