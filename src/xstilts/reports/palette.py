"""One colour per condition, assigned once per report and used by every plot and the explorer.

A *condition* is a column of the paper table (an intermediate training, with its variant axis values) or a
scaling curve (the column without the curve's axis). The baseline is grey and the control dark grey
everywhere; the other conditions take the colours of :data:`COLOURS` in the order the paper table lists them,
the steps of a numeric axis (data fractions) in tones of their curve's colour.
Models and target tasks are never told apart by colour (that would reuse a condition's colour for something
else): models by hatch and line style, targets by marker and line style.
"""

from __future__ import annotations

import colorsys
from collections import defaultdict
from dataclasses import dataclass, field

from xstilts.reports.columns import Column
from xstilts.reports.model import Report, scaling_points

# Tableau 10 / seaborn "deep" first (distinguishable, fair to common colour blindness), then the darker and
# lighter tones of Tableau 20; no greys (those are the baseline's and the control's).
COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#ccb974", "#64b5cd",
           "#1f3a93", "#8c510a", "#1b7837", "#7b1e1e", "#54278f", "#b35806", "#c51b7d", "#7f7f00", "#01665e",
           "#9ecae1", "#fdae6b"]
BASELINE_GREYS = ["#8c8c8c", "#b3b3b3", "#666666", "#cccccc"]
CONTROL_GREY = "#3b3b3b"
MODEL_HATCHES = ["", "//", "..", "xx", "\\\\", "++"]
MODEL_LINES = ["-", "--", ":", "-."]
TARGET_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def _extra(index: int) -> str:
    """Colours past the list: hues spread by the golden ratio, at a medium lightness."""
    r, g, b = colorsys.hls_to_rgb((index * 0.618034) % 1.0, 0.45, 0.6)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


@dataclass
class Palette:
    colours: dict[Column, str] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)

    def colour(self, column: Column) -> str:
        """The condition's colour; a column the report never listed is an error of the caller."""
        return self.colours[column]

    def by_label(self, short: dict[str, str]) -> dict[str, str]:
        """Condition label -> colour (the explorer's legend)."""
        return {column.label(short): colour for column, colour in self.colours.items()}

    def hatch(self, model: str) -> str:
        return MODEL_HATCHES[self.models.index(model) % len(MODEL_HATCHES)]

    def line(self, model: str) -> str:
        return MODEL_LINES[self.models.index(model) % len(MODEL_LINES)]

    def marker(self, target: str) -> str:
        return TARGET_MARKERS[self.targets.index(target) % len(TARGET_MARKERS)]


def _shades(colour: str, count: int) -> list[str]:
    """``count`` tones of one hue, light to dark (the steps of a numeric axis, smallest value lightest), none
    of them the colour itself (the curve through them)."""
    if count == 1:
        return [colour]
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    hue, light, saturation = colorsys.rgb_to_hls(r, g, b)
    out = []
    for k in range(count):
        level = 0.78 - 0.48 * k / (count - 1)
        if abs(level - light) < 0.05:
            level = light + (0.06 if level >= light else -0.06)
        r, g, b = colorsys.hls_to_rgb(hue, level, saturation)
        out.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return out


def assign_palette(report: Report) -> Palette:
    """The report's palette: every column of every paper table, then every scaling curve, in table order.
    Columns that differ only in numeric axes (a data fraction) are one hue in tones, light to dark with the
    value, and their curve in the scaling plot is that hue itself."""
    columns = sorted(dict.fromkeys(c for table in report.paper for c in table.columns), key=Column.sort_key)
    lines = list(dict.fromkeys(p.line for axis in report.numeric_axes for p in scaling_points(report, axis)))
    palette = Palette(models=list(report.models),
                      targets=list(dict.fromkeys(t for table in report.paper for t in table.rows)))

    def group(column: Column) -> Column:
        for axis in report.numeric_axes:
            column = column.without(axis)
        return column

    baselines, hues, members = 0, {}, defaultdict(list)
    for column in columns:
        if column.control:
            palette.colours[column] = CONTROL_GREY
        elif column.is_baseline:
            palette.colours[column] = BASELINE_GREYS[baselines % len(BASELINE_GREYS)]
            baselines += 1
        else:
            members[group(column)].append(column)
    for line in lines:
        members.setdefault(group(line), [])
    for base, group_members in members.items():
        hues[base] = COLOURS[len(hues)] if len(hues) < len(COLOURS) else _extra(len(hues))
        steps = [c for c in group_members if c != base]
        palette.colours.update(zip(steps, _shades(hues[base], len(steps)), strict=True))
        palette.colours[base] = hues[base]
    for line in lines:
        if line not in palette.colours:  # a curve of a study with several numeric axes: a colour of its own
            palette.colours[line] = _extra(len(hues) + len(palette.colours))
    return palette
