"""Plotly figures of the dashboard: maps without tiles, series with bands, paths, bars.

Maps draw the shipped municipality polygons (``data/base_2024/kommuner_2024.geojson``) as
filled SVG shapes without a base map, so nothing is fetched from the internet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from dashboard.indeks import Panel
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
        margin={"l": 0, "r": 40, "t": 40, "b": 0},
        height=460,
        plot_bgcolor="white",
    )
    return figure


def cell_map(
    cells: pd.Series, title: str, unit: str, diverging: bool = False, log: bool = False
) -> go.Figure:
    """A map of one value per 1 km cell (index: ``easting_m``, ``northing_m`` of the corner).

    A heatmap on the grid's own km axes (EPSG:25833), without a base map. Cells without a
    value stay blank; ``log`` colours by the logarithm (population spans 1 to 20 000 per
    km²); ``diverging`` centres a red-blue scale on zero. The raster goes to the browser
    as nested lists, with None where there is no cell.
    """
    easting = cells.index.get_level_values("easting_m").to_numpy() // 1000
    northing = cells.index.get_level_values("northing_m").to_numpy() // 1000
    x, y = easting - easting.min(), northing - northing.min()
    raster = np.full((y.max() + 1, x.max() + 1), np.nan)
    values = cells.to_numpy(dtype=float)
    raster[y, x] = values
    colour = raster
    colorbar: dict = {"title": unit}
    limit = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    extra: dict = {"zmid": 0.0, "zmin": -limit or -1.0, "zmax": limit or 1.0} if diverging else {}
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            colour = np.where(raster > 0, np.log10(raster), np.nan)
        ticks = [1, 10, 100, 1000, 10000]
        colorbar.update(tickvals=np.log10(ticks).tolist(), ticktext=[f"{t:,}" for t in ticks])
    figure = go.Figure(
        go.Heatmap(
            z=_nested(colour),
            x=(easting.min() + np.arange(x.max() + 1) + 0.5).tolist(),
            y=(northing.min() + np.arange(y.max() + 1) + 0.5).tolist(),
            customdata=_nested(raster),
            colorscale="RdBu_r" if diverging else "Viridis",
            colorbar=colorbar,
            hovertemplate="E %{x} km, N %{y} km<br>%{customdata:,.4g}<extra></extra>",
            **extra,
        )
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x")
    figure.update_layout(
        title=title, margin={"l": 0, "r": 60, "t": 40, "b": 0}, height=460, plot_bgcolor="white"
    )
    return figure


def _nested(raster: np.ndarray) -> list[list[float | None]]:
    """A 2-D array as rows of numbers with None for NaN (what plotly.js reads as no value)."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in raster]


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
    figure.update_layout(title=title, yaxis_title=y_title, width=1200, height=380, margin={"t": 50})
    year_axes(figure, sorted(rows["year"].unique()))
    return figure


def lines(
    series: dict[str, pd.Series], title: str, y_title: str = "", font_size: int = 12
) -> go.Figure:
    """One line per named series (index = year); ``font_size`` in px (large on a projector)."""
    figure = go.Figure()
    for i, (name, values) in enumerate(series.items()):
        figure.add_trace(_year_line(name, values, COLOURS[i % len(COLOURS)]))
    figure.update_layout(
        title=title,
        yaxis_title=y_title,
        height=320 + 10 * font_size,
        margin={"t": 50 + font_size},
        font={"size": font_size},
    )
    year_axes(figure, _years(series.values()))
    return figure


def _years(series: Iterable[pd.Series]) -> list[int]:
    """The years (index values) of several series, sorted."""
    return sorted({int(year) for values in series for year in values.index})


def _year_line(
    name: str, values: pd.Series, colour: str, dash: str | None = None, **extra: Any
) -> go.Scatter:
    """A series by year (index) as a line; ``extra`` goes to ``go.Scatter`` (mode, marker)."""
    extra.setdefault("mode", "lines+markers")
    line = {"color": colour, "dash": dash}
    return go.Scatter(x=values.index, y=values.to_numpy(), name=name, line=line, **extra)


def year_axes(figure: go.Figure, years: pd.Index | list[int]) -> go.Figure:
    """Whole years on every x axis; one tick a year on short horizons (no repeated labels)."""
    span = max(years) - min(years) if len(years) else 0
    if span <= 10:
        figure.update_xaxes(tickformat="d", tick0=min(years) if len(years) else 0, dtick=1)
    else:
        figure.update_xaxes(tickformat="d")
    return figure


def panel(charts: list[Panel], columns: int = 3, font_size: int = 12) -> go.Figure:
    """Small multiples in one figure: each chart's lines, dashed ones and a target line.

    One figure renders far faster in the browser than one widget per chart; the first line
    of every chart has the first colour, so the region's own value reads alike throughout.
    """
    rows = -(-len(charts) // columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[chart.title for chart in charts],
        vertical_spacing=0.3 / rows,
        horizontal_spacing=0.06,
    )
    for i, chart in enumerate(charts):
        row, col = i // columns + 1, i % columns + 1
        for j, (name, values) in enumerate(chart.lines.items()):
            figure.add_trace(
                _year_line(
                    name,
                    values,
                    COLOURS[j % len(COLOURS)],
                    "dash" if name in chart.dashed else None,
                    marker={"size": 3},
                    showlegend=False,
                    hovertemplate=f"{name}: %{{y:,.4g}} (%{{x}})<extra></extra>",
                ),
                row=row,
                col=col,
            )
        if chart.target is not None:
            target_line = {"color": "green", "dash": "dot"}
            figure.add_hline(y=chart.target, line=target_line, row=row, col=col)
        if len(chart.lines) > 1:  # name the lines in the chart's corner
            figure.add_annotation(
                text="<br>".join(
                    f'<span style="color:{COLOURS[j % len(COLOURS)]}">{name}</span>'
                    for j, name in enumerate(chart.lines)
                ),
                xref="x domain" if i == 0 else f"x{i + 1} domain",
                yref="y domain" if i == 0 else f"y{i + 1} domain",
                x=0.02,
                y=0.98,
                xanchor="left",
                yanchor="top",
                align="left",
                showarrow=False,
            )
    year_axes(figure, _years(line for chart in charts for line in chart.lines.values()))
    figure.update_annotations(font_size=font_size)
    figure.update_layout(
        width=400 * columns,
        height=(300 + 8 * font_size) * rows,
        font={"size": font_size},
        margin={"t": 40, "l": 50, "r": 10, "b": 30},
    )
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
        dash = "dash" if i == 2 else None
        figure.add_trace(_year_line(name, values, COLOURS[i % len(COLOURS)], dash), row=1, col=1)
    for row, (table, column) in ((2, (by_sector, "sector")), (3, (by_class, "source"))):
        for name, group in table.groupby(column, sort=False):
            figure.add_trace(
                go.Bar(x=group["year"], y=group["co2e_tonnes"], name=str(name), legendgroup=row),
                row=row,
                col=1,
            )
    figure.update_layout(barmode="stack", width=1200, height=1100, margin={"t": 40})
    year_axes(figure, _years(paths.values()))
    return figure


def fit_figure(
    region: dict[str, pd.Series], municipalities: pd.DataFrame, titles: tuple[str, str]
) -> go.Figure:
    """The model against SSB's projection: the region by year, municipalities in one year.

    ``region``: named series by year (the model's first); ``municipalities``: columns
    ``name``, ``model`` and ``ssb``, drawn on log axes with the line of equality.
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.12)
    for i, (name, values) in enumerate(region.items()):
        colour, dash = COLOURS[i % len(COLOURS)], "dash" if i else None
        mode = "lines+markers" if i == 0 else "lines"
        figure.add_trace(_year_line(name, values, colour, dash, mode=mode), row=1, col=1)
    low = float(municipalities[["model", "ssb"]].min().min())
    high = float(municipalities[["model", "ssb"]].max().max())
    figure.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            line={"color": "grey", "dash": "dot"},
            showlegend=False,
            hoverinfo="skip",
        ),
        row=1,
        col=2,
    )
    figure.add_trace(
        go.Scatter(
            x=municipalities["ssb"],
            y=municipalities["model"],
            mode="markers",
            text=municipalities["name"],
            marker={"color": COLOURS[0], "size": 7},
            showlegend=False,
            hovertemplate="%{text}: SSB %{x:,.0f}, model %{y:,.0f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    figure.update_xaxes(type="log", title_text="SSB", row=1, col=2)
    figure.update_yaxes(type="log", title_text="model", row=1, col=2)
    year_axes(figure, _years(region.values()))
    figure.update_xaxes(tickformat=None, dtick=None, row=1, col=2)
    figure.update_layout(width=1100, height=420, margin={"t": 50}, legend={"x": 0.01, "y": 0.99})
    return figure
