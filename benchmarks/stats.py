"""Interleaved timing and the statistics the report quotes."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Series:
    """Per-call times (seconds), one sample per batch."""

    name: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        if len(ordered) == 1:
            return ordered[0]
        position = q * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    def summary(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "p10": self.quantile(0.1),
            "p90": self.quantile(0.9),
            "n": len(self.samples),
            "samples": list(self.samples),
        }


def paired_ratio(a: Series, b: Series) -> float:
    """The median over rounds of ``a``'s time over ``b``'s in the same round.

    Both ran back to back in every round, so a slow stretch of the machine
    slows both; the ratio of their medians would mix rounds from different
    stretches.
    """
    return statistics.median(x / y for x, y in zip(a.samples, b.samples, strict=True))


def paired_ratio_interval(
    a: Series, b: Series, *, resamples: int = 2000, seed: int = 11
) -> tuple[float, float]:
    """A 95% bootstrap interval for :func:`paired_ratio`: the medians of the
    per-round ratios resampled with replacement, 2.5th and 97.5th percentile.

    A ratio of 0.99 from one run may be a lead or noise; a verdict is only
    given when the whole interval is on one side of the goal.
    """
    ratios = [x / y for x, y in zip(a.samples, b.samples, strict=True)]
    choices = random.Random(seed).choices
    medians = sorted(statistics.median(choices(ratios, k=len(ratios))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def interleave(
    runners: Sequence[tuple[str, Callable[[list[Any]], float], Callable[[], Any]]],
    *,
    rounds: int,
    batch: int,
    seed: int = 5,
) -> dict[str, Series]:
    """Time each runner ``rounds`` times, in a new random order every round.

    Each runner is ``(name, run_batch, make_arg)``: every round makes ``batch``
    fresh arguments (untimed), then times one batch; the sample is the time
    per call.  Every contender thus meets the same noise, round by round.
    """
    shuffle = random.Random(seed).shuffle
    series = {name: Series(name) for name, _, _ in runners}
    order = list(runners)
    for _ in range(rounds):
        shuffle(order)
        for name, run_batch, make_arg in order:
            args = [make_arg() for _ in range(batch)]
            series[name].samples.append(run_batch(args) / batch)
    return series


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def fmt_bytes(size: float) -> str:
    return f"{size / 2**20:.2f} MiB"
