"""Figures for one table cell: a latency distribution, a single value, or n/a with the reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100), interpolated between the closest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Figure:
    """What one contestant scored in one cell."""

    samples_ms: list[float] = field(default_factory=list)
    value: float | None = None
    unit: str = "ms"
    na: str | None = None
    note: str = ""

    @classmethod
    def latencies(cls, seconds: list[float], note: str = "") -> Figure:
        return cls(samples_ms=[round(s * 1000, 3) for s in seconds], note=note)

    @classmethod
    def missing(cls, reason: str, unit: str = "ms") -> Figure:
        return cls(na=reason, unit=unit)

    def pct(self, q: float) -> float:
        return percentile(self.samples_ms, q)

    def shown(self) -> str:
        """The text in the table."""
        if self.na is not None:
            return "n/a"
        if self.value is not None:
            return f"{self.value:.1f} {self.unit}"
        if not self.samples_ms:
            return "n/a"
        p50, p90, p99 = (self.pct(q) for q in (50, 90, 99))
        return f"{p50:.1f} / {p90:.1f} / {p99:.1f} / {max(self.samples_ms):.1f}"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.samples_ms:
            data.update({f"p{q}": round(self.pct(q), 3) for q in (50, 90, 99)})
            data["max"] = max(self.samples_ms)
            data["n"] = len(self.samples_ms)
        return data
