"""The forecasts' calendar: promotions, holidays and closed days from landed `calendar*.csv`
files (date, kind, optional category) and public holidays of CONV_HOLIDAYS_COUNTRY (the
`holidays` package), as per-day flags for one series."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from conv_assets.resources import run_sql
from conv_assets.sources import list_calendar_files

# Columns of Calendar.flags: a promotion that touches the series, a holiday, a closed day.
PROMOTION, HOLIDAY, CLOSED = 0, 1, 2


@dataclass(frozen=True)
class Calendar:
    days: dict  # (day, kind) -> set of categories (None: the whole shop)
    files: int
    rejected: int
    country: str | None

    def flags(self, series: str, first_day: date, n: int, top: set[str]) -> np.ndarray:
        """(n, 3) array of 0/1 for the n days from first_day. A promotion or a closed day with a
        category touches that category's series, 'other' when the category is not a top one,
        and the total (a promotion only: one category closed does not close the shop)."""
        out = np.zeros((n, 3))
        for i in range(n):
            day = first_day + timedelta(days=i)
            for col, kind in ((PROMOTION, "promotion"), (HOLIDAY, "holiday"), (CLOSED, "closed")):
                cats = self.days.get((day, kind))
                if cats and any(_touches(series, c, top, total_too=kind == "promotion") for c in cats):
                    out[i, col] = 1.0
        return out

    def __bool__(self) -> bool:
        return bool(self.days)


def _touches(series: str, category: str | None, top: set[str], total_too: bool) -> bool:
    if category is None:
        return True
    if series == "total":
        return total_too
    if series == "other":
        return f"category:{category}" not in top
    return series == f"category:{category}"


def load_calendar(con, landing_dir: str, first: date | None, last: date | None) -> Calendar:
    """The landed calendar files' valid rows and, with CONV_HOLIDAYS_COUNTRY set (an ISO code
    such as GB or DE), that country's public holidays for the years first..last."""
    days: dict = {}
    paths = [str(p) for p in list_calendar_files(landing_dir)]
    rejected = 0
    if paths:
        for day, kind, category, valid in run_sql(con, "ml/select_calendar", paths=paths).fetchall():
            if not valid:
                rejected += 1
                continue
            days.setdefault((day, kind), set()).add(category)
    country = os.environ.get("CONV_HOLIDAYS_COUNTRY") or None
    if country and first and last:
        import holidays

        try:
            public = holidays.country_holidays(country, years=range(first.year, last.year + 2))
        except NotImplementedError:
            raise ValueError(f"CONV_HOLIDAYS_COUNTRY={country}: the holidays package has no such "
                             "country (use an ISO 3166 code such as GB, DE, US)") from None
        for day in public:
            days.setdefault((day, "holiday"), set()).add(None)
    return Calendar(days, len(paths), rejected, country)
