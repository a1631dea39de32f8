"""Leaven's benchmarks: `python -m bench NAME [--people N]`, `python -m bench all`.

Each benchmark prints one JSON line per figure:
{"name": ..., "value": ..., "unit": ...} plus, where there is one, "budget" (from
DESIGN.md), or "anchor" and "ratio" (a reference measured in the same run on the same
machine). Databases and other generated files are kept under bench/out/.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"

# name -> (module, what it measures)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "people": ("bench.people", "demo generation, people list, person page, segment count"),
    "broadcast": ("bench.broadcast", "queue a 100,000-person segment, deliver 10,000 emails"),
    "import": ("bench.imports", "a North Carolina voter file into SQLite through the pipeline"),
    "api": ("bench.api", "list 100,000 people through the Action Network API, 25 per page"),
    "fanout": ("bench.rapid", "rapid response: alert 10,000 of 100,000 responders, radius query"),
    "turf": ("bench.canvass", "cut 100,000 doors into ~50-door turfs, walks against OR-Tools"),
}


def emit(name: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    """Print one figure as a JSON line (and return it)."""
    figure: dict[str, Any] = {"name": name, "value": round(value, 3), "unit": unit, **extra}
    sys.stdout.write(json.dumps(figure, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return figure


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
