"""The results as a table on stdout, a JSON file, and a chart of the latency distributions."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from ._contestants import Contestant
from ._stats import Figure

Cells = dict[str, dict[str, Figure]]


def rows(counts: list[int]) -> list[tuple[str, str]]:
    """Every cell id in table order, with its label."""
    found: list[tuple[str, str]] = []
    for style in ("in-place", "atomic"):
        for count in counts:
            name = f"save→message {style}, {count} client{'s' if count > 1 else ''}"
            if count == 1:
                found.append((f"msg.{style}.1.first", name))
            else:
                found.append((f"msg.{style}.{count}.first", f"{name}, first"))
                found.append((f"msg.{style}.{count}.last", f"{name}, last"))
    return [
        *found,
        ("px.1.first", "save→pixels, 1 tab"),
        ("px.5.last", "save→pixels, 5 tabs, last tab"),
        ("px.1.first.reload", "save→pixels, 1 tab, full reload (morph=False)"),
        ("px.5.last.reload", "save→pixels, 5 tabs, last tab, full reload"),
        ("py.page.1", ".py save→new page, 1 tab"),
        ("py.page.1.reload", ".py save→new page, 1 tab, full reload"),
        ("py.baseline", ".py save→first 200, uvicorn alone (no library)"),
        ("py.answer.0", ".py save→first 200, no tabs"),
        ("py.answer.5", ".py save→first 200, 5 tabs open"),
        ("py.page.5", ".py save→new page, 5 tabs, last tab"),
        ("idle.cpu", "idle CPU, worker, 100 tabs connected"),
        ("rps.on", "req/s, HTML page, with it"),
        ("rps.off", "req/s, HTML page, without it"),
        ("rps.overhead", "req/s lost to it"),
        ("app.on", "app time per HTML request, with it"),
        ("app.off", "app time per HTML request, without it"),
        ("app.added", "app time added by it (in-process)"),
        ("mem.per1000", "RSS growth per 1000 tabs"),
    ]


def table(cells: Cells, contestants: list[Contestant], counts: list[int]) -> str:
    """A fixed-width table; latencies as p50 / p90 / p99 / max in ms; n/a cells footnoted."""
    width = 34
    lines = [
        f"{'cell (latency: p50 / p90 / p99 / max ms)':<48}"
        + "".join(f"{c.title:>{width}}" for c in contestants)
    ]
    reasons: list[str] = []
    for cell, label in rows(counts):
        shown = []
        for contestant in contestants:
            figure = cells.get(cell, {}).get(contestant.key, Figure.missing("not measured"))
            text = figure.shown()
            if figure.na is not None:
                reason = f"{contestant.title}: {figure.na}"
                if reason not in reasons:
                    reasons.append(reason)
                text = f"n/a [{reasons.index(reason) + 1}]"
            shown.append(f"{text:>{width}}")
        lines.append(f"{label:<48}" + "".join(shown))
    lines.append("")
    lines.extend(f"[{number}] {reason}" for number, reason in enumerate(reasons, 1))
    return "\n".join(lines)


def write_json(path: Path, cells: Cells, meta: dict[str, Any]) -> None:
    data = {
        **meta,
        "cells": {
            cell: {key: figure.as_json() for key, figure in by.items()}
            for cell, by in cells.items()
        },
    }
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def chart(path: Path, cells: Cells, contestants: list[Contestant], counts: list[int]) -> str:
    """A PNG of each latency distribution (one curve per contestant); what happened, in words."""
    if importlib.util.find_spec("matplotlib") is None:
        return "no chart: matplotlib is not installed (pip install -e '.[bench]')"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    most = counts[-1]
    panels = [
        ("msg.in-place.1.first", "save → message, 1 client"),
        (f"msg.in-place.{most}.last", f"save → message, last of {most} clients"),
        ("px.1.first", "save → pixels, 1 Chromium tab"),
        ("py.page.1", ".py save → new page (uvicorn --reload)"),
    ]
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for axis, (cell, title) in zip(axes.flat, panels, strict=True):
        for contestant in contestants:
            samples = sorted(cells.get(cell, {}).get(contestant.key, Figure()).samples_ms)
            if samples:
                shares = [(i + 1) / len(samples) for i in range(len(samples))]
                axis.step(samples, shares, where="post", label=contestant.title)
        alone = cells.get("py.baseline", {}).get("ours", Figure()).samples_ms
        if cell == "py.page.1" and alone:
            median = sorted(alone)[len(alone) // 2]
            axis.axvline(median, color="grey", linestyle="--", label="uvicorn alone, p50")
        axis.set_ylim(0, 1.02)
        axis.set_xscale("log")
        axis.set_title(title)
        axis.set_xlabel("ms (log scale)")
        axis.set_ylabel("share of saves")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="lower right")
    figure.suptitle("fastapi-hot-reload benchmarks: latency distributions (further left is better)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return f"chart: {path}"
