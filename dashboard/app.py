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

from dashboard import backend, figures
from dashboard.i18n import pick, text
from scenarios.compare import (
    Comparison,
    ComparisonRequest,
    compare_scenarios,
    load_scorecard,
)
from scenarios.scenario import BASELINE, ScenarioError

RUNS_DIR = Path(os.environ.get("OSLOREGION_RUNS_DIR", "runs"))
INDEKS = (
    "population",
    "jobs",
    "growth_outside_oslo_share",
    "commute_trips_pt",
    "commute_car_vehicle_km",
    "car_vehicle_km_index",
    "mean_price_nok_per_m2",
    "co2e_total_tonnes",
    "zero_emission_share_new_heavy",
    "power_demand_mwh",
)

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


@solara.component
def Layout(children: list = []):  # noqa: B006 (Solara's layout signature)
    """Title, page links, the language switch and the page."""
    paths = ("/", "/compare", "/indeks", "/climate", "/workshop", "/model")
    keys = ("scenario", "compare", "indeks", "climate", "workshop", "model")
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
            solara.Button(
                t("scenario.run"),
                on_click=lambda: run_task(current_scenario()),
                disabled=run_task.pending,
                color="primary",
                classes=["run-button"],
            )
            if run_task.pending:
                solara.ProgressLinear(run_task.progress or True)
                solara.Text(t("scenario.running", message=run_message.value))
            elif run_task.error:
                solara.Error(t("scenario.failed", error=str(run_task.exception)))
            elif run_task.finished and run_task.value:
                solara.Success(t("scenario.done", run_id=run_task.value))
            solara.FileDownload(
                lambda: backend.scenario_text(current_scenario()),
                filename=f"{scenario_name.value}.toml",
                label=t("scenario.save"),
            )
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
    """Two to four scenarios side by side against the baseline."""
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
        solara.Error(str(compare_task.exception))
    result = comparison.value
    if result is None:
        solara.Info(t("compare.none"))
        return
    scorecard = result.scorecard
    headlines = scorecard.headlines()
    solara.Select(
        t("compare.indicator"),
        values=headlines,
        value=indicator.value if indicator.value in headlines else headlines[0],
        on_value=indicator.set,
    )
    table = result.table
    year = int(table["year"].max())
    rows = table[(table["indicator"] == indicator.value) & (table["kommunenummer"] == "region")]
    label = scorecard.label(indicator.value, language.value)
    solara.FigurePlotly(figures.band_series(rows, t("compare.series_title"), label))
    scenarios = list(dict.fromkeys(table["scenario"]))
    with solara.Columns([1] * len(scenarios)):
        for scenario in scenarios:
            with solara.Column(classes=["compare-column"]):
                solara.Markdown(f"### {scenario}")
                at_end = table[
                    (table["scenario"] == scenario)
                    & (table["indicator"] == indicator.value)
                    & (table["year"] == year)
                    & (table["kommunenummer"] != "region")
                ].set_index("kommunenummer")["relative_difference"]
                solara.FigurePlotly(
                    figures.municipality_map(
                        at_end * 100,
                        names(),
                        t("compare.map_title", scenario=scenario, year=year) + " (%)",
                        diverging=True,
                    )
                )
                card = scorecard_table(table, scenario, year, scorecard)
                solara.Markdown(f"**{t('compare.scorecard', year=year)}**")
                solara.DataFrame(card, items_per_page=20)
                solara.FileDownload(
                    card.to_csv(index=False),
                    filename=f"{scenario}-scorecard-{year}.csv",
                    label=t("compare.csv"),
                )


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


@solara.component
def IndeksPage():
    """The region's indicator panel over time, for the region or one municipality."""
    municipality_names = names()
    library = list(backend.library())
    with solara.Row():
        solara.Select(t("indeks.scenario"), values=library, value=view_scenario)
        options = ["region", *sorted(municipality_names)]
        solara.Select(t("indeks.area"), values=options, value=area)
    run = backend.stored_run(view_scenario.value, RUNS_DIR)
    if run is None:
        solara.Info(t("compare.none"))
        return
    scorecard = load_scorecard()
    where = (
        t("indeks.region")
        if area.value == "region"
        else municipality_names.get(area.value, area.value)
    )
    solara.Markdown(f"### {where}")
    panels = {
        scorecard.label(name, language.value): backend.series(run, name, area.value)
        for name in INDEKS
    }
    solara.FigurePlotly(figures.panel(panels))


# ---- Klimabudsjett -------------------------------------------------------------------------


@solara.component
def ClimatePage():
    """Reference, measure and target paths of a municipality; emissions by sector and class."""
    municipality_names = names()
    library = list(backend.library())
    with solara.Row():
        solara.Select(t("indeks.scenario"), values=library, value=view_scenario)
        solara.Select(
            t("climate.municipality"),
            values=sorted(municipality_names),
            value=budget_municipality,
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
    paths = {
        t("climate.reference"): budget["reference_co2e_tonnes"],
        t("climate.measure"): budget["measure_co2e_tonnes"],
        t("climate.target"): budget["target_co2e_tonnes"],
    }
    last = int(budget.index.max())
    solara.Markdown(
        f"### {municipality_names.get(code, code)}: "
        + t("climate.gap", year=last, gap=f"{budget.loc[last, 'gap_co2e_tonnes']:,.0f}")
    )
    emissions = backend.run_table(run, "emissions")
    here = emissions[emissions["kommunenummer"] == code]
    by_sector = here.groupby(["year", "sector"], as_index=False)["co2e_tonnes"].sum()
    road = here[here["sector"] == "Veitrafikk"]
    titles = (t("climate.paths"), t("climate.by_sector", year=last), t("climate.by_class"))
    solara.FigurePlotly(figures.climate_panel(paths, by_sector, road, titles))


# ---- Workshop ------------------------------------------------------------------------------

WORKSHOP_LEVERS = (
    "growth.population_growth_factor",
    "transport.remote_work_share",
    "transport.road_price_nok_per_km",
)


@solara.component
def WorkshopPage():
    """The four Foresight futures as cards; choose one, adjust a few levers, run, compare."""
    library = backend.library()
    futures = {name: s for name, s in library.items() if "foresight" in s}
    with solara.Column(style={"font-size": "20px"}, classes=["workshop"]):
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
                solara.Button(
                    t("scenario.run"),
                    on_click=lambda: run_task(current_scenario()),
                    disabled=run_task.pending,
                    color="primary",
                )
                if run_task.pending:
                    solara.ProgressLinear(run_task.progress or True)
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
    solara.FigurePlotly(figures.lines(series, scorecard.label("population", language.value)))


# ---- Model ---------------------------------------------------------------------------------


@solara.component
def ModelPage():
    """What the model is, its sources with credits, its fit and limits."""
    solara.Markdown(t("model.text"))
    solara.Markdown(f"### {t('model.limits')}")
    solara.Markdown(t("model.limits_text"))
    solara.Markdown(f"### {t('model.sources')}")
    data_readme = Path(__file__).resolve().parents[1] / "data" / "README.md"
    solara.Markdown(data_readme.read_text(encoding="utf-8"))


# The root route's layout wraps every page (solara.autorouting).
routes = [
    solara.Route(path="/", component=ScenarioPage, label="Scenario", layout=Layout),
    solara.Route(path="compare", component=ComparePage, label="Compare"),
    solara.Route(path="indeks", component=IndeksPage, label="Indeks"),
    solara.Route(path="climate", component=ClimatePage, label="Klimabudsjett"),
    solara.Route(path="workshop", component=WorkshopPage, label="Workshop"),
    solara.Route(path="model", component=ModelPage, label="Model"),
]
