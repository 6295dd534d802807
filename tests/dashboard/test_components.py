"""Dashboard pieces without a browser: backend, figures and components (``solara.render``)."""

from __future__ import annotations

import base64
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from dashboard import app, backend, chart, figures
from dashboard.i18n import strings, text
from scenarios.scenario import ScenarioError, load_scenario


def test_every_text_exists_in_both_languages():
    for section, entries in strings().items():
        for key, entry in entries.items():
            assert set(entry) == {"nb", "en"}, f"{section}.{key}"
            assert entry["nb"].strip() and entry["en"].strip(), f"{section}.{key}"
    assert text("pages.compare", "nb") == "Sammenlign" and text("pages.compare", "en") == "Compare"


def test_uploaded_text_is_checked_and_errors_name_the_file_line_and_field():
    with pytest.raises(ScenarioError) as error:
        backend.check_scenario_text('name = "x"\n[rail]\nringeriksbanen = 2070\n', "mine.toml")
    message = str(error.value)
    assert message.startswith("mine.toml, line 3: field 'rail.ringeriksbanen' is 2070")
    scenario = backend.check_scenario_text('name = "ok"\n[transport]\npt_fare_factor = 0.5\n')
    assert scenario["transport"]["pt_fare_factor"] == 0.5 and scenario["extends"] == ["baseline"]


def test_edited_levers_become_a_scenario_file_that_round_trips(tmp_path: Path):
    values = {"transport.road_price_nok_per_km": 1.5, "growth.population_growth_factor": None}
    scenario = backend.scenario_from_levers("mitt", "ringeriksbanen", values)
    path = backend.scenario_file(scenario, tmp_path)
    resolved = load_scenario(str(path))
    assert resolved["transport"] == {"road_price_nok_per_km": 1.5}
    assert resolved["rail"]["ringeriksbanen"] == 2032  # inherited
    assert backend.scenario_file(scenario, tmp_path) == path  # same content, same file
    assert not list(path.parent.glob("*.incomplete"))


def test_municipality_map_draws_every_municipality_and_zero_as_white():
    values = pd.Series(0.0, index=["0301", "3201", "3203"])
    figure = figures.municipality_map(values, {}, "t", diverging=True)
    fills = [trace for trace in figure.data if trace.fill == "toself"]
    assert len(fills) >= 3 and {trace.fillcolor for trace in fills} == {"rgb(247, 247, 247)"}
    names = {"0301": "Oslo"}
    figure = figures.municipality_map(pd.Series([1.0, -1.0], index=["0301", "3201"]), names, "t")
    assert any("Oslo: 1" in str(trace.text) for trace in figure.data)


def test_scenario_page_has_a_control_for_every_simple_lever():
    app.language.set("nb")
    _, rc = solara.render(app.ScenarioPage(), handle_error=False)
    labels = [w.widget.label for w in rc.find(v.TextField)] + [
        w.widget.label for w in rc.find(v.Select)
    ]
    labels += [w.widget.label for w in rc.find(v.Slider)]
    for lever in backend.simple_levers():
        assert any(label and label.startswith(lever.label_nb) for label in labels), lever.key


def test_language_switch_changes_the_navigation():
    app.language.set("nb")
    _, rc = solara.render(app.Layout(children=[]), handle_error=False)
    rc.find(v.Btn, children=["Sammenlign"]).assert_single()
    rc.find(v.Btn, children=["English"]).widget.click()
    rc.find(v.Btn, children=["Compare"]).assert_single()
    app.language.set("nb")


def test_workshop_page_shows_the_four_futures_with_their_stories():
    app.language.set("nb")
    _, rc = solara.render(app.WorkshopPage(), handle_error=False)
    futures = [name for name, s in backend.library().items() if "foresight" in s]
    assert len(futures) == 4
    buttons = rc.find(v.Btn, children=[text("workshop.choose", "nb")])
    assert len(buttons) == 4


def test_the_shipped_plotly_js_is_the_version_plotly_writes_figures_for():
    import plotly.offline

    bundle = chart.ASSETS_DIR / chart.PLOTLY_JS_FILE
    header = bundle.read_text(encoding="utf-8")[:200]
    assert f"v{plotly.offline.get_plotlyjs_version()}" in header
    assert chart.PLOTLY_JS_VERSION == plotly.offline.get_plotlyjs_version()
    assert chart.PLOTLY_JS_URL.endswith(chart.PLOTLY_JS_FILE)


def test_a_chart_sends_the_figure_as_json_with_its_traces():
    values = pd.Series([1.0, float("nan"), 3.0], index=[2024, 2025, 2026])
    figure = figures.lines({"modell": values}, "t")
    _, rc = solara.render(chart.Chart(figure), handle_error=False)
    widget = rc.find(chart.PlotlyChart).widget
    y = widget.figure["data"][0]["y"]  # plotly's typed-array JSON: dtype and base64 bytes
    values = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
    np.testing.assert_array_equal(values, [1.0, np.nan, 3.0])
    assert widget.figure["layout"]["title"]["text"] == "t"
    assert widget.plotly_url == chart.PLOTLY_JS_URL


def test_the_model_page_shows_the_calibration_headline_in_norwegian():
    from solara.components.datatable import DataTableWidget

    from dashboard.i18n import format_number

    fit = backend.calibration_fit()
    assert fit, "the shipped calibration is read through scenarios/"
    app.language.set("nb")
    _, rc = solara.render(app.CalibrationSummary(), handle_error=False)
    templates = [w.template for w in rc.find(v.VuetifyTemplate).widgets]
    markdown = " ".join(t for t in templates if isinstance(t, str))
    assert "Nullalternativet er tilpasset" in markdown
    assert f"{fit['date'][:4]}-{fit['date'][4:6]}-{fit['date'][6:8]}" in markdown
    table = rc.find(DataTableWidget).widget
    titles = [row["Mål"] for row in table.items]
    assert any(title.startswith("Befolkningsvekst per kommune") for title in titles)
    assert any("kontroll" in title for title in titles), "validation targets are marked"
    assert all(row["Avvik etter"].endswith(("✓", "✗")) for row in table.items)
    assert (
        format_number(1234.5, "nb", 1) == "1\u00a0234,5" and format_number(-0.5, "en", 1) == "-0.5"
    )
