"""A location map drawn as SVG on the server (no tile service): territory, address, fix, EXIF points."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from backend.i18n import N_, translate
from backend.validation.geo import distance_m

W, H = 360, 300


@dataclass(frozen=True, slots=True)
class MapPoint:
    label: str
    lat: float
    lon: float
    kind: str  # address | fix | exif
    accuracy_m: float | None = None


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    return list(getattr(geometry, "geoms", [geometry]))


class _Projection:
    """Equirectangular around the centre: metres-true at the scale of a territory."""

    def __init__(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float, pad: float = 0.08) -> None:
        self.k = math.cos(math.radians((min_lat + max_lat) / 2))
        span_x = max((max_lon - min_lon) * self.k, 1e-9)
        span_y = max(max_lat - min_lat, 1e-9)
        self.scale = min(W / span_x, H / span_y) * (1 - 2 * pad)
        self.cx, self.cy = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        return W / 2 + (lon - self.cx) * self.k * self.scale, H / 2 - (lat - self.cy) * self.scale

    def metres(self, m: float) -> float:
        return m / 111_320 * self.scale


def _overview(territory: BaseGeometry, points: list[MapPoint], lang: str) -> str:
    proj = _Projection(*territory.bounds[0:2], *territory.bounds[2:4])
    paths = []
    for poly in _polygons(territory):
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (proj(lat, lon) for lon, lat in poly.exterior.coords))
        paths.append(f'<polygon class="territory" points="{coords}"/>')
    marks = []
    for p in points:
        x, y = proj(p.lat, p.lon)
        marks.append(
            f'<circle class="pt {p.kind}" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{escape(p.label)}</title></circle>'
        )
    caption = escape(translate(lang, N_("Territory")))
    return f'<g><text class="cap" x="6" y="14">{caption}</text>{"".join(paths)}{"".join(marks)}</g>'


def _detail(points: list[MapPoint], lang: str) -> str:
    address = next(p for p in points if p.kind == "address")
    reach = max([50.0] + [distance_m(p.lat, p.lon, address.lat, address.lon) + (p.accuracy_m or 0) for p in points])
    dlat = reach * 1.25 / 111_320
    dlon = dlat / max(math.cos(math.radians(address.lat)), 1e-6)
    proj = _Projection(address.lon - dlon, address.lat - dlat, address.lon + dlon, address.lat + dlat, pad=0.02)
    ax, ay = proj(address.lat, address.lon)
    parts = []
    for p in points:
        if p.kind == "address":
            continue
        x, y = proj(p.lat, p.lon)
        if p.accuracy_m:
            parts.append(f'<circle class="acc" cx="{x:.1f}" cy="{y:.1f}" r="{proj.metres(p.accuracy_m):.1f}"/>')
        d = distance_m(p.lat, p.lon, address.lat, address.lon)
        parts.append(f'<line class="dist" x1="{ax:.1f}" y1="{ay:.1f}" x2="{x:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="lbl" x="{(ax + x) / 2 + 4:.1f}" y="{(ay + y) / 2 - 4:.1f}">{d:.0f} m</text>')
        parts.append(
            f'<circle class="pt {p.kind}" cx="{x:.1f}" cy="{y:.1f}" r="5"><title>{escape(p.label)}</title></circle>'
        )
        parts.append(f'<text class="lbl" x="{x + 7:.1f}" y="{y + 4:.1f}">{escape(p.label)}</text>')
    parts.append(f'<rect class="pt address" x="{ax - 5:.1f}" y="{ay - 5:.1f}" width="10" height="10"/>')
    parts.append(f'<text class="lbl" x="{ax + 8:.1f}" y="{ay - 8:.1f}">{escape(address.label)}</text>')
    bar_m = _nice(reach / 2)
    bar = proj.metres(bar_m)
    parts.append(
        f'<line class="bar" x1="10" y1="{H - 12}" x2="{10 + bar:.1f}" y2="{H - 12}"/>'
        f'<text class="lbl" x="10" y="{H - 18}">{bar_m:.0f} m</text>'
    )
    caption = escape(translate(lang, N_("Surroundings")))
    return f'<g><text class="cap" x="6" y="14">{caption}</text>{"".join(parts)}</g>'


def _nice(value: float) -> float:
    exp = 10 ** math.floor(math.log10(max(value, 1)))
    return next(m * exp for m in (5, 2, 1) if m * exp <= value) if value >= 1 else 1


def render_map(territory: BaseGeometry, points: list[MapPoint], lang: str) -> str:
    """Two panels in one SVG: the territory with the points, and the surroundings with distances; their
    captions in the reader's language."""
    name = escape(translate(lang, N_("Map")))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {2 * W + 10} {H}" role="img" '
        f'aria-label="{name}">'
        f'<rect class="bg" width="{W}" height="{H}"/>{_overview(territory, points, lang)}'
        f'<g transform="translate({W + 10},0)"><rect class="bg" width="{W}" height="{H}"/>{_detail(points, lang)}</g>'
        f"</svg>"
    )
