"""A stored run as a page to look at: population and price maps of the 1 km cells, series.

``osloregion report RUN_ID`` writes ``report.html`` into the run folder. The page is
self-contained (plotly.js embedded, no map tiles), so it opens offline.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scenarios.store import StoredRun

SERIES = (
    ("population", "Population (1 January)"),
    ("households", "Households (1 January)"),
    ("employed", "Employed residents (1 January)"),
    ("births", "Births"),
    ("deaths", "Deaths"),
    ("households_formed", "Households formed"),
    ("dwellings_built", "Dwellings built"),
    ("in_migrants", "In-migrants"),
    ("out_migrants", "Out-migrants"),
)


def _raster(cells: pd.DataFrame, year: int, column: str) -> tuple[np.ndarray, ...]:
    """A cell column as a (northing, easting) raster with its axes in km."""
    year_cells = cells[cells["year"] == year]
    x = ((year_cells["easting_m"] - year_cells["easting_m"].min()) // 1000).to_numpy()
    y = ((year_cells["northing_m"] - year_cells["northing_m"].min()) // 1000).to_numpy()
    raster = np.full((y.max() + 1, x.max() + 1), np.nan)
    raster[y, x] = year_cells[column].to_numpy()
    easting_km = year_cells["easting_m"].min() / 1000 + np.arange(x.max() + 1) + 0.5
    northing_km = year_cells["northing_m"].min() / 1000 + np.arange(y.max() + 1) + 0.5
    return raster, easting_km, northing_km


def _map_layout(figure: go.Figure, title: str) -> go.Figure:
    """The layout every grid map shares: km axes in EPSG:25833, equal aspect."""
    figure.update_layout(
        title=title,
        xaxis_title="easting, km (EPSG:25833)",
        yaxis_title="northing, km",
        yaxis_scaleanchor="x",
        height=750,
    )
    return figure


def price_map(cells: pd.DataFrame, year: int) -> go.Figure:
    """Mean dwelling price per m² on the 1 km grid in ``year`` (2024 NOK)."""
    price, easting_km, northing_km = _raster(cells, year, "mean_price_nok_per_m2")
    figure = go.Figure(
        go.Heatmap(
            z=price,
            x=easting_km,
            y=northing_km,
            colorscale="Magma",
            colorbar={"title": "NOK per m²"},
            hovertemplate="E %{x} km, N %{y} km<br>%{z:,.0f} NOK/m²<extra></extra>",
        )
    )
    return _map_layout(figure, f"Dwelling prices, 1 January {year} (mean per 1 km cell)")


def population_map(cells: pd.DataFrame, year: int) -> go.Figure:
    """Persons per km² on the 1 km grid in ``year`` (log colour scale), EPSG:25833 km."""
    density, easting_km, northing_km = _raster(cells, year, "population")
    with np.errstate(divide="ignore"):
        log_density = np.where(density > 0, np.log10(density), np.nan)
    ticks = [1, 10, 100, 1000, 10000]
    figure = go.Figure(
        go.Heatmap(
            z=log_density,
            x=easting_km,
            y=northing_km,
            customdata=density,
            colorscale="Viridis",
            colorbar={
                "title": "persons per km²",
                "tickvals": np.log10(ticks),
                "ticktext": [f"{t:,}" for t in ticks],
            },
            hovertemplate="E %{x} km, N %{y} km<br>%{customdata:,.0f} persons<extra></extra>",
        )
    )
    return _map_layout(figure, f"Where people live, 1 January {year} (1 km cells)")


def region_series(indicators: pd.DataFrame) -> go.Figure:
    """Region totals over the years, one small chart per indicator."""
    region = indicators[indicators["kommunenummer"] == "region"]
    figure = make_subplots(rows=3, cols=3, subplot_titles=[title for _, title in SERIES])
    for i, (name, _) in enumerate(SERIES):
        rows = region[region["indicator"] == name]
        figure.add_trace(
            go.Scatter(x=rows["year"], y=rows["value"], mode="lines+markers", name=name),
            row=i // 3 + 1,
            col=i % 3 + 1,
        )
    figure.update_xaxes(dtick=1, tickformat="d")
    figure.update_layout(title="Region totals", showlegend=False, height=900)
    return figure


def write_report(run: StoredRun) -> Path:
    """Write ``report.html`` into the run folder (atomically) and return its path."""
    cells = run.table("cells")
    indicators = run.table("indicators")
    manifest = run.manifest
    parts = [
        f"<h1>{manifest['scenario_name']}: seed {manifest['seed']}, scale {manifest['scale']}, "
        f"{manifest['start']}-{manifest['end']}</h1><p>Run {run.run_id}</p>",
        population_map(cells, int(cells["year"].max())).to_html(
            full_html=False, include_plotlyjs=True
        ),
        price_map(cells, int(cells["year"].max())).to_html(full_html=False, include_plotlyjs=False),
        region_series(indicators).to_html(full_html=False, include_plotlyjs=False),
    ]
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{}</title></head>"
        "<body>{}</body></html>"
    )
    target = run.path / "report.html"
    staging = target.with_suffix(f".tmp-{os.getpid()}")
    staging.write_text(html.format(run.run_id, "\n".join(parts)), encoding="utf-8")
    staging.replace(target)
    return target
