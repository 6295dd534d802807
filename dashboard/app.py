"""The planners' dashboard: run, compare and present scenarios (``solara run dashboard.app``).

Pages: Scenario (levers from the catalogue, run, save and load files), Compare (maps,
bands, scorecard), Indeks Osloregionen (the region's indicators over time), Klimabudsjett
(reference, measure and target paths of a municipality), Workshop (the four Foresight
futures) and Model (what it is, sources, limits). Texts are in ``dashboard/strings.toml``;
bokmål is the default. State lives in ``solara.reactive`` variables, which Solara keeps per
browser session, so two sessions never see each other's unsaved work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import solara
import solara.lab

from dashboard import backend, figures, indeks
from dashboard.chart import Chart, PlotlyLoader
from dashboard.i18n import format_number, pick, strings, text
from scenarios.compare import (
    Comparison,
    ComparisonRequest,
    compare_scenarios,
    load_scorecard,
)
from scenarios.scenario import BASELINE, ScenarioError

RUNS_DIR = Path(os.environ.get("OSLOREGION_RUNS_DIR", "runs"))

language = solara.reactive("nb")
chosen = solara.reactive(BASELINE)  # the library scenario the Scenario page starts from
scenario_name = solara.reactive("mitt_scenario")
edits: solara.Reactive[dict[str, Any]] = solara.reactive({})
loaded: solara.Reactive[dict[str, Any] | None] = solara.reactive(None)  # an uploaded file
file_error = solara.reactive("")
run_message = solara.reactive("")
last_run: solara.Reactive[str | None] = solara.reactive(None)  # source of the last run
compared = solara.reactive(["ringeriksbanen"])
comparison: solara.Reactive[Comparison | None] = solara.reactive(None)
indicator = solara.reactive("population")
area = solara.reactive("region")
budget_municipality = solara.reactive("0301")
view_scenario = solara.reactive(BASELINE)
map_kind = solara.reactive("municipality")  # Compare: maps by "municipality" or "cell"
map_view = solara.reactive("difference")  # Compare: "difference" from the baseline or "level"
cell_column = solara.reactive("population")  # Compare: what the 1 km cell maps show


def t(key: str, **values: Any) -> str:
    """A text of the catalogue in the session's language."""
    return text(key, language.value, **values)


def names() -> dict[str, str]:
    """Municipality number -> name."""
    return backend.municipality_names()


# ---- running -------------------------------------------------------------------------------


def current_scenario() -> dict[str, Any]:
    """The scenario the Scenario page holds: the chosen one with the session's edits."""
    if loaded.value is not None:
        base = dict(loaded.value)
        values = {key: value for key, value in edits.value.items() if value is not None}
        scenario = backend.scenario_from_levers(base["name"], base.get("extends", BASELINE), {})
        for theme, table in base.items():
            if isinstance(table, dict) and theme not in ("title", "description", "foresight"):
                scenario[theme] = dict(table)
        for key, value in values.items():
            theme, lever = key.split(".", 1)
            scenario.setdefault(theme, {})[lever] = value
        return scenario
    return backend.scenario_from_levers(scenario_name.value, chosen.value, edits.value)


def source_of(scenario: dict[str, Any]) -> str:
    """What the runner is given: the library name if unedited, else a written file."""
    if loaded.value is None and not any(v is not None for v in edits.value.values()):
        return chosen.value
    return str(backend.scenario_file(scenario, RUNS_DIR))


@solara.lab.task
def run_task(scenario: dict[str, Any]) -> str:
    """Run the scenario at dashboard scale in a child process, with progress."""
    source = source_of(scenario)

    def progress(message: str, done: int, total: int) -> None:
        run_message.value = message
        if total:
            run_task.progress = 100.0 * done / total

    run = backend.run_scenario_process(source, RUNS_DIR, progress)
    last_run.value = source
    return run.run_id


@solara.lab.task
def compare_task(sources: list[str]) -> Comparison:
    """Compare the chosen scenarios with the baseline over the dashboard's seeds."""
    config = backend.settings()
    request = ComparisonRequest(
        scenarios=(BASELINE, *sources),
        seeds=config.seeds,
        scale=config.scale,
        start=config.start,
        end=config.end,
        workers=2,
    )
    result = compare_scenarios(request, RUNS_DIR, log=lambda line: run_message.set(line))
    comparison.value = result
    return result


# ---- layout --------------------------------------------------------------------------------


def _warm_up_workers() -> None:
    """Start the run workers when a session opens, so its first run does not wait for them."""
    backend.warm_up()


solara.lab.on_kernel_start(_warm_up_workers)  # in the server only, not in solara.render


@solara.component
def Layout(children: list = []):  # noqa: B006 (Solara's layout signature)
    """Title, page links, the language switch and the page."""
    paths = ("/", "/compare", "/indeks", "/climate", "/workshop", "/model")
    keys = ("scenario", "compare", "indeks", "climate", "workshop", "model")
    solara.Style(WORKSHOP_CSS)  # once per session, not on every visit to the Workshop
    PlotlyLoader()
    with solara.Column(style={"padding": "12px"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text(t("app.title"), style={"font-size": "22px", "font-weight": "bold"})
            for path, key in zip(paths, keys, strict=True):
                with solara.Link(path):
                    solara.Button(t(f"pages.{key}"), text=True, classes=[f"nav-{key}"])
            solara.Button(
                t("app.language"),
                on_click=lambda: language.set("en" if language.value == "nb" else "nb"),
                classes=["language-switch"],
                outlined=True,
            )
        config = backend.settings()
        solara.Text(
            t("app.scale_note", scale=f"{config.scale * 100:g}", seeds=config.seeds),
            style={"color": "grey"},
        )
        solara.Column(children=children)


# ---- Scenario ------------------------------------------------------------------------------


@solara.component
def LeverControl(lever: Any, base: dict[str, Any]):
    """One control from the catalogue: label with unit, the range, the help text."""
    label = pick({"nb": lever.label_nb, "en": lever.label_en}, language.value)
    unit = pick({"nb": lever.unit_nb, "en": lever.unit_en}, language.value)
    help_text = pick({"nb": lever.help_nb, "en": lever.help_en}, language.value)
    current = edits.value.get(lever.key)
    value = current if current is not None else backend.lever_value(base, lever)

    def set_value(new: Any) -> None:
        edits.set({**edits.value, lever.key: new})

    full = f"{label} ({unit})" if unit else label
    if lever.kind == "choice":
        solara.Select(label=full, values=list(lever.choices), value=value, on_value=set_value)
    elif lever.kind == "year":
        catalogue = backend.catalogue()
        solara.SliderInt(
            full,
            value=int(value),
            min=catalogue.first_year,
            max=catalogue.last_year,
            on_value=set_value,
            thumb_label="always",
        )
    elif lever.kind == "integer":
        solara.InputInt(full, value=value, on_value=set_value, optional=True)
    else:
        solara.InputFloat(full, value=value, on_value=set_value, optional=True)
    solara.Text(help_text, style={"font-size": "12px", "color": "grey"})


@solara.component
def ScenarioPage():
    """Choose a scenario, change its levers, run it, save or load it as a file."""
    library = backend.library()
    base = loaded.value or library.get(chosen.value, library[BASELINE])
    with solara.Columns([1, 2]):
        with solara.Column():
            solara.Select(
                label=t("scenario.pick"),
                values=list(library),
                value=chosen.value,
                on_value=lambda name: (chosen.set(name), edits.set({}), loaded.set(None)),
            )
            scenario = library.get(chosen.value, {})
            solara.Markdown(f"**{pick(scenario.get('title'), language.value)}**")
            solara.Markdown(pick(scenario.get("description"), language.value))
            solara.InputText(t("scenario.name"), value=scenario_name)
            RunButton()
            RunControls(f"{scenario_name.value}.toml")
            solara.FileDrop(label=t("scenario.load"), on_file=on_upload, lazy=False)
            if file_error.value:
                solara.Error(f"{t('scenario.invalid')}: {file_error.value}", classes=["file-error"])
            elif loaded.value is not None:
                solara.Success(t("scenario.loaded", name=loaded.value["name"]))
        with solara.Column():
            solara.Markdown(f"### {t('scenario.levers')}")
            catalogue = backend.catalogue()
            for theme, titles in catalogue.themes.items():
                levers = [lv for lv in backend.simple_levers() if lv.theme == theme]
                if not levers:
                    continue
                with solara.Card(pick(titles, language.value)):
                    for lever in levers:
                        LeverControl(lever, base)


@solara.component
def RunButton():
    """Run the session's scenario; disabled while a run goes.

    Its own component, like ``RunControls``: they re-render with each progress step, the
    page with its lever controls does not.
    """
    solara.Button(
        t("scenario.run"),
        on_click=lambda: run_task(current_scenario()),
        disabled=run_task.pending,
        color="primary",
        classes=["run-button"],
    )


@solara.component
def RunControls(filename: str):
    """Progress while the session's run goes, how it ended, and the scenario as a file."""
    if run_task.pending:
        solara.ProgressLinear(run_task.progress or True)
        solara.Text(t("scenario.running", message=run_message.value))
    else:
        RunOutcome()
    solara.FileDownload(
        lambda: backend.scenario_text(current_scenario()),
        filename=filename,
        label=t("scenario.save"),
    )


@solara.component
def RunOutcome():
    """How the session's last run ended: done, failed with the model's error, or crashed."""
    if run_task.error:
        error = run_task.exception
        key = "scenario.crashed" if isinstance(error, backend.RunCrashed) else "scenario.failed"
        solara.Error(t(key, error=str(error)), classes=["run-error"])
    elif run_task.finished and run_task.value:
        solara.Success(t("scenario.done", run_id=run_task.value))


def on_upload(file: dict) -> None:
    """Validate an uploaded scenario file; keep it or show the field in error."""
    try:
        raw = file["data"].decode("utf-8")
        scenario = backend.check_scenario_text(raw, file.get("name", "scenario.toml"))
    except (ScenarioError, UnicodeDecodeError) as error:
        file_error.set(str(error))
        loaded.set(None)
        return
    file_error.set("")
    edits.set({})
    scenario_name.set(scenario["name"])
    loaded.set(scenario)


# ---- Compare -------------------------------------------------------------------------------


@solara.component
def ComparePage():
    """Two to four scenarios side by side: the baseline and up to three against it."""
    library = [name for name in backend.library() if name != BASELINE]
    solara.SelectMultiple(t("compare.choose"), values=compared, all_values=library)
    solara.Button(
        t("compare.run"),
        on_click=lambda: compare_task(list(compared.value)[:3]),
        disabled=compare_task.pending or not compared.value,
        color="primary",
        classes=["compare-button"],
    )
    if compare_task.pending:
        solara.ProgressLinear(True)
        solara.Text(run_message.value)
    if compare_task.error:
        solara.Error(t("compare.failed", error=str(compare_task.exception)))
    result = comparison.value
    if result is None:
        solara.Info(t("compare.none"))
        return
    scorecard = result.scorecard
    headlines = scorecard.headlines()
    name = indicator.value if indicator.value in headlines else headlines[0]
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        labels = {scorecard.label(key, language.value): key for key in headlines}
        keyed_select(t("compare.indicator"), labels, indicator, ["indicator-select"])
        toggle(map_kind, {"municipality": "compare.by_municipality", "cell": "compare.by_cell"})
        toggle(map_view, {"difference": "compare.difference", "level": "compare.level"})
        if map_kind.value == "cell":
            toggle(cell_column, {c: f"compare.cell_{c}" for c in backend.CELL_COLUMNS})
    table = result.table
    year = int(table["year"].max())
    rows = table[(table["indicator"] == name) & (table["kommunenummer"] == "region")]
    label = scorecard.label(name, language.value)
    Chart(figures.band_series(rows, t("compare.series_title"), label))
    columns = [result.manifest["reference"], *dict.fromkeys(table["scenario"])]
    cells = (
        backend.comparison_cells(result.manifest, RUNS_DIR, cell_column.value)
        if map_kind.value == "cell"
        else {}
    )
    with solara.Columns([1] * len(columns)):
        for scenario in columns:
            with solara.Column(classes=["compare-column"]):
                solara.Markdown(f"### {scenario}")
                reference = scenario == result.manifest["reference"]
                difference = map_view.value == "difference" and not reference
                Chart(compare_map(result, scenario, name, year, difference, cells))
                if reference:
                    solara.Markdown(t("compare.reference_note"))
                    continue
                card = scorecard_table(table, scenario, year, scorecard)
                solara.Markdown(f"**{t('compare.scorecard', year=year)}**")
                solara.DataFrame(card, items_per_page=20)
                solara.FileDownload(
                    card.to_csv(index=False),
                    filename=f"{scenario}-scorecard-{year}.csv",
                    label=t("compare.csv"),
                )


def toggle(state: solara.Reactive[str], labels: dict[str, str]) -> None:
    """Toggle buttons for a state: value -> text key of its label."""
    solara.ToggleButtonsSingle(
        value=state,
        children=[solara.Button(t(key), value=value) for value, key in labels.items()],
        classes=["toggle"],
    )


def compare_map(
    result: Comparison,
    scenario: str,
    name: str,
    year: int,
    difference: bool,
    cells: dict[str, pd.Series],
) -> Any:
    """One column's map: by municipality or 1 km cell, the level or the difference."""
    reference = result.manifest["reference"]
    if cells:
        values = cells[scenario] - cells[reference] if difference else cells[scenario]
        column = t(f"compare.cell_{cell_column.value}")
        kind = t("compare.difference_short") if difference else column
        return figures.cell_map(
            values if difference else values.where(values > 0),
            t("compare.cell_map_title", what=kind, year=year),
            column,
            diverging=difference,
            log=not difference and cell_column.value != "dwellings",
        )
    table = result.table
    rows = table[
        (table["indicator"] == name)
        & (table["year"] == year)
        & (table["kommunenummer"] != "region")
    ]
    label = result.scorecard.label(name, language.value)
    if difference:
        values = rows[rows["scenario"] == scenario].set_index("kommunenummer")
        title = t("compare.map_title", scenario=scenario, year=year) + " (%)"
        effect = (values["relative_difference"] * 100).where(~values["within_noise"], 0.0)
        return figures.municipality_map(effect, names(), title, diverging=True)
    if scenario == reference:  # every compared scenario's rows carry the reference's mean
        first = rows[rows["scenario"] == rows["scenario"].iloc[0]]
        values = first.set_index("kommunenummer")["reference_mean"]
    else:
        values = rows[rows["scenario"] == scenario].set_index("kommunenummer")["scenario_mean"]
    return figures.municipality_map(values, names(), f"{label}, {year}")


def scorecard_table(table: pd.DataFrame, scenario: str, year: int, scorecard: Any) -> pd.DataFrame:
    """The region's headline indicators of one compared scenario in ``year``, as shown."""
    region = table[
        (table["scenario"] == scenario)
        & (table["kommunenummer"] == "region")
        & (table["year"] == year)
    ].set_index("indicator")
    rows = []
    for name in scorecard.headlines():
        if name not in region.index:
            continue
        row = region.loc[name]
        rows.append(
            {
                t("compare.indicator"): scorecard.label(name, language.value),
                "Δ": f"{row['difference_mean']:+,.3g}",
                "5-95 %": f"[{row['difference_p05']:+,.3g}, {row['difference_p95']:+,.3g}]",
                "score": row["score"],
            }
        )
    return pd.DataFrame(rows)


# ---- Indeks --------------------------------------------------------------------------------


def keyed_select(
    label: str, options: dict[str, str], state: solara.Reactive[str], classes: list[str]
) -> None:
    """A menu that shows texts and keeps keys (``options``: text -> key) in ``state``.

    A key the menu does not offer shows as the first option.
    """
    shown = {key: text for text, key in options.items()}
    solara.Select(
        label,
        values=list(options),
        value=shown.get(state.value, next(iter(options))),
        on_value=lambda text: state.set(options[text]),
        classes=classes,
    )


def municipality_options() -> dict[str, str]:
    """The menu text "Name (number)" -> municipality number, sorted by name."""
    return {f"{name} ({code})": code for code, name in sorted(names().items(), key=lambda i: i[1])}


def area_options() -> dict[str, str]:
    """What the area menu shows -> the area: the region, sub-regions, municipalities."""
    options = {t("indeks.region"): indeks.REGION}
    for name in indeks.subregions():
        options[t("indeks.subregion", name=name)] = indeks.SUBREGION_PREFIX + name
    return options | municipality_options()


def indeks_label(key: str) -> str:
    """An Indeks title or line name in the session's language (sector names stay as kept)."""
    entry = strings()["indeks"].get(key)
    return pick(entry, language.value) if isinstance(entry, dict) else key


@solara.component
def IndeksPage():
    """The region's indicator panel over time, for the region, a sub-region or a municipality."""
    options = area_options()
    shown = {key: label for label, key in options.items()}
    with solara.Row():
        solara.Select(t("indeks.scenario"), values=list(backend.library()), value=view_scenario)
        keyed_select(t("indeks.area"), options, area, ["area-select"])
    run = backend.stored_run(view_scenario.value, RUNS_DIR)
    if run is None:
        solara.Info(t("compare.none"))
        return
    solara.Markdown(f"### {shown.get(area.value, area.value)}")
    IndeksFigure(run, area.value, language.value)


@solara.component
def IndeksFigure(run: Any, where: str, lang: str):
    """The Indeks charts of one run and area, rebuilt only when one of them changes.

    Not on every render of the page: the figure is built and sent to the browser again
    only for another run, area or language.
    """
    key = [str(run.path), where, lang]

    def build() -> Any:
        charts = indeks.panels(backend.run_frame(run), backend.run_table(run, "emissions"), where)
        translated = [
            indeks.Panel(
                indeks_label(chart.title),
                {indeks_label(name): values for name, values in chart.lines.items()},
                frozenset(indeks_label(name) for name in chart.dashed),
                chart.target,
            )
            for chart in charts
        ]
        return figures.panel(translated)

    Chart(build, dependencies=key)


# ---- Klimabudsjett -------------------------------------------------------------------------


@solara.component
def ClimatePage():
    """Reference, measure and target paths of a municipality; emissions by sector and class."""
    municipality_names = names()
    library = list(backend.library())
    with solara.Row():
        solara.Select(t("indeks.scenario"), values=library, value=view_scenario)
        keyed_select(
            t("climate.municipality"),
            municipality_options(),
            budget_municipality,
            ["municipality-select"],
        )
    run = backend.stored_run(view_scenario.value, RUNS_DIR)
    if run is None:
        solara.Info(t("compare.none"))
        return
    code = budget_municipality.value
    budget = backend.run_table(run, "climate_budget")
    budget = budget[budget["kommunenummer"] == code].set_index("year").sort_index()
    if budget.empty:
        solara.Info(t("compare.none"))
        return
    last = int(budget.index.max())
    solara.Markdown(
        f"### {municipality_names.get(code, code)}: "
        + t("climate.gap", year=last, gap=f"{budget.loc[last, 'gap_co2e_tonnes']:,.0f}")
    )
    ClimateFigure(run, code, language.value)


@solara.component
def ClimateFigure(run: Any, code: str, lang: str):
    """A municipality's paths, sectors and vehicle classes, rebuilt only when they change."""
    key = [str(run.path), code, lang]

    def build() -> Any:
        budget = backend.run_table(run, "climate_budget")
        budget = budget[budget["kommunenummer"] == code].set_index("year").sort_index()
        paths = {
            t("climate.reference"): budget["reference_co2e_tonnes"],
            t("climate.measure"): budget["measure_co2e_tonnes"],
            t("climate.target"): budget["target_co2e_tonnes"],
        }
        emissions = backend.run_table(run, "emissions")
        here = emissions[emissions["kommunenummer"] == code]
        by_sector = here.groupby(["year", "sector"], as_index=False)["co2e_tonnes"].sum()
        road = here[here["sector"] == "Veitrafikk"]
        last = int(budget.index.max())
        titles = (t("climate.paths"), t("climate.by_sector", year=last), t("climate.by_class"))
        return figures.climate_panel(paths, by_sector, road, titles)

    Chart(build, dependencies=key)


# ---- Workshop ------------------------------------------------------------------------------

WORKSHOP_LEVERS = (
    "growth.population_growth_factor",
    "transport.remote_work_share",
    "transport.road_price_nok_per_km",
)


# Projector-size type for the whole Workshop page: texts, controls, tables and buttons.
WORKSHOP_CSS = """
.workshop, .workshop p, .workshop .v-label, .workshop input, .workshop td, .workshop th,
.workshop .v-btn, .workshop .v-select__selection, .workshop .v-messages {
  font-size: 22px !important;
}
.workshop .v-card__title, .workshop h3 { font-size: 28px !important; line-height: 1.3; }
.workshop .v-label { line-height: 1.4; height: auto; }
.workshop .v-input input { max-height: none; padding: 10px 0; }
"""
PROJECTOR_FONT_PX = 20


@solara.component
def WorkshopPage():
    """The four Foresight futures as cards; choose one, adjust a few levers, run, compare."""
    library = backend.library()
    futures = {name: s for name, s in library.items() if "foresight" in s}
    with solara.Column(style={"font-size": "22px"}, classes=["workshop"]):
        solara.Markdown(t("workshop.intro"), style={"font-size": "22px"})
        with solara.ColumnsResponsive(12, medium=6):
            for name, scenario in futures.items():
                story = scenario["foresight"]
                with solara.Card(pick(scenario.get("title"), language.value), classes=["future"]):
                    solara.Markdown(
                        f"*{t('workshop.growth')}: {t('workshop.' + story['growth'])} · "
                        f"{t('workshop.pattern')}: {t('workshop.' + story['pattern'])}*"
                    )
                    solara.Markdown(
                        pick(
                            {"nb": story.get("story_nb"), "en": story.get("story_en")},
                            language.value,
                        )
                    )
                    solara.Button(
                        t("workshop.choose"),
                        on_click=lambda name=name: (
                            chosen.set(name),
                            edits.set({}),
                            loaded.set(None),
                        ),
                        color="primary" if chosen.value == name else None,
                    )
        if chosen.value in futures:
            base = futures[chosen.value]
            levers = backend.catalogue().levers
            with solara.Card(t("scenario.levers")):
                for key in WORKSHOP_LEVERS:
                    LeverControl(levers[key], base)
                RunButton()
                RunControls(f"{chosen.value}.toml")
            WorkshopOutcome()


@solara.component
def WorkshopOutcome():
    """The last run's result once no run goes (its own component: progress re-renders it)."""
    if last_run.value is not None and not run_task.pending:
        WorkshopResult(last_run.value)


@solara.component
def WorkshopResult(source: str):
    """The chosen future against the baseline in the last year, seed 1: a quick look."""
    run = backend.stored_run(source, RUNS_DIR)
    reference = backend.stored_run(BASELINE, RUNS_DIR)
    if run is None or reference is None:
        return
    scorecard = load_scorecard()
    year = backend.settings().end
    rows = []
    for name in scorecard.headlines():
        a, b = backend.series(reference, name).get(year), backend.series(run, name).get(year)
        rows.append(
            {
                "": scorecard.label(name, language.value),
                "0-alt.": f"{a:,.4g}",
                "scenario": f"{b:,.4g}",
                "Δ %": f"{(b / a - 1) * 100:+.1f}" if a else "",
            }
        )
    table = pd.DataFrame(rows)
    solara.Markdown(f"### {t('workshop.result', year=year)}")
    solara.DataFrame(table, items_per_page=20)
    solara.FileDownload(table.to_csv(index=False), filename="workshop.csv", label=t("compare.csv"))
    series = {
        BASELINE: backend.series(reference, "population"),
        source.rsplit("/", 1)[-1]: backend.series(run, "population"),
    }
    title = scorecard.label("population", language.value)
    Chart(figures.lines(series, title, font_size=PROJECTOR_FONT_PX))


# ---- Model ---------------------------------------------------------------------------------


@solara.component
def ModelPage():
    """What the model is, its calibration fit, its limits and its sources with credits."""
    solara.Markdown(t("model.text"))
    solara.Markdown(f"### {t('model.fit')}")
    run = backend.stored_run(BASELINE, RUNS_DIR)
    if run is not None:
        FitFigure(run)
    solara.Markdown(t("model.fit_table"))
    solara.Markdown(f"### {t('model.calibration')}")
    CalibrationSummary()
    solara.Markdown(f"### {t('model.limits')}")
    solara.Markdown(t("model.limits_text"))
    solara.Markdown(f"### {t('model.sources')}")
    data_readme = Path(__file__).resolve().parents[1] / "data" / "README.md"
    solara.Markdown(data_readme.read_text(encoding="utf-8"))


def _iso_date(stamp: str) -> str:
    """20261203 as 2026-12-03 (other text as it is)."""
    return (
        f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}" if len(stamp) == 8 and stamp.isdigit() else stamp
    )


@solara.component
def CalibrationSummary():
    """The calibration report's headline: targets met before and after, target by target."""
    fit = backend.calibration_fit()
    if not fit:
        solara.Markdown(t("model.calibration_none"))
        return
    scales = [float(scale) for scale in fit.get("report_scales", [])]
    scale = min(scales) if scales else 0.01
    after = fit.get(f"after_scale_{scale:g}", {})
    before = fit.get(f"before_scale_{scale:g}", {})
    solara.Markdown(
        t(
            "model.calibration_text",
            date=_iso_date(str(fit.get("date", "?"))),
            scale=format_number(scale, language.value, 2),
            fitted_after=after.get("fitted_met", 0),
            fitted_before=before.get("fitted_met", 0),
            fitted_of=after.get("fitted_of", 0),
            validation_after=after.get("validation_met", 0),
            validation_of=after.get("validation_of", 0),
            minutes=format_number(float(fit.get("seconds", 0.0)) / 60, language.value, 0),
        )
    )
    rows = []
    for entry in fit.get("targets", {}).values():
        title = entry["title_nb"] if language.value == "nb" else entry["title"]
        error_before = entry.get(f"before_scale_{scale:g}", float("nan"))
        error_after = entry.get(f"after_scale_{scale:g}", float("nan"))
        rows.append(
            {
                t("model.calibration_target"): title
                + ("" if entry["fitted"] else f" ({t('model.calibration_validation')})"),
                t("model.calibration_tolerance"): format_number(
                    entry["tolerance"], language.value, 3
                ),
                t("model.calibration_before"): format_number(error_before, language.value, 3),
                t("model.calibration_after"): format_number(error_after, language.value, 3)
                + (" ✓" if error_after <= entry["tolerance"] else " ✗"),
            }
        )
    solara.DataFrame(pd.DataFrame(rows), items_per_page=30)


@solara.component
def FitFigure(run: Any):
    """The dashboard's baseline against SSB's projection: region by year, municipalities."""
    frame = backend.run_frame(run)
    region = {
        t("indeks.model"): frame[("population", "region")],
        t("indeks.ssb_projection"): frame[("population_projected_ssb", "region")],
    }
    gap = (region[t("indeks.model")] / region[t("indeks.ssb_projection")] - 1) * 100
    last = int(frame.index.max())
    codes = indeks.area_codes(indeks.REGION, frame)
    municipalities = pd.DataFrame(
        {
            "name": [names().get(code, code) for code in codes],
            "model": frame["population"].loc[last, codes].to_numpy(),
            "ssb": frame["population_projected_ssb"].loc[last, codes].to_numpy(),
        }
    )
    error = (municipalities["model"] / municipalities["ssb"] - 1).abs() * 100
    solara.Markdown(
        t(
            "model.fit_text",
            gap=f"{gap.abs().max():.2f}",
            year=last,
            median=f"{error.median():.1f}",
            within=int((error <= 10).sum()),
            count=len(error),
        )
    )
    titles = (t("model.fit_region"), t("model.fit_municipalities", year=last))
    Chart(figures.fit_figure(region, municipalities, titles))


# The root route's layout wraps every page (solara.autorouting).
routes = [
    solara.Route(path="/", component=ScenarioPage, label="Scenario", layout=Layout),
    solara.Route(path="compare", component=ComparePage, label="Compare"),
    solara.Route(path="indeks", component=IndeksPage, label="Indeks"),
    solara.Route(path="climate", component=ClimatePage, label="Klimabudsjett"),
    solara.Route(path="workshop", component=WorkshopPage, label="Workshop"),
    solara.Route(path="model", component=ModelPage, label="Model"),
]
