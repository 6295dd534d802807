"""Calibration targets: the statistics a baseline run is judged against, computed from CSVs.

Every observed value is computed here from the files in ``data/history/`` and the data
bundle (``data/base_2024/``); ``data/calibration/targets.toml`` only adds what a statistic
cannot give: the window, each target's tolerance, whether the fit uses it and its weight.
A target compares the observed value with the same quantity measured on a run's tables
(the long indicator table and the commuting table a stored run holds) and returns one error
in the unit of its tolerance; it passes when ``error <= tolerance``.

Conventions: stocks of year Y describe 1 January of Y; growth is the yearly rate between
two stocks; growth rates and shares are reported in per cent or points where the unit says
so. Municipalities are those of the run (the model's ``kommunenummer`` column).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from model.bundle import DEFAULT_BUNDLE_DIR
from model.parameters import read_csv, read_toml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HISTORY_DIR = PROJECT_ROOT / "data" / "history"
TARGETS_FILE = PROJECT_ROOT / "data" / "calibration" / "targets.toml"
OSLO = "0301"
REGION = "region"
# Ruter's area: Oslo and the municipalities of Akershus (numbers 32xx).
RUTER_AREA_PREFIXES = ("0301", "32")


class TargetError(ValueError):
    """A target file or a statistic behind a target is missing or malformed."""


@dataclass(frozen=True)
class Window:
    """The years a run is judged on and the size threshold of the balance conditions."""

    base_year: int
    fit_end_year: int
    report_end_year: int
    large_municipality_min_population: float


@dataclass(frozen=True)
class TargetSpec:
    """One target as declared in ``targets.toml``."""

    name: str
    title: str
    title_nb: str  # the title in bokmål, for the dashboard
    source: str
    years: str
    geography: str
    unit: str
    tolerance: float
    fitted: bool
    weight: float


@dataclass(frozen=True)
class RunTables:
    """What a target reads of a run: the long indicator table and the commuting table."""

    indicators: pd.DataFrame  # year, kommunenummer, indicator, value
    commuting: pd.DataFrame  # year, home_kommunenummer, work_kommunenummer, persons, modes

    def panel(self, indicator: str) -> pd.DataFrame:
        """One indicator as a municipality x year table (the region row left out)."""
        rows = self.indicators[
            (self.indicators["indicator"] == indicator)
            & (self.indicators["kommunenummer"] != REGION)
        ]
        if rows.empty:
            raise TargetError(f"the run has no indicator '{indicator}'")
        return rows.pivot(index="kommunenummer", columns="year", values="value")

    def region(self, indicator: str) -> pd.Series:
        """One indicator of the region row, by year."""
        rows = self.indicators[
            (self.indicators["indicator"] == indicator)
            & (self.indicators["kommunenummer"] == REGION)
        ]
        if rows.empty:
            raise TargetError(f"the run has no region value of '{indicator}'")
        return rows.set_index("year")["value"].sort_index()


@dataclass(frozen=True)
class TargetResult:
    """A target measured on one run: the error against the tolerance, and what it compares."""

    name: str
    error: float
    tolerance: float
    model: float  # a headline model value in the target's terms (a rate, share or count)
    observed: float  # the same for the statistic

    @property
    def passed(self) -> bool:
        """Whether the error is within the tolerance (NaN never passes)."""
        return bool(self.error <= self.tolerance)

    @property
    def score(self) -> float:
        """Error in units of the tolerance (1 = at the tolerance)."""
        return self.error / self.tolerance


def read_targets(path: Path = TARGETS_FILE) -> tuple[Window, list[TargetSpec]]:
    """The window and the targets of ``targets.toml``; every problem names the file and field."""
    table = read_toml(path, TargetError, "targets file missing")
    try:
        window = Window(**table["window"])
        specs = [TargetSpec(**entry) for entry in table["target"]]
    except (KeyError, TypeError) as error:
        raise TargetError(f"{path}: field missing or unknown ({error})") from error
    for spec in specs:
        if spec.name not in MEASURES:
            raise TargetError(
                f"{path}: target '{spec.name}' is unknown; allowed: {', '.join(sorted(MEASURES))}"
            )
        if not spec.tolerance > 0 or spec.weight < 0:
            raise TargetError(f"{path}: target '{spec.name}' needs tolerance > 0 and weight >= 0")
    return window, specs


class Statistics:
    """The observed statistics the targets need, read once from their CSV files."""

    def __init__(self, history_dir: Path = HISTORY_DIR, bundle_dir: Path = DEFAULT_BUNDLE_DIR):
        """Point at the history folder and the data bundle (defaults: the shipped ones)."""
        self.history_dir = Path(history_dir)
        self.bundle_dir = Path(bundle_dir)

    def _csv(self, folder: Path, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        return read_csv(
            folder / name, columns, TargetError, "file missing", dtype={"kommunenummer": str}
        )

    @cached_property
    def population(self) -> pd.DataFrame:
        """Population on 1 January by municipality x year (SSB 07459, 2005-2024)."""
        table = self._csv(
            self.history_dir,
            "population_2005_2024_ssb07459.csv",
            ("kommunenummer", "year", "population_jan1"),
        )
        return table.pivot(index="kommunenummer", columns="year", values="population_jan1")

    @cached_property
    def dwellings(self) -> pd.DataFrame:
        """Dwellings on 1 January by municipality, year and type (SSB 06265, 2006-2024)."""
        return self._csv(
            self.history_dir,
            "dwelling_stock_by_type_ssb06265_2006_2024.csv",
            ("kommunenummer", "year", "dwellings_total", "enebolig_detached"),
        )

    @cached_property
    def employment(self) -> pd.DataFrame:
        """Jobs, employed residents and residents 15-74 by municipality and year (SSB 11618)."""
        return self._csv(
            self.history_dir,
            "employment_2017_2022_ssb11618.csv",
            (
                "kommunenummer",
                "year",
                "jobs_by_workplace",
                "employed_residents",
                "population_15_74",
            ),
        )

    @cached_property
    def cpi(self) -> pd.Series:
        """Consumer price index by year (SSB 03014, 2015 = 100)."""
        table = self._csv(self.history_dir, "cpi_ssb03014_2015_2024.csv", ("year", "cpi_2015_100"))
        return table.set_index("year")["cpi_2015_100"]

    @cached_property
    def prices(self) -> pd.DataFrame:
        """Mean price per m2 of used dwellings by municipality, type and year (SSB 06035)."""
        table = self._csv(
            self.bundle_dir,
            "housing_prices.csv",
            ("kommunenummer", "boligtype_code", "year", "price_nok_per_m2"),
        )
        table["boligtype_code"] = table["boligtype_code"].astype(str).str.zfill(2)
        return table

    @cached_property
    def commuting(self) -> pd.DataFrame:
        """Employed persons by home and work municipality, 2022 (SSB 03321)."""
        table = self._csv(
            self.bundle_dir,
            "commuting_od.csv",
            ("home_kommunenummer", "work_kommunenummer", "employed_persons"),
        )
        return table.astype({"home_kommunenummer": str, "work_kommunenummer": str})

    @cached_property
    def projection(self) -> pd.DataFrame:
        """SSB's main projection (MMMM) by municipality x year."""
        table = self._csv(
            self.bundle_dir,
            "population_projection.csv",
            ("kommunenummer", "year", "population_projected_mmmm"),
        )
        return table.pivot(
            index="kommunenummer", columns="year", values="population_projected_mmmm"
        )

    @cached_property
    def household_size(self) -> pd.Series:
        """Persons per private household by municipality (SSB, 1 January 2019)."""
        table = self._csv(
            self.bundle_dir, "household_size.csv", ("kommunenummer", "persons_per_household")
        )
        return table.set_index("kommunenummer")["persons_per_household"]

    @cached_property
    def mode_shares(self) -> pd.DataFrame:
        """Mode shares of trips by geography, survey, year and metric (RVU, Ruter)."""
        return self._csv(
            self.bundle_dir,
            "travel_mode_shares.csv",
            ("geography", "survey", "year", "metric", "value_pct"),
        )

    @cached_property
    def oslo_housing(self) -> pd.DataFrame:
        """Oslo's dwellings started and completed by year (SSB 05940)."""
        return self._csv(
            self.history_dir,
            "oslo_housing_ssb05940_06265_12008_2013_2024.csv",
            ("year", "dwellings_completed_05940"),
        )

    @cached_property
    def refugees(self) -> pd.DataFrame:
        """Refugees settled by municipality and year (IMDi, 2022-2024)."""
        return self._csv(
            self.history_dir,
            "refugees_settled_imdi_2022_2024.csv",
            ("kommunenummer", "year", "refugees_settled_total", "imdi_status_settled_2024"),
        )

    # --- derived observations ---------------------------------------------------------------

    def growth(self, first: int, last: int) -> pd.Series:
        """Yearly population growth by municipality between 1 January of two years."""
        population = self.population
        return (population[last] / population[first]) ** (1.0 / (last - first)) - 1.0

    def net_additions_per_year(self, first: int, last: int) -> pd.Series:
        """Mean yearly net additions to the dwelling stock, years ``first``..``last``.

        The net addition of year Y is the stock of 1 January Y+1 minus that of 1 January Y
        (completions less demolitions and reclassifications).
        """
        stock = self.dwellings.pivot(
            index="kommunenummer", columns="year", values="dwellings_total"
        )
        return (stock[last + 1] - stock[first]) / (last + 1 - first)

    def real_prices(self) -> pd.DataFrame:
        """06035 prices in base-year NOK: (municipality, type) x year, complete rows only."""
        prices = self.prices
        last = int(prices["year"].max())
        deflator = self.cpi[last] / prices["year"].map(self.cpi)
        if deflator.isna().any():
            missing = sorted(set(prices["year"]) - set(self.cpi.index))
            raise TargetError(f"{self.history_dir}: the CPI has no value for {missing[0]}")
        real = prices.assign(real=prices["price_nok_per_m2"] * deflator)
        table = real.pivot_table(
            index=["kommunenummer", "boligtype_code"], columns="year", values="real"
        )
        return table.dropna()

    def type_stock_weights(self, year: int) -> pd.Series:
        """Dwellings by (municipality, SSB 06035 type) in ``year`` (SSB 06265)."""
        stock = self.dwellings[self.dwellings["year"] == year].set_index("kommunenummer")
        by_type = {
            "01": stock["enebolig_detached"],
            "02": stock["tomannsbolig_two_dwelling"] + stock["rekkehus_smahus_row_terraced"],
            "03": stock["boligblokk_apartment_block"],
        }
        return pd.concat(by_type, names=["boligtype_code", "kommunenummer"]).swaplevel()

    def region_real_price_trend(self) -> float:
        """Yearly real change of a dwelling-weighted price index, first to last price year."""
        real = self.real_prices()
        first, last = int(real.columns.min()), int(real.columns.max())
        weight = self.type_stock_weights(last).reindex(real.index).fillna(0.0)
        index = (real[last] * weight).sum() / (real[first] * weight).sum()
        return float(index ** (1.0 / (last - first)) - 1.0)

    def employment_rate_growth(self) -> float:
        """Yearly growth of the region's employment rate of residents 15-74 (first to last year)."""
        table = self.employment
        first, last = int(table["year"].min()), int(table["year"].max())
        totals = table.groupby("year")[["employed_residents", "population_15_74"]].sum()
        rate = totals["employed_residents"] / totals["population_15_74"]
        return float((rate[last] / rate[first]) ** (1.0 / (last - first)) - 1.0)

    def job_growth(self) -> pd.Series:
        """Yearly job growth by municipality, first to last year of SSB 11618."""
        jobs = self.employment.pivot(
            index="kommunenummer", columns="year", values="jobs_by_workplace"
        )
        first, last = int(jobs.columns.min()), int(jobs.columns.max())
        return (jobs[last] / jobs[first]) ** (1.0 / (last - first)) - 1.0


# --- what a run shows ---------------------------------------------------------------------


def _rate(series_end: pd.Series | float, series_start: pd.Series | float, years: int):
    return (series_end / series_start) ** (1.0 / years) - 1.0


def _population_growth(run: RunTables, window: Window, end: int) -> pd.Series:
    population = run.panel("population")
    return _rate(population[end], population[window.base_year], end - window.base_year)


def _large(stats: Statistics, window: Window, codes: pd.Index) -> pd.Series:
    population = stats.population[window.base_year].reindex(codes)
    return population >= window.large_municipality_min_population


def _weighted_mean_abs(difference: pd.Series, weight: pd.Series) -> float:
    weight = weight.reindex(difference.index).fillna(0.0)
    return float((difference.abs() * weight).sum() / weight.sum())


def municipal_growth(stats, run, window, end, large=True) -> TargetResult:
    """Population-weighted mean |model growth - 2019-2024 growth|, pp a year."""
    model = _population_growth(run, window, end)
    observed = stats.growth(window.base_year - 5, window.base_year).reindex(model.index)
    keep = _large(stats, window, model.index)
    keep = keep if large else ~keep
    weight = stats.population[window.base_year].reindex(model.index)[keep]
    error = 100 * _weighted_mean_abs(model[keep] - observed[keep], weight)
    mean = lambda values: 100 * float((values[keep] * weight).sum() / weight.sum())  # noqa: E731
    name = "municipal_growth" if large else "small_municipal_growth"
    return TargetResult(name, error, np.nan, mean(model), mean(observed))


def small_municipal_growth(stats, run, window, end) -> TargetResult:
    """As ``municipal_growth`` for the municipalities under the size threshold."""
    return municipal_growth(stats, run, window, end, large=False)


def oslo_growth(stats, run, window, end) -> TargetResult:
    """|Oslo's growth in the run - Oslo's growth 2019-2024|, pp a year."""
    model = float(_population_growth(run, window, end)[OSLO])
    observed = float(stats.growth(window.base_year - 5, window.base_year)[OSLO])
    return TargetResult(
        "oslo_growth", 100 * abs(model - observed), np.nan, 100 * model, 100 * observed
    )


def _built_per_year(run: RunTables, window: Window, end: int) -> pd.Series:
    built = run.panel("dwellings_built")
    years = [year for year in built.columns if window.base_year <= year < end]
    return built[years].mean(axis=1)


def construction_pace(stats, run, window, end) -> TargetResult:
    """Sum over municipalities of |built - net additions 2015-2023| / sum of net additions."""
    model = _built_per_year(run, window, end)
    observed = stats.net_additions_per_year(2015, window.base_year - 1).reindex(model.index)
    error = float((model - observed).abs().sum() / observed.sum())
    return TargetResult(
        "construction_pace", error, np.nan, float(model.sum()), float(observed.sum())
    )


def construction_region(stats, run, window, end) -> TargetResult:
    """|Region's dwellings built / its net additions 2015-2023 - 1|."""
    model = float(_built_per_year(run, window, end).sum())
    codes = run.panel("population").index
    observed = float(stats.net_additions_per_year(2015, window.base_year - 1).reindex(codes).sum())
    return TargetResult("construction_region", abs(model / observed - 1.0), np.nan, model, observed)


def vacancy_stability(stats, run, window, end) -> TargetResult:
    """Largest |vacancy - base-year vacancy| over the window's years, points (large ones)."""
    vacancy = run.panel("vacancy_rate")
    keep = _large(stats, window, vacancy.index)
    years = [year for year in vacancy.columns if window.base_year <= year <= end]
    drift = vacancy.loc[keep, years].sub(vacancy.loc[keep, window.base_year], axis=0).abs()
    region = run.region("vacancy_rate")
    return TargetResult(
        "vacancy_stability",
        100 * float(drift.max().max()),
        np.nan,
        100 * float(region[end]),
        100 * float(region[window.base_year]),
    )


def vacancy_drift(stats, run, window, end) -> TargetResult:
    """Dwelling-weighted mean over large municipalities of the mean |vacancy change|, points."""
    vacancy = run.panel("vacancy_rate")
    keep = _large(stats, window, vacancy.index)
    years = [year for year in vacancy.columns if window.base_year < year <= end]
    drift = vacancy.loc[keep, years].sub(vacancy.loc[keep, window.base_year], axis=0).abs()
    stock = run.panel("dwellings").loc[keep, window.base_year]
    error = 100 * _weighted_mean_abs(drift.mean(axis=1), stock)
    region = run.region("vacancy_rate")
    return TargetResult(
        "vacancy_drift",
        error,
        np.nan,
        100 * float(region[end]),
        100 * float(region[window.base_year]),
    )


def _price_growth(run: RunTables, window: Window, end: int) -> tuple[pd.Series, float]:
    price = run.panel("mean_price_nok_per_m2")
    dwellings = run.panel("dwellings")
    n = end - window.base_year
    municipal = _rate(price[end], price[window.base_year], n)
    weight = dwellings[window.base_year]
    region = _rate((price[end] * weight).sum(), (price[window.base_year] * weight).sum(), n)
    return municipal, float(region)


def region_real_price_trend(stats, run, window, end) -> TargetResult:
    """|Region's real price growth (base-year weights) - 06035's 2020-2024 real trend|, pp."""
    _, model = _price_growth(run, window, end)
    observed = stats.region_real_price_trend()
    return TargetResult(
        "region_real_price_trend", 100 * abs(model - observed), np.nan, 100 * model, 100 * observed
    )


def municipal_price_drift(stats, run, window, end) -> TargetResult:
    """Largest |municipal real price growth - 06035's regional trend|, pp (large ones)."""
    municipal, _ = _price_growth(run, window, end)
    keep = _large(stats, window, municipal.index)
    observed = stats.region_real_price_trend()
    worst = float((municipal[keep] - observed).abs().max())
    return TargetResult(
        "municipal_price_drift", 100 * worst, np.nan, 100 * worst + 100 * observed, 100 * observed
    )


def jobs_growth(stats, run, window, end) -> TargetResult:
    """|Jobs growth - (working-age growth in the run + 2017-2022 employment-rate growth)|, pp."""
    n = end - window.base_year
    jobs = run.region("jobs")
    working_age = run.region("persons_18_66")
    model = float(_rate(jobs[end], jobs[window.base_year], n))
    observed = float(
        _rate(working_age[end], working_age[window.base_year], n) + stats.employment_rate_growth()
    )
    return TargetResult(
        "jobs_growth", 100 * abs(model - observed), np.nan, 100 * model, 100 * observed
    )


def job_growth_pattern(stats, run, window, end) -> TargetResult:
    """Job-weighted mean |(g_m - g_region) model - (g_m - g_region) 2017-2022|, pp a year."""
    n = end - window.base_year
    jobs = run.panel("jobs")
    model = _rate(jobs[end], jobs[window.base_year], n)
    model_region = _rate(jobs[end].sum(), jobs[window.base_year].sum(), n)
    observed = stats.job_growth().reindex(jobs.index)
    history = stats.employment.pivot(
        index="kommunenummer", columns="year", values="jobs_by_workplace"
    ).reindex(jobs.index)
    first, last = int(history.columns.min()), int(history.columns.max())
    observed_region = _rate(history[last].sum(), history[first].sum(), last - first)
    error = 100 * _weighted_mean_abs(
        (model - model_region) - (observed - observed_region), jobs[window.base_year]
    )
    return TargetResult(
        "job_growth_pattern", error, np.nan, 100 * float(model_region), 100 * float(observed_region)
    )


def _od_inside(stats: Statistics, codes: pd.Index) -> pd.DataFrame:
    od = stats.commuting
    inside = od["home_kommunenummer"].isin(codes) & od["work_kommunenummer"].isin(codes)
    return od[inside]


def _model_od(run: RunTables, window: Window) -> pd.DataFrame:
    od = run.commuting
    return od[od["year"] == window.base_year]


def home_municipality_work_share(stats, run, window, end) -> TargetResult:
    """|Share working in the home municipality (of those working in the region)|, points."""
    codes = run.panel("population").index
    observed_od = _od_inside(stats, codes)
    same = observed_od["home_kommunenummer"] == observed_od["work_kommunenummer"]
    observed = float(
        observed_od.loc[same, "employed_persons"].sum() / observed_od["employed_persons"].sum()
    )
    od = _model_od(run, window)
    model = float(
        od.loc[od["home_kommunenummer"] == od["work_kommunenummer"], "persons"].sum()
        / od["persons"].sum()
    )
    return TargetResult(
        "home_municipality_work_share",
        100 * abs(model - observed),
        np.nan,
        100 * model,
        100 * observed,
    )


def regional_population(stats, run, window, end) -> TargetResult:
    """Largest |region population / SSB projection - 1| over the window's years."""
    population = run.region("population")
    codes = run.panel("population").index
    projection = stats.projection.reindex(codes).sum()
    years = [year for year in population.index if window.base_year <= year <= end]
    gap = (population[years] / projection[years] - 1.0).abs()
    return TargetResult(
        "regional_population",
        float(gap.max()),
        np.nan,
        float(population[end]),
        float(projection[end]),
    )


def _matrices(stats: Statistics, run: RunTables, window: Window) -> tuple[np.ndarray, np.ndarray]:
    codes = list(run.panel("population").index)
    index = {code: i for i, code in enumerate(codes)}
    observed = np.zeros((len(codes), len(codes)))
    od = _od_inside(stats, pd.Index(codes))
    np.add.at(
        observed,
        (od["home_kommunenummer"].map(index), od["work_kommunenummer"].map(index)),
        od["employed_persons"].to_numpy(float),
    )
    model = np.zeros_like(observed)
    model_od = _model_od(run, window)
    model_od = model_od[model_od["work_kommunenummer"].isin(codes)]
    np.add.at(
        model,
        (model_od["home_kommunenummer"].map(index), model_od["work_kommunenummer"].map(index)),
        model_od["persons"].to_numpy(float),
    )
    return model, observed


def commuting_cpc(stats, run, window, end) -> TargetResult:
    """1 - common part of commuters between the run's base-year matrix and 03321."""
    model, observed = _matrices(stats, run, window)
    cpc = 2 * np.minimum(model, observed).sum() / (model.sum() + observed.sum())
    return TargetResult("commuting_cpc", float(1.0 - cpc), np.nan, float(cpc), 1.0)


def oslo_in_commuters(stats, run, window, end) -> TargetResult:
    """|In-commuters to Oslo from the region: model / 03321 - 1|."""
    model, observed = _matrices(stats, run, window)
    oslo = list(run.panel("population").index).index(OSLO)
    a = model[:, oslo].sum() - model[oslo, oslo]
    b = observed[:, oslo].sum() - observed[oslo, oslo]
    return TargetResult("oslo_in_commuters", float(abs(a / b - 1.0)), np.nan, float(a), float(b))


def car_share_of_motorised(stats, run, window, end) -> TargetResult:
    """|Car / (car + public transport) commute trips in Ruter's area - Ruter 2022|, points."""
    shares = stats.mode_shares
    ruter = shares[shares["geography"].str.startswith("Ruter area") & (shares["year"] == "2022")]
    value = ruter.set_index("metric")["value_pct"].astype(float)
    observed = value["car_share"] / (value["car_share"] + value["public_transport_share"])
    codes = run.panel("population").index
    area = [code for code in codes if code.startswith(RUTER_AREA_PREFIXES)]
    car = run.panel("commute_trips_car").loc[area, window.base_year].sum()
    pt = run.panel("commute_trips_pt").loc[area, window.base_year].sum()
    model = car / (car + pt)
    return TargetResult(
        "car_share_of_motorised", 100 * abs(model - observed), np.nan, 100 * model, 100 * observed
    )


def household_size(stats, run, window, end) -> TargetResult:
    """Mean |model persons per household / SSB 2019 - 1| over SSB's municipalities."""
    size = run.panel("population")[window.base_year] / run.panel("households")[window.base_year]
    observed = stats.household_size.reindex(size.index).dropna()
    relative = (size[observed.index] / observed - 1.0).abs()
    return TargetResult(
        "household_size",
        float(relative.mean()),
        np.nan,
        float(size[observed.index].mean()),
        float(observed.mean()),
    )


def dwelling_stock(stats, run, window, end) -> TargetResult:
    """Sum of |model dwellings - 06265 dwellings| / sum of 06265, base year."""
    model = run.panel("dwellings")[window.base_year]
    stock = stats.dwellings[stats.dwellings["year"] == window.base_year]
    observed = stock.set_index("kommunenummer")["dwellings_total"].reindex(model.index)
    error = float((model - observed).abs().sum() / observed.sum())
    return TargetResult("dwelling_stock", error, np.nan, float(model.sum()), float(observed.sum()))


def price_level(stats, run, window, end) -> TargetResult:
    """Dwelling-weighted mean |log(model / 06035)| of municipal mean prices (base year).

    The model's municipal mean covers all types, so it is compared with 06035's types
    averaged with the 06265 stock weights, over municipalities where SSB publishes every
    type.
    """
    prices = stats.prices[stats.prices["year"] == window.base_year]
    table = prices.pivot(index="kommunenummer", columns="boligtype_code", values="price_nok_per_m2")
    table = table.dropna()
    weight = stats.type_stock_weights(window.base_year).unstack("boligtype_code")
    weight = weight.reindex(index=table.index, columns=table.columns).fillna(0.0)
    observed = (table * weight).sum(axis=1) / weight.sum(axis=1)
    model = run.panel("mean_price_nok_per_m2")[window.base_year]
    common = observed.index.intersection(model.index)
    log_ratio = np.log(model[common] / observed[common]).abs()
    stock = run.panel("dwellings")[window.base_year][common]
    error = float((log_ratio * stock).sum() / stock.sum())
    return TargetResult("price_level", error, np.nan, float(model[OSLO]), float(observed[OSLO]))


def oslo_completions(stats, run, window, end) -> TargetResult:
    """|Oslo's dwellings built per year / its completions 2015-2024 (05940) - 1|."""
    model = float(_built_per_year(run, window, end)[OSLO])
    completed = stats.oslo_housing["dwellings_completed_05940"].dropna()
    observed = float(completed.mean())
    return TargetResult("oslo_completions", abs(model / observed - 1.0), np.nan, model, observed)


def _refugees_per_year(run: RunTables, window: Window, end: int) -> pd.Series:
    settled = run.panel("refugees_settled")
    years = [year for year in settled.columns if window.base_year <= year < end]
    return settled[years].mean(axis=1)


def refugees_settled(stats, run, window, end) -> TargetResult:
    """|Refugees settled a year in the run / IMDi's 2024 status for the region - 1|."""
    model = _refugees_per_year(run, window, end)
    table = stats.refugees[stats.refugees["year"] == stats.refugees["year"].max()]
    status = pd.to_numeric(table["imdi_status_settled_2024"], errors="coerce")
    settled = status.fillna(table["refugees_settled_total"])  # "< 5" suppressed: the count
    observed = float(settled[table["kommunenummer"].isin(model.index)].sum())
    return TargetResult(
        "refugees_settled",
        abs(float(model.sum()) / observed - 1.0),
        np.nan,
        float(model.sum()),
        observed,
    )


def refugee_distribution(stats, run, window, end) -> TargetResult:
    """Half the sum of |model share - IMDi 2022-2024 share| of the refugees settled."""
    model = _refugees_per_year(run, window, end)
    table = stats.refugees[stats.refugees["kommunenummer"].isin(model.index)]
    observed = table.groupby("kommunenummer")["refugees_settled_total"].sum().reindex(model.index)
    observed = observed.fillna(0.0)
    if model.sum() <= 0:
        return TargetResult("refugee_distribution", np.nan, np.nan, 0.0, float(observed.sum()))
    gap = 0.5 * float((model / model.sum() - observed / observed.sum()).abs().sum())
    return TargetResult(
        "refugee_distribution",
        gap,
        np.nan,
        float(model.get(OSLO, 0.0) / model.sum()),
        float(observed.get(OSLO, 0.0) / observed.sum()),
    )


Measure = Callable[[Statistics, RunTables, Window, int], TargetResult]

MEASURES: dict[str, Measure] = {
    "municipal_growth": municipal_growth,
    "oslo_growth": oslo_growth,
    "small_municipal_growth": small_municipal_growth,
    "construction_pace": construction_pace,
    "construction_region": construction_region,
    "vacancy_stability": vacancy_stability,
    "vacancy_drift": vacancy_drift,
    "region_real_price_trend": region_real_price_trend,
    "municipal_price_drift": municipal_price_drift,
    "jobs_growth": jobs_growth,
    "job_growth_pattern": job_growth_pattern,
    "home_municipality_work_share": home_municipality_work_share,
    "regional_population": regional_population,
    "commuting_cpc": commuting_cpc,
    "oslo_in_commuters": oslo_in_commuters,
    "car_share_of_motorised": car_share_of_motorised,
    "household_size": household_size,
    "dwelling_stock": dwelling_stock,
    "price_level": price_level,
    "oslo_completions": oslo_completions,
    "refugees_settled": refugees_settled,
    "refugee_distribution": refugee_distribution,
}


def evaluate_targets(
    run: RunTables,
    end_year: int,
    specs: list[TargetSpec] | None = None,
    window: Window | None = None,
    stats: Statistics | None = None,
) -> list[TargetResult]:
    """Every target measured on ``run`` over the base year to ``end_year``."""
    if specs is None or window is None:
        window, specs = read_targets()
    stats = stats or Statistics()
    results = []
    for spec in specs:
        result = MEASURES[spec.name](stats, run, window, end_year)
        results.append(
            TargetResult(spec.name, result.error, spec.tolerance, result.model, result.observed)
        )
    return results


def objective(results: list[TargetResult], specs: list[TargetSpec]) -> float:
    """Sum over fitted targets of weight * (error / tolerance)^2 (NaN errors count as 100)."""
    by_name = {result.name: result for result in results}
    total = 0.0
    for spec in specs:
        if spec.fitted and spec.weight > 0:
            score = by_name[spec.name].score
            total += spec.weight * (score**2 if np.isfinite(score) else 100.0)
    return total
