"""What every picture of a network agrees on: one sign colour, one class colour, one layer name.

A student moves between the playground, the run folder's PNGs, the summary table and the
notebooks; each must read the same way:

- **sign**: blue for positive, orange for negative, white for zero, as the playground (and
  TensorFlow Playground before it) draws weights and unit outputs (`signed_colormap`);
  every legend or colour bar says so (`SIGN_LEGEND`);
- **two classes**: class 0 orange, class 1 blue, the playground's points (`class_colors`);
- **layers**: the summary's depth-idx, ``Linear: 1-2``, the row a student finds in
  ``python cli.py summary SPEC`` (`layer_labels`), never a Python attribute name or an index
  of our own;
- **swept fields** by what they mean: a hidden layer's ``out_features`` is the "hidden
  width" (`runs.sweep_plan.field_names`, shared with the sweep's summary table).
"""

from __future__ import annotations

from typing import Any

from ..summary import summary

POSITIVE = "#0877bd"  # the playground's blue (its style.css --c1)
NEGATIVE = "#f59322"  # the playground's orange (--c0)
SIGN_LEGEND = "blue positive, orange negative"
SIGN_LEGEND_NONNEGATIVE = "blue positive, white zero"  # for ReLU outputs, never negative


def signed_colormap(bad: str | None = None) -> Any:
    """Orange (negative) through white (zero) to blue (positive), for a symmetric scale.

    `bad` colours NaN cells (the gaps of a tile mosaic)."""
    from matplotlib.colors import LinearSegmentedColormap

    colours = LinearSegmentedColormap.from_list("tinygrad_edu_sign", [NEGATIVE, "white", POSITIVE])
    return colours if bad is None else colours.with_extremes(bad=bad)


def sign_color(value: float) -> str:
    """The colour of one signed quantity (an edge of ``network.png``)."""
    return POSITIVE if value > 0 else NEGATIVE


def class_colors(count: int) -> list[Any]:
    """One colour per class: the playground's orange and blue for two classes, matplotlib's
    ten distinct ``tab10`` colours for more."""
    if count == 2:
        return [NEGATIVE, POSITIVE]
    from matplotlib import colormaps

    return [colormaps["tab10"](c % 10) for c in range(count)]


def layer_labels(model: Any, input_shape: tuple[int, ...]) -> dict[str, str]:
    """Each module's name in the model (``"1"``, ``"layers.0"``) -> its summary row label
    (``"Linear: 1-2"``), measured by `summary` itself so the two can never disagree."""

    rows = summary(model, (1, *input_shape), verbose=0).rows  # it restores every module's mode
    by_module = {}
    for row in rows:
        if row.depth:
            by_module.setdefault(id(row.module), row.layer_name())
    return {name: by_module[id(m)] for name, m in model.named_modules() if id(m) in by_module}
