"""Draw the Teams app icons: ``color.png`` (192x192) and ``outline.png`` (32x32).

The mark is three rising steps (learning, one small step at a time) with a spark
(AI) above the first step. Teams wants a full-bleed, opaque colour icon whose
symbol sits inside the central safe area, and an outline icon that is white on
a fully transparent background. Shapes are drawn at a large scale and scaled
down, so edges are anti-aliased without any font or system dependency.

Run from anywhere: ``python manifest/make_icons.py``; it overwrites both PNGs
next to this file. Pillow is the only dependency.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image, ImageDraw

logger = logging.getLogger(__name__)

ACCENT = (0x4F, 0x46, 0xE5)  # #4F46E5, the manifest's accentColor
WHITE = (255, 255, 255)
SCALE = 8  # draw at 8x, then downsample

# The motif on a 32-unit grid (one unit is one pixel of the outline icon, so
# its edges fall on whole pixels there): steps as (left, top, right) with a
# shared baseline, and a spark as centre and radius.
_BASELINE = 30.0
_STEPS = ((2.0, 19.0, 10.0), (12.0, 12.0, 20.0), (22.0, 5.0, 30.0))
_SPARK_CENTRE = (7.0, 8.0)
_SPARK_RADIUS = 6.5
_CORNER = 1.5
_OUTLINE_WIDTH = 2.0


def _spark(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """A four-pointed star with a narrow waist, as a polygon."""
    waist = radius * 0.22
    points: list[tuple[float, float]] = []
    # Tips on the axes, waist points on the diagonals between them.
    for tip_x, tip_y, waist_x, waist_y in (
        (0, -1, 1, -1),
        (1, 0, 1, 1),
        (0, 1, -1, 1),
        (-1, 0, -1, -1),
    ):
        points.append((cx + tip_x * radius, cy + tip_y * radius))
        points.append((cx + waist_x * waist, cy + waist_y * waist))
    return points


def _motif_mask(size: int, unit: float, offset: float, *, outline: bool) -> Image.Image:
    """Draw the motif as an 'L' mask of ``size`` px.

    ``unit`` is pixels per grid unit and ``offset`` shifts the grid. With
    ``outline`` the steps are drawn as outlines, otherwise filled.
    """
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)

    def px(value: float) -> float:
        return offset + value * unit

    for left, top, right in _STEPS:
        # Pillow's rectangles include their last pixel row and column.
        rect = (px(left), px(top), px(right) - 1, px(_BASELINE) - 1)
        if outline:
            draw.rounded_rectangle(
                rect, radius=_CORNER * unit, outline=255, width=round(_OUTLINE_WIDTH * unit)
            )
        else:
            draw.rounded_rectangle(rect, radius=_CORNER * unit, fill=255)
    cx, cy = _SPARK_CENTRE
    draw.polygon([(px(x), px(y)) for x, y in _spark(cx, cy, _SPARK_RADIUS)], fill=255)
    return mask


def make_color_icon() -> Image.Image:
    """192x192, opaque: white motif on a full-bleed accent background."""
    size = 192 * SCALE
    # 3.5 px per unit puts the ~100 px motif in the middle of the icon, around
    # Teams' 96 px safe area, with the grid's centre on the icon's centre.
    unit = 3.5 * SCALE
    mask = _motif_mask(size, unit, size / 2 - 16 * unit, outline=False)
    icon = Image.new("RGB", (size, size), ACCENT)
    icon.paste(Image.new("RGB", (size, size), WHITE), mask=mask)
    return icon.resize((192, 192), Image.Resampling.LANCZOS)


def make_outline_icon() -> Image.Image:
    """32x32: white outline motif on a fully transparent background.

    Every pixel's colour is pure white; only alpha varies, so anti-aliased
    edges stay white and the background is alpha 0.
    """
    size = 32 * SCALE
    mask = _motif_mask(size, SCALE, 0.0, outline=True)
    alpha = mask.resize((32, 32), Image.Resampling.BOX)
    icon = Image.new("RGBA", (32, 32), (*WHITE, 0))
    icon.putalpha(alpha)
    return icon


def main(out_dir: Path | None = None) -> None:
    """Write both icons into ``out_dir`` (default: this file's folder)."""
    target = out_dir or Path(__file__).resolve().parent
    make_color_icon().save(target / "color.png", optimize=True)
    make_outline_icon().save(target / "outline.png", optimize=True)
    logger.info("wrote %s and %s", target / "color.png", target / "outline.png")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
