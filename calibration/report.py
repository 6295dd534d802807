"""The calibration report: how well a fit meets its targets, as an offline page with its tables.

``osloregion calibrate`` ends by writing a folder of its own (``write_report``) with

* ``report.html``: the headline (targets met before and after at each scale, objective, code
  and data hashes, time taken), the tables of the fitted and of the validation targets over
  the fit's window and the report's horizon, and figures of the errors against their
  tolerances, of the fitted parameters against their priors, of municipal growth against
  2019-2024, of the region's series and of the location fixed point's rounds;
* the tables behind it: ``targets.parquet``, ``growth.parquet``, ``series.parquet`` (the
  long tables of ``calibration.assess.Assessment``), ``parameters.parquet``
  (``parameter_table``) and ``fit.json`` (the fit's metadata, as in ``calibrated.toml``).

The page is self-contained (plotly.js embedded once, no map tiles), so it opens offline.
The folder is written next to its place and renamed into it, so a failure leaves nothing
half-written, and an existing folder is never overwritten.
"""

from __future__ import annotations

import html
import json
import math
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from calibration.assess import Assessment, summary
from calibration.catalogue import ROLES, UncertainParameter, file_value
from calibration.targets import TargetSpec, Window
from model.parameters import PARAMETERS_DIR

REPORT_FILE = "report.html"
STATE_ORDER = ("before", "after")
STATE_TITLES = {"before": "Before", "after": "After"}
STATE_COLOURS = {"before": "#8c8c8c", "after": "#1f77b4"}
OTHER_COLOURS = ("#2ca02c", "#d62728", "#9467bd", "#8c564b")
SCALE_SYMBOLS = ("circle", "diamond", "square", "triangle-up")
OBSERVED_COLOUR = "#e6550d"
VALIDATION_HEADING = "Validation targets (not used in fitting)"
# Region series drawn: indicator, title, axis title, how to show it.
REGION_SERIES = (
    ("population", "Population (1 January)", "persons", "level"),
    ("vacancy_rate", "Vacancy rate", "% of dwellings", "percent"),
    ("mean_price_nok_per_m2", "Mean price per m²", "index, base year = 100", "index"),
    ("jobs", "Jobs (1 January)", "jobs", "level"),
    ("dwellings_built", "Dwellings built", "dwellings a year", "level"),
    ("low_income_households_share", "Low-income households", "% of households", "percent"),
)
PROJECTION = "population_projected_ssb"
TOP_LEGEND = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; color: #222; }
h1 { margin-bottom: 0.2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; vertical-align: top; }
th { background: #f3f3f3; }
td.number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.meta { color: #666; font-size: 0.85em; }
.band { color: #777; font-size: 0.85em; }
.met { color: #2a7d2a; font-weight: bold; }
.missed { color: #c0392b; font-weight: bold; }
code { font-size: 0.9em; }
"""


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows: the fit's metadata, the targets and their assessment.

    ``fit`` is the metadata written to ``calibrated.toml``'s ``[fit]`` table; ``parameters``
    is ``parameter_table`` of the catalogue and the fit's overlay; ``location_rounds`` is the
    history of the location fixed point (``calibration.constants.LocationRound``).
    """

    fit: dict
    specs: list[TargetSpec]
    window: Window
    assessment: Assessment
    parameters: pd.DataFrame
    location_rounds: list


# --- numbers for people ---------------------------------------------------------------------


def _finite(value: Any) -> bool:
    """Whether ``value`` is a real, finite number."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def number(value: Any) -> str:
    """A number as people read it: thousands separated, 1-2 decimals, "–" when missing.

    Values under 1 keep two significant digits and at least two decimals (0.012, 0.35, 0.20),
    so small errors stay visible.
    """
    if not _finite(value):
        return "–"
    value = float(value)
    size = abs(value)
    if size == 0:
        return "0"
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    if size >= 1:
        return f"{value:.2f}"
    decimals = max(2, 1 - math.floor(math.log10(size)))
    return f"{value:.{decimals}f}"


def _given(value: Any) -> str:
    """A configured number (a tolerance, a prior's bound) as it was written: 0.05, 20000."""
    return f"{float(value):g}" if _finite(value) else "–"


def _text(value: Any) -> str:
    """Any value as escaped HTML text ("–" when empty)."""
    if value is None or value == "":
        return "–"
    return html.escape(str(value))


def _date(value: Any) -> str:
    """``20250131`` as 2025-01-31; anything else as it is."""
    text = str(value or "")
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


# --- the parameter table ----------------------------------------------------------------------


def _overlay_value(overlay: Mapping, file_name: str, field: str) -> Any:
    """The overlay's value of ``file_name`` / dotted ``field``; None when it has none."""
    fields = overlay.get(file_name, {})
    if field in fields:
        return fields[field]
    value: Any = fields
    for name in field.split("."):
        if not isinstance(value, Mapping) or name not in value:
            return None
        value = value[name]
    return value


def _scalar(value: Any) -> float:
    """``value`` as a float, NaN for a table or anything not a number."""
    if isinstance(value, Mapping) or not _finite(value):
        return float("nan")
    return float(value)


def parameter_table(
    catalogue: list[UncertainParameter],
    overlay: dict,
    parameters_dir: Path = PARAMETERS_DIR,
) -> pd.DataFrame:
    """One row per catalogue entry: its prior, its file value and its calibrated value.

    ``overlay`` maps a parameter file to its dotted fields and values, as ``calibrated.toml``'s
    ``values`` table. The file value is the parameter file's own (without the calibrated
    overlay); the calibrated value is the overlay's where it has the field, else the file
    value. Solved (table by municipality) entries have no single value: their rows give the
    number of municipalities and the min, median and max of the overlay's table instead (NaN
    when the overlay has none).
    """
    rows = []
    for parameter in catalogue:
        low, high = parameter.prior
        calibrated = _overlay_value(overlay, parameter.file, parameter.field)
        row: dict[str, Any] = {
            "name": parameter.name,
            "file": parameter.file,
            "field": parameter.field,
            "unit": parameter.unit,
            "role": parameter.role,
            "source": parameter.source,
            "prior_low": float(low),
            "prior_high": float(high),
            "file_value": float("nan"),
            "calibrated_value": float("nan"),
            "n_municipalities": pd.NA,
            "value_min": float("nan"),
            "value_median": float("nan"),
            "value_max": float("nan"),
        }
        if parameter.role == "solved":
            if isinstance(calibrated, Mapping) and calibrated:
                values = np.array([float(v) for v in calibrated.values()])
                row["n_municipalities"] = len(values)
                row["value_min"] = float(values.min())
                row["value_median"] = float(np.median(values))
                row["value_max"] = float(values.max())
        else:
            row["file_value"] = _scalar(file_value(parameter, parameters_dir))
            row["calibrated_value"] = (
                row["file_value"] if calibrated is None else _scalar(calibrated)
            )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
    if "n_municipalities" in table:
        table["n_municipalities"] = table["n_municipalities"].astype("Int64")
    return table


# --- what the tables say ----------------------------------------------------------------------


def _states(assessment: Assessment) -> list[str]:
    """The states of the assessment, "before" and "after" first."""
    present = list(dict.fromkeys(assessment.targets["state"]))
    return [s for s in STATE_ORDER if s in present] + [s for s in present if s not in STATE_ORDER]


def _scales(assessment: Assessment) -> list[float]:
    """The scales of the assessment, smallest first."""
    return sorted({float(s) for s in assessment.targets["scale"]})


def _colour(state: str, states: list[str]) -> str:
    """A state's colour (grey before, blue after, others from a short list)."""
    return STATE_COLOURS.get(state, OTHER_COLOURS[states.index(state) % len(OTHER_COLOURS)])


def _title(state: str) -> str:
    """A state's name for people."""
    return STATE_TITLES.get(state, state.capitalize())


def _indexed(table: pd.DataFrame) -> pd.DataFrame:
    """``calibration.assess.summary`` indexed by state, scale and target (met added)."""
    table = table.assign(
        scale=table["scale"].astype(float),
        met=table["error_mean"] <= table["tolerance"],
    )
    return table.set_index(["state", "scale", "target"]).sort_index()


def _summaries(data: ReportData) -> dict[int, pd.DataFrame]:
    """Indexed summaries of the fit's window and of the report's horizon."""
    horizons = dict.fromkeys((data.window.fit_end_year, data.window.report_end_year))
    return {horizon: _indexed(summary(data.assessment, horizon)) for horizon in horizons}


# --- headline ---------------------------------------------------------------------------------


def _met_counts(table: pd.DataFrame, state: str, scale: float, names: list[str]) -> str:
    """How many targets of ``names`` ``state`` meets at ``scale``, as "m of n" ("–" if none)."""
    key = [(state, scale, name) for name in names if (state, scale, name) in table.index]
    if not key:
        return "–"
    met = int(table.loc[key, "met"].sum())
    return f"{met} of {len(key)}"


def _headline(data: ReportData, summaries: dict[int, pd.DataFrame]) -> str:
    """The page's opening: date, targets met, objective, code, data, optimiser and time."""
    fit = data.fit
    states, scales = _states(data.assessment), _scales(data.assessment)
    fitted = [spec.name for spec in data.specs if spec.fitted]
    validation = [spec.name for spec in data.specs if not spec.fitted]
    header = "".join(
        f"<th colspan='{len(scales)}'>To {horizon} ({label})</th>"
        for horizon, label in _horizon_labels(data.window).items()
    )
    scale_header = "".join(f"<th>scale {scale:g}</th>" for _ in summaries for scale in scales)
    rows = []
    for state in states:
        for group, names in (("fitted", fitted), ("validation", validation)):
            if not names:
                continue
            cells = "".join(
                f"<td class='number'>{_met_counts(summaries[horizon], state, scale, names)}</td>"
                for horizon in summaries
                for scale in scales
            )
            rows.append(f"<tr><th>{_title(state)}</th><td>{group} targets</td>{cells}</tr>")
    met_table = (
        "<table><tr><th rowspan='2'>State</th><th rowspan='2'>Targets</th>"
        f"{header}</tr><tr>{scale_header}</tr>{''.join(rows)}</table>"
    )
    code = fit.get("code") or {}
    seconds = fit.get("seconds")
    minutes = f"{float(seconds) / 60:.1f} min" if _finite(seconds) else "–"
    seeds = fit.get("report_seeds") or sorted(set(data.assessment.targets["seed"]))
    settings = fit.get("settings") or {}
    settings_text = ", ".join(f"{key} = {_plain_text(value)}" for key, value in settings.items())
    facts = [
        ("Date", _text(_date(fit.get("date")))),
        ("Objective (fitted targets)", _objective(fit)),
        (
            "Optimiser",
            f"{_text(fit.get('optimiser'))} <span class='meta'>{_text(settings_text)}</span>",
        ),
        ("Evaluations", _text(fit.get("evaluations"))),
        ("Report seeds", _text(", ".join(str(seed) for seed in seeds))),
        ("Report scales", _text(", ".join(f"{scale:g}" for scale in scales))),
        ("Time taken", minutes),
        ("Code commit", f"<code>{_text(code.get('git_commit'))}</code>"),
        ("Code hash (SHA-256)", f"<code>{_text(code.get('source_sha256'))}</code>"),
        ("Data hash (SHA-256)", f"<code>{_text(fit.get('data_sha256'))}</code>"),
    ]
    fact_rows = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in facts)
    return (
        f"<h1>Calibration report, {_text(_date(fit.get('date')))}</h1>"
        f"<p class='meta'>The nullalternativ from {data.window.base_year}, fitted to "
        f"{data.window.fit_end_year} and reported to {data.window.report_end_year}. A target "
        "counts as met at a scale when its mean error over the seeds is within its tolerance."
        f"</p><h2>Targets met</h2>{met_table}<table>{fact_rows}</table>"
    )


def _plain_text(value: Any) -> str:
    """A setting's value, lists without brackets."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_plain_text(item) for item in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _objective(fit: dict) -> str:
    """The objective before and after, and the reduction."""
    before, after = fit.get("objective_before"), fit.get("objective_after")
    text = f"{number(before)} before, {number(after)} after"
    if _finite(before) and _finite(after) and float(before) > 0:
        text += f" ({100 * (1 - float(after) / float(before)):.0f} % lower)"
    return text


def _horizon_labels(window: Window) -> dict[int, str]:
    """The two horizons with their names (one when they coincide)."""
    labels = {window.report_end_year: "report horizon"}
    labels[window.fit_end_year] = "fit window"
    return dict(sorted(labels.items()))


# --- target tables ----------------------------------------------------------------------------


def _error_cell(table: pd.DataFrame, key: tuple) -> str:
    """Mean error with its 5-95 % band over seeds and ✓/✗."""
    if key not in table.index:
        return "<td class='number'>–</td>"
    row = table.loc[key]
    mark = "<span class='met'>✓</span>" if row["met"] else "<span class='missed'>✗</span>"
    band = f"<span class='band'>({number(row['error_p05'])}–{number(row['error_p95'])})</span>"
    return f"<td class='number'>{number(row['error_mean'])} {band} {mark}</td>"


def _value_cell(table: pd.DataFrame, key: tuple, column: str) -> str:
    """One number of the summary, or "–"."""
    value = table.loc[key, column] if key in table.index else None
    return f"<td class='number'>{number(value)}</td>"


def _observed(table: pd.DataFrame, states: list[str], scale: float, name: str) -> Any:
    """The observed value of a target (the same for every state) at ``scale``."""
    for state in states:
        if (state, scale, name) in table.index:
            return table.loc[(state, scale, name), "observed"]
    return None


def target_table(data: ReportData, specs: list[TargetSpec], summaries: dict) -> str:
    """HTML table of ``specs``: error, band, model and observed per state, scale and horizon."""
    states, scales = _states(data.assessment), _scales(data.assessment)
    labels = _horizon_labels(data.window)
    per_horizon = 1 + 2 * len(states)
    top = "".join(
        f"<th colspan='{per_horizon}'>To {horizon} ({label})</th>"
        for horizon, label in labels.items()
    )
    state_header = "".join(
        "<th rowspan='2'>Observed</th>"
        + "".join(f"<th colspan='2'>{_title(state)}</th>" for state in states)
        for _ in labels
    )
    column_header = "".join(
        "<th>error (5-95 %) met</th><th>model</th>" for _ in labels for _ in states
    )
    body = []
    for spec in specs:
        about = (
            f"<b>{_text(spec.title)}</b><div class='meta'>{_text(spec.source)} · "
            f"{_text(spec.years)} · {_text(spec.geography)}</div>"
        )
        for i, scale in enumerate(scales):
            cells = [f"<td class='number'>{scale:g}</td>"]
            for horizon in labels:
                table = summaries[horizon]
                observed = _observed(table, states, scale, spec.name)
                cells.append(f"<td class='number'>{number(observed)}</td>")
                for state in states:
                    key = (state, scale, spec.name)
                    cells.append(_error_cell(table, key))
                    cells.append(_value_cell(table, key, "model_mean"))
            lead = ""
            if i == 0:
                span = len(scales)
                lead = (
                    f"<td rowspan='{span}'>{about}</td><td rowspan='{span}'>{_text(spec.unit)}</td>"
                    f"<td rowspan='{span}' class='number'>{_given(spec.tolerance)}</td>"
                )
            body.append(f"<tr>{lead}{''.join(cells)}</tr>")
    return (
        "<table><tr><th rowspan='3'>Target</th><th rowspan='3'>Unit</th>"
        "<th rowspan='3'>Tolerance</th><th rowspan='3'>Scale</th>"
        f"{top}</tr><tr>{state_header}</tr><tr>{column_header}</tr>{''.join(body)}</table>"
    )


# --- figures ----------------------------------------------------------------------------------


def _log_axis(values: Iterable[float]) -> bool:
    """Whether positive values span more than two decades (then a log axis reads better)."""
    positive = [v for v in values if _finite(v) and v > 0]
    return len(positive) > 1 and max(positive) / min(positive) > 100


def _score_height(targets: int) -> int:
    """The score figure's height in pixels for ``targets`` rows."""
    return 280 + 36 * targets


def score_figure(data: ReportData, table: pd.DataFrame) -> go.Figure:
    """Each target's error / tolerance, before and after, with the 5-95 % band over seeds."""
    states, scales = _states(data.assessment), _scales(data.assessment)
    groups = [
        ("Fitted targets", [spec for spec in data.specs if spec.fitted]),
        ("Validation targets (not used in fitting)", [s for s in data.specs if not s.fitted]),
    ]
    groups = [(title, specs) for title, specs in groups if specs]
    sizes = [len(specs) for _, specs in groups] or [1]
    figure = make_subplots(
        rows=max(len(groups), 1),
        cols=1,
        shared_xaxes=True,
        row_heights=[size / sum(sizes) for size in sizes],
        vertical_spacing=min(0.3, 80 / _score_height(sum(sizes))),
        subplot_titles=[title for title, _ in groups],
    )
    combinations = [(state, scale) for state in states for scale in scales]
    step = 0.7 / max(len(combinations), 1)
    floor = 1e-3
    scores = []
    for row, (_, specs) in enumerate(groups, start=1):
        for k, (state, scale) in enumerate(combinations):
            x, y, plus, minus, text = [], [], [], [], []
            for i, spec in enumerate(specs):
                key = (state, scale, spec.name)
                if key not in table.index or not _finite(table.loc[key, "error_mean"]):
                    continue
                entry = table.loc[key]
                score = float(entry["error_mean"]) / spec.tolerance
                low = float(entry["error_p05"]) / spec.tolerance
                high = float(entry["error_p95"]) / spec.tolerance
                x.append(max(score, floor))
                y.append(i - 0.35 + (k + 0.5) * step)
                plus.append(max(high - score, 0.0))
                minus.append(max(score - max(low, floor), 0.0))
                scores.extend([score, low, high])
                text.append(
                    f"{spec.title}<br>{_title(state)}, scale {scale:g}: error "
                    f"{number(entry['error_mean'])} ({number(entry['error_p05'])}–"
                    f"{number(entry['error_p95'])}) {spec.unit}; tolerance "
                    f"{_given(spec.tolerance)}; error / tolerance {number(score)}"
                )
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="markers",
                    name=f"{_title(state)}, scale {scale:g}",
                    legendgroup=f"{state}-{scale}",
                    showlegend=row == 1,
                    marker={
                        "color": _colour(state, states),
                        "symbol": SCALE_SYMBOLS[scales.index(scale) % len(SCALE_SYMBOLS)],
                        "size": 9,
                    },
                    error_x={"type": "data", "array": plus, "arrayminus": minus, "width": 3},
                    hovertext=text,
                    hoverinfo="text",
                ),
                row=row,
                col=1,
            )
        figure.add_trace(
            go.Scatter(
                x=[1, 1],
                y=[-0.5, len(specs) - 0.5],
                mode="lines",
                line={"color": "#c0392b", "dash": "dash", "width": 1},
                name="at the tolerance",
                showlegend=row == 1,
                hoverinfo="skip",
            ),
            row=row,
            col=1,
        )
        figure.update_yaxes(
            tickvals=list(range(len(specs))),
            ticktext=[spec.title for spec in specs],
            range=[len(specs) - 0.5, -0.5],
            automargin=True,
            row=row,
            col=1,
        )
    log = _log_axis(scores)
    figure.update_xaxes(type="log" if log else "linear", showticklabels=True)
    if not log:
        figure.update_xaxes(rangemode="tozero")
    figure.update_xaxes(
        title_text=f"error / tolerance (1 = at the tolerance), to {data.window.fit_end_year}",
        row=max(len(groups), 1),
        col=1,
    )
    figure.update_layout(
        title="Targets: error against tolerance (mean over seeds, 5-95 % band)",
        height=_score_height(sum(sizes)),
    )
    return figure


def parameter_figure(parameters: pd.DataFrame) -> go.Figure:
    """Fitted parameters within their priors (0 = low end, 1 = high end): file and calibrated."""
    fitted = parameters[parameters["role"] == "fitted"].reset_index(drop=True)
    width = fitted["prior_high"] - fitted["prior_low"]
    labels = [
        f"{row.name} [{_given(row.prior_low)}–{_given(row.prior_high)}]"
        for row in fitted.itertuples()
    ]
    figure = go.Figure(
        go.Bar(
            x=[1.0] * len(fitted),
            y=labels,
            base=0.0,
            orientation="h",
            marker={"color": "#e8e8e8"},
            name="prior range",
            hoverinfo="skip",
        )
    )
    for column, title, symbol, colour in (
        ("file_value", "value in the parameter file", "circle-open", "#555555"),
        ("calibrated_value", "calibrated value", "diamond", STATE_COLOURS["after"]),
    ):
        figure.add_trace(
            go.Scatter(
                x=(fitted[column] - fitted["prior_low"]) / width,
                y=labels,
                mode="markers",
                name=title,
                marker={"symbol": symbol, "size": 12, "color": colour, "line": {"width": 2}},
                hovertext=[
                    f"{row.name}: {title} {number(getattr(row, column))} ({row.unit})"
                    for row in fitted.itertuples()
                ],
                hoverinfo="text",
            )
        )
    figure.update_xaxes(
        range=[-0.05, 1.05], title_text="position in the prior range (0 = low end, 1 = high end)"
    )
    figure.update_yaxes(autorange="reversed", automargin=True)
    figure.update_layout(
        title="Fitted parameters against their priors",
        height=220 + 45 * max(len(fitted), 1),
        legend=TOP_LEGEND,
        margin={"t": 110},
        bargap=0.5,
    )
    return figure


def parameter_tables(parameters: pd.DataFrame) -> str:
    """HTML tables of the catalogue by role: fitted, solved (min/median/max), assumption."""
    columns = {
        "fitted": ("Prior", "File value", "Calibrated value"),
        "solved": ("Prior", "Municipalities", "Min", "Median", "Max"),
        "assumption": ("Prior", "Value"),
    }
    titles = {
        "fitted": "Fitted by the optimiser",
        "solved": "Solved per municipality (the calibrated table)",
        "assumption": "Assumptions (kept at their file value)",
    }
    parts = []
    for role in (*ROLES, *sorted(set(parameters["role"]) - set(ROLES))):
        rows = parameters[parameters["role"] == role]
        if rows.empty:
            continue
        heads = columns.get(role, ("Prior", "Value"))
        body = []
        for row in rows.itertuples():
            prior = f"{_given(row.prior_low)}–{_given(row.prior_high)}"
            if role == "fitted":
                values = (row.file_value, row.calibrated_value)
            elif role == "solved":
                count = "–" if pd.isna(row.n_municipalities) else f"{int(row.n_municipalities)}"
                values = (count, row.value_min, row.value_median, row.value_max)
            else:
                values = (row.calibrated_value,)
            cells = "".join(
                f"<td class='number'>{v if isinstance(v, str) else number(v)}</td>" for v in values
            )
            body.append(
                f"<tr><td><b>{_text(row.name)}</b><div class='meta'>{_text(row.file)}: "
                f"{_text(row.field)}</div></td><td>{_text(row.unit)}</td>"
                f"<td class='number'>{prior}</td>{cells}<td>{_text(row.source)}</td></tr>"
            )
        head = "".join(f"<th>{title}</th>" for title in heads)
        parts.append(
            f"<h3>{titles.get(role, role)}</h3><table><tr><th>Parameter</th><th>Unit</th>"
            f"{head}<th>Source</th></tr>{''.join(body)}</table>"
        )
    return "".join(parts)


def growth_figure(data: ReportData) -> go.Figure:
    """Municipal growth over the fit's window (model) against 2019-2024 (observed)."""
    growth = data.assessment.growth
    states = _states(data.assessment)
    scale = max(_scales(data.assessment))
    growth = growth[growth["scale"].astype(float) == scale]
    figure = go.Figure()
    largest = float(growth["population"].max()) if not growth.empty else 1.0
    values = []
    for state in states:
        rows = growth[growth["state"] == state]
        if rows.empty:
            continue
        mean = rows.groupby("kommunenummer", sort=True)[
            ["population", "model_pct", "observed_pct"]
        ].mean()
        values.extend([*mean["model_pct"], *mean["observed_pct"]])
        figure.add_trace(
            go.Scatter(
                x=mean["observed_pct"],
                y=mean["model_pct"],
                mode="markers",
                name=_title(state),
                customdata=np.column_stack([mean.index, mean["population"]]),
                marker={
                    "size": mean["population"],
                    "sizemode": "area",
                    "sizeref": 2.0 * largest / 45.0**2,
                    "sizemin": 3,
                    "color": _colour(state, states),
                    "opacity": 0.7,
                    "line": {"width": 0.5, "color": "white"},
                },
                hovertemplate=(
                    "%{customdata[0]} (%{customdata[1]:,.0f} inhabitants)<br>observed "
                    "%{x:.2f} % a year, model %{y:.2f} % a year<extra>" + _title(state) + "</extra>"
                ),
            )
        )
    finite = [v for v in values if _finite(v)]
    if finite:
        low, high = min(finite), max(finite)
        pad = 0.05 * (high - low or 1.0)
        figure.add_trace(
            go.Scatter(
                x=[low - pad, high + pad],
                y=[low - pad, high + pad],
                mode="lines",
                line={"color": "#333", "dash": "dot", "width": 1},
                name="model = observed",
                hoverinfo="skip",
            )
        )
    window = data.window
    figure.update_layout(
        title=(
            f"Municipal population growth: model {window.base_year}-{window.fit_end_year} "
            f"(mean over seeds, scale {scale:g}) against {window.base_year - 5}-"
            f"{window.base_year}; marker area by population"
        ),
        xaxis_title=f"observed growth {window.base_year - 5}-{window.base_year}, % a year",
        yaxis_title=f"model growth {window.base_year}-{window.fit_end_year}, % a year",
        height=650,
    )
    return figure


def _bands(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and 5-95 % band over seeds, by year."""
    grouped = rows.groupby("year")["value"]
    return pd.DataFrame(
        {"mean": grouped.mean(), "p05": grouped.quantile(0.05), "p95": grouped.quantile(0.95)}
    ).sort_index()


def _shown(rows: pd.DataFrame, how: str, base_year: int) -> pd.DataFrame:
    """A series' rows (seed, year, value) as shown: level, per cent or index (base = 100)."""
    rows = rows.dropna(subset=["value"])
    if how == "percent":
        return rows.assign(value=100 * rows["value"])
    if how == "index":
        parts = []
        for _, seed_rows in rows.groupby("seed"):
            seed_rows = seed_rows.sort_values("year")
            at_base = seed_rows.loc[seed_rows["year"] == base_year, "value"]
            base = at_base.iloc[0] if not at_base.empty else seed_rows["value"].iloc[0]
            parts.append(seed_rows.assign(value=100 * seed_rows["value"] / base))
        return pd.concat(parts) if parts else rows
    return rows


def _hex_rgba(colour: str, alpha: float) -> str:
    """``#rrggbb`` as an rgba() string."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def series_figure(data: ReportData) -> go.Figure:
    """Region series over the years, before and after, with their 5-95 % bands over seeds."""
    series = data.assessment.series
    states = _states(data.assessment)
    scale = max(_scales(data.assessment))
    series = series[series["scale"].astype(float) == scale]
    columns = 3
    figure = make_subplots(
        rows=math.ceil(len(REGION_SERIES) / columns),
        cols=columns,
        subplot_titles=[title for _, title, _, _ in REGION_SERIES],
        horizontal_spacing=0.08,
        vertical_spacing=0.14,
    )
    base_year = data.window.base_year
    for i, (indicator, _, axis_title, how) in enumerate(REGION_SERIES):
        row, col = i // columns + 1, i % columns + 1
        value_format = ",.0f" if how == "level" else ".2f" if how == "percent" else ".1f"
        for state in states:
            rows = series[(series["state"] == state) & (series["indicator"] == indicator)]
            if rows.empty:
                continue
            band = _bands(_shown(rows, how, base_year))
            colour = _colour(state, states)
            years = list(band.index)
            figure.add_trace(
                go.Scatter(
                    x=years + years[::-1],
                    y=list(band["p95"]) + list(band["p05"])[::-1],
                    mode="lines",
                    fill="toself",
                    fillcolor=_hex_rgba(colour, 0.2),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=state,
                ),
                row=row,
                col=col,
            )
            figure.add_trace(
                go.Scatter(
                    x=years,
                    y=band["mean"],
                    mode="lines+markers",
                    name=f"{_title(state)} (mean, 5-95 % band)",
                    legendgroup=state,
                    showlegend=i == 0,
                    line={"color": colour},
                    marker={"size": 4},
                    hovertemplate=f"%{{x}}: %{{y:{value_format}}}<extra>{_title(state)}</extra>",
                ),
                row=row,
                col=col,
            )
        if indicator == "population":
            projected = series[series["indicator"] == PROJECTION]
            if not projected.empty:
                line = projected.groupby("year")["value"].mean().sort_index()
                figure.add_trace(
                    go.Scatter(
                        x=list(line.index),
                        y=line,
                        mode="lines",
                        name="SSB projection (MMMM)",
                        line={"color": OBSERVED_COLOUR, "dash": "dash"},
                        hovertemplate="%{x}: %{y:,.0f}<extra>SSB projection</extra>",
                    ),
                    row=row,
                    col=col,
                )
        figure.update_yaxes(title_text=axis_title, tickformat=",", row=row, col=col)
        figure.update_xaxes(dtick=2, tickformat="d", row=row, col=col)
    figure.update_layout(
        title=f"Region over the years (scale {scale:g}, mean over seeds and 5-95 % band)",
        height=760,
        legend={"orientation": "h", "y": -0.12},
    )
    return figure


def location_figure(rounds: list) -> go.Figure:
    """The location fixed point's rounds: how far growth and job growth are from the pattern."""
    numbers = [r.round_number for r in rounds]
    figure = go.Figure()
    for attribute, title, colour in (
        ("population_error_pp", "population growth", STATE_COLOURS["after"]),
        ("jobs_error_pp", "job growth pattern", OBSERVED_COLOUR),
    ):
        figure.add_trace(
            go.Scatter(
                x=numbers,
                y=[getattr(r, attribute) for r in rounds],
                mode="lines+markers",
                name=title,
                line={"color": colour},
                hovertemplate="round %{x}: %{y:.2f} pp a year<extra>" + title + "</extra>",
            )
        )
    figure.update_layout(
        title="Location constants: the fixed point's rounds (all passes)",
        xaxis_title="round",
        yaxis_title="weighted mean |growth - target|, pp a year",
        height=380,
        legend={"orientation": "h", "y": -0.25},
    )
    figure.update_xaxes(tickformat="d", dtick=1)
    figure.update_yaxes(rangemode="tozero")
    return figure


# --- the page and its folder --------------------------------------------------------------


def _figure_html(figure: go.Figure) -> str:
    """A figure as a div (plotly.js is embedded once in the page's head)."""
    return figure.to_html(full_html=False, include_plotlyjs=False, config=PLOT_CONFIG)


def report_html(data: ReportData) -> str:
    """The whole report page (self-contained: plotly.js embedded once, no external files)."""
    summaries = _summaries(data)
    fit_table = summaries[data.window.fit_end_year]
    fitted = [spec for spec in data.specs if spec.fitted]
    validation = [spec for spec in data.specs if not spec.fitted]
    parts = [_headline(data, summaries), "<h2>Fitted targets</h2>"]
    parts.append(target_table(data, fitted, summaries) if fitted else "<p>None.</p>")
    parts.append(f"<h2>{VALIDATION_HEADING}</h2>")
    parts.append(
        "<p class='meta'>These targets are measured on the same runs but play no part in the "
        "fit's objective.</p>"
        + (target_table(data, validation, summaries) if validation else "<p>None.</p>")
    )
    parts.append("<h2>Errors against tolerances</h2>")
    parts.append(_figure_html(score_figure(data, fit_table)))
    parts.append("<h2>Parameters</h2>")
    if (data.parameters["role"] == "fitted").any():
        parts.append(_figure_html(parameter_figure(data.parameters)))
    parts.append(parameter_tables(data.parameters))
    parts.append("<h2>Municipal growth</h2>")
    parts.append(_figure_html(growth_figure(data)))
    parts.append("<h2>The region over the years</h2>")
    parts.append(_figure_html(series_figure(data)))
    parts.append("<h2>Location constants</h2>")
    if data.location_rounds:
        parts.append(_figure_html(location_figure(data.location_rounds)))
    else:
        parts.append("<p>No rounds of the location fixed point were recorded.</p>")
    title = f"Calibration report {_date(data.fit.get('date'))}"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_text(title)}</title><style>{CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head>"
        f"<body>{''.join(parts)}</body></html>"
    )


def _json_ready(value: Any) -> Any:
    """``value`` with numpy scalars, tuples and paths made JSON's, NaN and inf as null."""
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_ready(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def write_report(data: ReportData, folder: Path) -> Path:
    """Write the report and its tables into ``folder`` (new); return the path of report.html.

    The files are written to a staging folder beside ``folder`` and renamed into place, so a
    failure leaves nothing half-written. An existing ``folder`` is refused (FileExistsError)
    and left as it was.
    """
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(
            f"{folder}: already exists; a calibration report is never overwritten"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.staging-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        data.assessment.targets.to_parquet(staging / "targets.parquet", index=False)
        data.assessment.growth.to_parquet(staging / "growth.parquet", index=False)
        data.assessment.series.to_parquet(staging / "series.parquet", index=False)
        data.parameters.to_parquet(staging / "parameters.parquet", index=False)
        (staging / "fit.json").write_text(
            json.dumps(_json_ready(data.fit), indent=2, ensure_ascii=False, allow_nan=False),
            encoding="utf-8",
        )
        (staging / REPORT_FILE).write_text(report_html(data), encoding="utf-8")
        if folder.exists():
            raise FileExistsError(
                f"{folder}: appeared while the report was written; it is left as it is"
            )
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder / REPORT_FILE
