"""Colour arithmetic for the browser tests: CSS colours as the browser computes them, alpha
compositing, and WCAG 2 relative luminance and contrast ratios."""

from __future__ import annotations

import re

RGB = tuple[float, float, float]

_CSS_COLOUR = re.compile(r"rgba?\(([^)]*)\)")


def parse(css: str) -> tuple[RGB, float]:
    """``rgb(r, g, b)`` / ``rgba(r, g, b, a)`` / ``rgb(r g b / a)`` → ((r, g, b), alpha)."""
    found = _CSS_COLOUR.fullmatch(css.strip())
    if found is None:
        raise ValueError(f"not a solid colour: {css!r}")
    parts = [float(p) for p in re.split(r"[\s,/]+", found.group(1).strip()) if p]
    alpha = parts[3] if len(parts) > 3 else 1.0
    return (parts[0], parts[1], parts[2]), alpha


def over(top: RGB, alpha: float, bottom: RGB) -> RGB:
    """``top`` painted with opacity ``alpha`` over an opaque ``bottom``."""
    r, g, b = (alpha * t + (1 - alpha) * u for t, u in zip(top, bottom, strict=True))
    return (r, g, b)


def luminance(colour: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
