"""Plotly figures of the dashboard: maps without tiles, series with bands, paths, bars.

Maps draw the shipped municipality polygons (``data/base_2024/kommuner_2024.geojson``) as
filled SVG shapes without a base map, so nothing is fetched from the internet.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from scenarios.compare import band_traces

GEOJSON_PATH = Path(__file__).resolve().parents[1] / "data" / "base_2024" / "kommuner_2024.geojson"
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


@lru_cache(maxsize=1)
def municipalities_geojson() -> dict:
    """The municipality polygons of the region's counties."""
    return json.loads(GEOJSON_PATH.read_text(encoding="utf-8"))


def _rings(geometry: dict) -> list[list[list[float]]]:
    """The outer rings of a (Multi)Polygon."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    return [polygon[0] for polygon in geometry["coordinates"]]


def municipality_map(
    values: pd.Series, names: dict[str, str], title: str, diverging: bool = False
) -> go.Figure:
    """A choropleth of one value per municipality number (index of ``values``).

    Each municipality is a filled SVG polygon in longitude and latitude (plotly's geo maps
    fetch their base topology from the internet, so they are not used).
    """
    values = values.dropna()
    colorscale = "RdBu_r" if diverging else "Viridis"
    limit = float(values.abs().max()) if len(values) else 0.0
    limit = limit if limit > 0 else 1.0  # all zero: the middle of the scale
    low, high = (-limit, limit) if diverging else (float(values.min()), float(values.max()))
    span = high - low if high > low else 1.0
    figure = go.Figure()
    for feature in municipalities_geojson()["features"]:
        code = feature["properties"]["kommunenummer"]
        if code not in values.index:
            continue
        value = float(values[code])
        colour = sample_colorscale(colorscale, (value - low) / span)[0]
        for ring in _rings(feature["geometry"]):
            lon, lat = zip(*ring, strict=True)
            figure.add_trace(
                go.Scatter(
                    x=lon,
                    y=lat,
                    fill="toself",
                    fillcolor=colour,
                    line={"color": "white", "width": 0.5},
                    mode="lines",
                    hoveron="fills",
                    text=f"{names.get(code, code)}: {value:,.4g}",
                    hoverinfo="text",
                    showlegend=False,
                )
            )
    figure.add_trace(  # the colour bar
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={
                "colorscale": colorscale,
                "cmin": low,
                "cmax": high,
                "color": [low],
                "showscale": True,
            },
            showlegend=False,
        )
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x", scaleratio=2.0)  # ~1/cos(60°)
    figure.update_layout(
        title=title,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        height=460,
        plot_bgcolor="white",
    )
    return figure


def band_series(rows: pd.DataFrame, title: str, y_title: str) -> go.Figure:
    """Mean difference by year with its 5-95 % band, one line per scenario.

    ``rows``: a comparison table restricted to one indicator and area; the traces are
    ``scenarios.compare.band_traces``, as on the comparison's own page.
    """
    figure = go.Figure()
    for i, (scenario, group) in enumerate(rows.groupby("scenario", sort=False)):
        colour = COLOURS[i % len(COLOURS)]
        figure.add_traces(band_traces(group.sort_values("year"), str(scenario), colour))
    figure.add_hline(y=0, line={"color": "grey", "width": 1})
    figure.update_layout(title=title, yaxis_title=y_title, height=380, margin={"t": 50})
    figure.update_xaxes(tickformat="d")
    return figure


def lines(series: dict[str, pd.Series], title: str, y_title: str = "") -> go.Figure:
    """One line per named series (index = year)."""
    figure = go.Figure()
    for i, (name, values) in enumerate(series.items()):
        figure.add_trace(
            go.Scatter(
                x=values.index,
                y=values.to_numpy(),
                mode="lines+markers",
                name=name,
                line={"color": COLOURS[i % len(COLOURS)]},
            )
        )
    figure.update_layout(title=title, yaxis_title=y_title, height=320, margin={"t": 50})
    figure.update_xaxes(tickformat="d")
    return figure


def panel(series: dict[str, pd.Series], columns: int = 3) -> go.Figure:
    """Small multiples in one figure: one line per titled series (index = year).

    One figure renders far faster in the browser than one widget per series.
    """
    rows = -(-len(series) // columns)
    figure = make_subplots(
        rows=rows, cols=columns, subplot_titles=list(series), vertical_spacing=0.08
    )
    for i, values in enumerate(series.values()):
        figure.add_trace(
            go.Scatter(
                x=values.index,
                y=values.to_numpy(),
                mode="lines+markers",
                line={"color": COLOURS[0]},
                marker={"size": 4},
                showlegend=False,
            ),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    figure.update_xaxes(tickformat="d")
    figure.update_layout(height=260 * rows, margin={"t": 40, "l": 40, "r": 10, "b": 30})
    return figure


def climate_panel(
    paths: dict[str, pd.Series],
    by_sector: pd.DataFrame,
    by_class: pd.DataFrame,
    titles: tuple[str, str, str],
) -> go.Figure:
    """A municipality's climate budget in one figure: paths, sectors, vehicle classes.

    The reference, measure and target paths; then emissions by sector and road traffic by
    vehicle class (columns ``year``, ``sector`` or ``source``, ``co2e_tonnes``), stacked.
    """
    figure = make_subplots(rows=3, cols=1, subplot_titles=titles, vertical_spacing=0.08)
    for i, (name, values) in enumerate(paths.items()):
        figure.add_trace(
            go.Scatter(
                x=values.index,
                y=values.to_numpy(),
                mode="lines+markers",
                name=name,
                line={"color": COLOURS[i % len(COLOURS)], "dash": "dash" if i == 2 else None},
            ),
            row=1,
            col=1,
        )
    for row, (table, column) in ((2, (by_sector, "sector")), (3, (by_class, "source"))):
        for name, group in table.groupby(column, sort=False):
            figure.add_trace(
                go.Bar(x=group["year"], y=group["co2e_tonnes"], name=str(name), legendgroup=row),
                row=row,
                col=1,
            )
    figure.update_layout(barmode="stack", height=1100, margin={"t": 40})
    figure.update_xaxes(tickformat="d")
    return figure
