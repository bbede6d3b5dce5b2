"""Write a taxi-like CSV data set as two spans, the second one drifted.

    .venv/bin/python examples/taxi/generate_data.py [--rows 100000] [--seed 7] [--output examples/taxi/data]

The output folder defaults to ``$TAXI_DATA`` when set, the folder the pipeline reads.

Each span is ``<output>/span-<n>/trips.csv`` with ``--rows`` rows, modelled loosely on the
Chicago taxi trips that TFX's taxi example uses: trip start hour and day, pickup and dropoff
community areas, miles, seconds, fare, payment type and company, and the label ``big_tip``
(1 when the tip was over 20% of the fare). Empty cells are missing values (community areas,
trip seconds and company have some).

Span 2 drifts the way a real fleet does when an airport route opens and a payment app
launches: airport trips (15-20 miles) go from 3% to 30% of all trips, so trip miles and fares
shift upwards, and the payment mix moves from cash to mobile, with a new value ``Prepaid``. Hours, days, areas and companies keep their
span-1 distributions. The same ``--seed`` always writes the same files.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

SPANS = (1, 2)
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 2, 4, 7, 9, 7, 6, 6, 7, 6, 6, 7, 8, 9, 9, 8, 6, 5, 4, 3)
COMPANIES = tuple(f"Company {chr(ord('A') + i)}" for i in range(20))
PAYMENT_MIX = {
    1: {"Cash": 0.45, "Credit Card": 0.42, "Mobile": 0.05, "No Charge": 0.04, "Dispute": 0.02, "Unknown": 0.02},
    2: {"Cash": 0.22, "Credit Card": 0.40, "Mobile": 0.25, "Prepaid": 0.08, "No Charge": 0.02, "Dispute": 0.01, "Unknown": 0.02},
}
AIRPORT_SHARE = {1: 0.03, 2: 0.30}
MAX_MILES = 30.0
MISSING = {"pickup_community_area": 0.08, "dropoff_community_area": 0.12, "trip_seconds": 0.02, "company": 0.15}
TIP_ODDS_BY_PAYMENT = {
    "Cash": -2.5,
    "Credit Card": 0.6,
    "Mobile": 0.9,
    "Prepaid": 0.3,
    "No Charge": -4.0,
    "Dispute": -4.0,
    "Unknown": -1.0,
}


def span_frame(rows: int, span: int, seed: int) -> Any:
    """One span's rows as a DataFrame (nullable integer columns keep missing cells empty)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng([seed, span])
    hours = rng.choice(24, rows, p=np.array(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS))
    airport = rng.random(rows) < AIRPORT_SHARE[span]
    miles = np.where(airport, rng.normal(17.0, 2.0, rows), rng.lognormal(np.log(2.2), 0.7, rows))
    miles = np.round(np.clip(miles, 0.1, MAX_MILES), 2)
    seconds = np.round(miles * rng.uniform(150, 320, rows) + rng.uniform(60, 300, rows)).astype(np.int64)
    fare = np.round(3.25 + 2.25 * miles + 0.004 * seconds, 2)
    mix = PAYMENT_MIX[span]
    payment = rng.choice(list(mix), rows, p=list(mix.values()))
    company_weights = 1.0 / np.arange(1, len(COMPANIES) + 1)
    company = rng.choice(COMPANIES, rows, p=company_weights / company_weights.sum())
    odds = np.vectorize(TIP_ODDS_BY_PAYMENT.get)(payment) + 0.15 * np.log1p(miles) - 0.3 * ((hours >= 22) | (hours < 5))
    big_tip = (rng.random(rows) < 1.0 / (1.0 + np.exp(-odds))).astype(np.int64)
    frame = pd.DataFrame({
        "trip_start_hour": hours,
        "trip_start_day": rng.integers(1, 8, rows),
        "pickup_community_area": rng.integers(1, 78, rows),
        "dropoff_community_area": rng.integers(1, 78, rows),
        "trip_miles": miles,
        "trip_seconds": seconds,
        "fare": fare,
        "payment_type": payment,
        "company": company,
        "big_tip": big_tip,
    })  # fmt: skip
    for column, fraction in MISSING.items():
        holes = rng.random(rows) < fraction
        frame[column] = frame[column].astype("Int64" if frame[column].dtype.kind == "i" else object).mask(holes)
    return frame


def write_spans(output: str, rows: int, seed: int) -> list[str]:
    """Write every span under ``output`` (replacing earlier files) and return the CSV paths."""
    paths = []
    for span in SPANS:
        folder = os.path.join(output, f"span-{span}")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "trips.csv")
        partial = path + ".partial"
        span_frame(rows, span, seed).to_csv(partial, index=False, na_rep="")
        os.replace(partial, path)  # a reader never sees a half-written span
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per span (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    default_output = os.environ.get("TAXI_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    parser.add_argument(
        "--output", default=default_output, help="folder for span-1/ and span-2/ (default: $TAXI_DATA, else examples/taxi/data)"
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows must be at least 1, got {args.rows}")
    for path in write_spans(args.output, args.rows, args.seed):
        print(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB, {args.rows:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
