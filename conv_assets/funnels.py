"""Funnel definitions for analytics/user_funnel: the defaults, or a YAML file (CONV_FUNNELS).

    funnels:
      - name: checkout
        steps: [begin_checkout, add_shipping_info, add_payment_info, purchase]
        order: strict            # strict (each step after the one before) | any (any order)
        window_days: 7           # from the first step, across sessions
      - name: shoes
        steps:
          - {event_type: view, category: shoes}
          - cart
          - purchase
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from conv_assets.sources.mapping import CANONICAL_TYPES

# Columns a step may filter on (equality), besides its event type.
STEP_FILTERS = ("category", "brand", "product_id", "utm_source", "utm_medium", "device", "country")


class FunnelError(ValueError):
    """A funnel file that cannot work; the message is one line."""


@dataclass(frozen=True)
class Funnel:
    name: str
    steps: tuple[dict[str, str], ...]  # each: event_type and optional filters
    strict: bool = True
    window_days: int = 7

    def step_names(self) -> list[str]:
        return [s.get("name") or "+".join(v for k, v in s.items() if k != "name")
                for s in self.steps]


DEFAULT = (
    Funnel("purchase", ({"event_type": "view"}, {"event_type": "cart"}, {"event_type": "purchase"})),
    # Rows only where the source has checkout steps (GA4, Segment, ...).
    Funnel("checkout", ({"event_type": "begin_checkout"}, {"event_type": "add_shipping_info"},
                        {"event_type": "add_payment_info"}, {"event_type": "purchase"})),
)


def load_funnels() -> tuple[Funnel, ...]:
    path = os.environ.get("CONV_FUNNELS")
    if not path:
        return DEFAULT
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise FunnelError(f"cannot read CONV_FUNNELS file {p}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FunnelError(f"CONV_FUNNELS file {p} is not valid YAML: {str(exc).splitlines()[0]}") from None
    items = doc.get("funnels") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise FunnelError(f"CONV_FUNNELS file {p} must hold `funnels:`, a list of funnels")
    out, names = [], set()
    for i, item in enumerate(items):
        where = f"CONV_FUNNELS file {p}, funnel {i + 1}"
        if not isinstance(item, dict) or not item.get("name"):
            raise FunnelError(f"{where}: each funnel needs a name")
        extra = set(item) - {"name", "steps", "order", "window_days"}
        if extra:
            raise FunnelError(f"{where}: unknown keys {sorted(extra)}")
        name = str(item["name"])
        if name in names:
            raise FunnelError(f"{where}: the name {name!r} is used twice")
        names.add(name)
        steps = item.get("steps")
        if not isinstance(steps, list) or len(steps) < 2:
            raise FunnelError(f"{where} ({name}): `steps` must list at least two steps")
        parsed = []
        for s in steps:
            step = {"event_type": str(s)} if not isinstance(s, dict) else {str(k): str(v) for k, v in s.items()}
            bad = set(step) - {"event_type", "name", *STEP_FILTERS}
            if bad or "event_type" not in step:
                raise FunnelError(f"{where} ({name}): a step is an event type or "
                                  f"{{event_type: ..., one of {', '.join(STEP_FILTERS)}: ...}}; got {s!r}")
            if step["event_type"] not in CANONICAL_TYPES and not step["event_type"].replace("_", "").isalnum():
                raise FunnelError(f"{where} ({name}): {step['event_type']!r} is not an event type")
            parsed.append(step)
        order = str(item.get("order", "strict"))
        if order not in ("strict", "any"):
            raise FunnelError(f"{where} ({name}): order must be strict or any, got {order!r}")
        try:
            window = int(item.get("window_days", 7))
        except (TypeError, ValueError):
            raise FunnelError(f"{where} ({name}): window_days must be a whole number of days") from None
        if not 0 < window <= 90:
            raise FunnelError(f"{where} ({name}): window_days must be 1..90, got {window}")
        out.append(Funnel(name, tuple(parsed), order == "strict", window))
    return tuple(out)


def max_window_days() -> int:
    """The longest conversion window: how many days after an entry day its rows still change."""
    try:
        return max(f.window_days for f in load_funnels())
    except FunnelError:
        return max(f.window_days for f in DEFAULT)  # the asset's run reports the error


def steps_frame(funnels: tuple[Funnel, ...]) -> pl.DataFrame:
    """One row per funnel step, as the SQL reads it (temp table funnel_steps)."""
    rows = []
    for f in funnels:
        for i, (step, label) in enumerate(zip(f.steps, f.step_names(), strict=True), start=1):
            rows.append({"funnel": f.name, "strict": f.strict, "window_days": f.window_days,
                         "steps": len(f.steps), "step": i, "step_name": label,
                         "event_type": step["event_type"],
                         **{c: step.get(c) for c in STEP_FILTERS}})
    schema = {"funnel": pl.String, "strict": pl.Boolean, "window_days": pl.Int32,
              "steps": pl.Int32, "step": pl.Int32, "step_name": pl.String,
              "event_type": pl.String, **{c: pl.String for c in STEP_FILTERS}}
    return pl.DataFrame(rows, schema=schema)
