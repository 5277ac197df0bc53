"""The monthly chart: a PNG drawn with matplotlib's Agg renderer (no display, no pyplot global state, safe in
a worker thread). Labels are English tag ids and axis names: the bundled fonts have no CJK glyphs, and the
text summary beside the chart carries the figures in the agent's language."""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.analytics.stats import MonthStats

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP_TAGS = 10


def render_png(stats: MonthStats) -> bytes:
    """Heatmap (weekday × hour) on top; diagnoses, decisions and outcomes below."""
    figure = Figure(figsize=(12, 8.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 2, height_ratios=(1, 1.1))
    _heatmap(figure, figure.add_subplot(grid[0, :]), stats)
    _diagnoses(figure.add_subplot(grid[1, 0]), stats)
    _decisions(figure.add_subplot(grid[1, 1]), stats)
    figure.suptitle(f"payfix {stats.month}: {stats.cases} cases ({stats.timezone})", fontsize=14)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _heatmap(figure: Figure, ax: Axes, stats: MonthStats) -> None:
    image = ax.imshow(stats.heatmap, aspect="auto", cmap="YlOrRd", vmin=0)
    ax.set_yticks(range(7), WEEKDAYS)
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    ax.set_xlabel("hour of day")
    ax.set_title("Cases by weekday and hour")
    figure.colorbar(image, ax=ax, label="cases", ticks=MaxNLocator(integer=True))


def _diagnoses(ax: Axes, stats: MonthStats) -> None:
    top = list(stats.by_diagnosis.items())[:TOP_TAGS][::-1]
    ax.barh([tag for tag, _ in top], [count for _, count in top], color="#4C72B0")
    ax.set_title("Cases by diagnosis")
    ax.set_xlabel("cases")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _decisions(ax: Axes, stats: MonthStats) -> None:
    labels = ["approved", "edited", "rejected", "undecided", "paid", "lost"]
    values = [stats.approved - stats.edited, stats.edited, stats.rejected, stats.undecided, stats.paid, stats.lost]
    colours = ["#55A868", "#8CC084", "#C44E52", "#BBBBBB", "#DD8452", "#8172B3"]
    ax.bar(labels, values, color=colours)
    rescue = "n/a" if stats.rescue_rate is None else f"{stats.rescue_rate:.0%}"
    ax.set_title(f"Decisions and outcomes (rescue rate {rescue})")
    ax.set_ylabel("cases")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
