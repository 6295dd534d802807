"""The synthetic base-year population: persons, households, dwellings and firms.

``synthesize`` turns the bundle's statistics for the chosen municipalities into column
tables (see ``agents.population``). At scale 1.0 there is one row per real person,
household and dwelling; at a smaller scale each municipality keeps ``round(persons * scale)``
persons, drawn without replacement from its age-sex table, and every household carries the
weight (region's persons / sampled persons), so weighted totals stay in full-population
units: exact for the region, within half a sampled person for each municipality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from agents.population import (
    DWELLING_TYPE_NAMES,
    Dwellings,
    Firms,
    Households,
    Persons,
    consumption_units,
    household_sizes,
    oldest_member_age,
)
from model.bundle import Bundle
from model.parameters import SynthesisParameters
from model.synthesis.attributes import (
    assign_employment,
    assign_municipal_rental,
    assign_tenure,
    household_income_nok,
)
from model.synthesis.dwellings import build_dwellings
from model.synthesis.firms import JobSectors, build_firms, load_job_sectors
from model.synthesis.households import form_households, persons_per_household
from model.synthesis.placement import dwelling_cell_weights, firm_cell_weights
from model.world import World

MAX_AGE_YEARS = 100
HOUSE_TYPES = ("row_terraced", "two_family", "detached")


@dataclass
class Population:
    """The synthetic agents of the region and the targets they were built to."""

    persons: Persons
    households: Households
    dwellings: Dwellings
    firms: Firms
    targets: pd.DataFrame  # one row per municipality: the statistics used
    income_level_log_nok: np.ndarray  # per municipality, see household_income_nok
    household_size_fit: dict[str, float] = field(default_factory=dict)
    # Dwellings each land cell holds in expectation (full-population units): the
    # municipality's stock spread by the placement weights. The sampled stock of a cell is
    # this plus sampling noise that grows as the scale falls; zoning and the type of new
    # dwellings read this, so that they are the same at every scale.
    expected_dwellings_per_cell: np.ndarray = field(default_factory=lambda: np.zeros(0))


def synthesize(
    bundle: Bundle,
    world: World,
    scale: float,
    params: SynthesisParameters,
    stream: Callable[[str], np.random.Generator],
    establishment_sizes: pd.DataFrame,
    job_sectors: JobSectors | None = None,
) -> Population:
    """Build the base-year population of ``world`` from ``bundle`` at ``scale``.

    ``job_sectors`` gives the national sector mix of the firms (default: read from
    ``data/parameters/job_sectors.csv``).
    """
    targets, size_fit = municipal_targets(bundle, list(world.codes))
    age, sex, person_municipality, sampled = sample_persons(
        age_sex_counts(bundle, list(world.codes)), scale, stream("synthesis.persons")
    )
    # One weight for every row: the region's persons per sampled person. A common weight
    # keeps weighted counts exact when people move, pair up or arrive across municipalities.
    weight = np.full(len(sampled), targets["population"].sum() / max(sampled.sum(), 1))

    person_household, household_municipality = _households(
        age, person_municipality, sampled, targets, params, stream("synthesis.households")
    )
    n_households = len(household_municipality)
    employed = assign_employment(
        age,
        sex,
        person_municipality,
        np.round(targets["employed"].to_numpy(float) / weight).astype(np.int64),
        bundle["employment_rate_by_age_sex.csv"],
        stream("synthesis.employment"),
    )
    persons = Persons(age, sex, person_household, employed)
    size = household_sizes(persons, n_households)
    n_employed = np.bincount(person_household, weights=employed, minlength=n_households)
    n_adults = np.bincount(person_household, weights=age >= 18, minlength=n_households)
    income, income_level = household_income_nok(
        n_employed,
        n_adults,
        household_municipality,
        targets["median_income_nok"].to_numpy(float),
        params.income,
        stream("synthesis.income"),
    )
    household_weight = weight[household_municipality]
    population = targets["population"].to_numpy(float)
    cell_weights = dwelling_cell_weights(world, population, params.placement)
    dwellings, household_dwelling = build_dwellings(
        world,
        household_municipality,
        size,
        household_weight,
        cell_weights,
        targets[[f"dw_{name}_pct" for name in DWELLING_TYPE_NAMES]].to_numpy(float),
        params.dwellings,
        stream("synthesis.dwellings"),
    )
    house_types = [DWELLING_TYPE_NAMES.index(name) for name in HOUSE_TYPES]
    tenure = assign_tenure(
        income,
        oldest_member_age(persons, n_households),
        np.isin(dwellings.dwelling_type[household_dwelling], house_types),
        household_municipality,
        targets[["owner_pct", "coop_owner_pct", "renter_pct"]].to_numpy(float),
        params.tenure,
        stream("synthesis.tenure"),
    )
    assign_municipal_rental(
        tenure,
        income / consumption_units(persons, size),
        household_municipality,
        household_dwelling,
        dwellings,
        params.tenure.municipal_rental_share_of_households,
        stream("synthesis.municipal_rental"),
    )
    households = Households(
        household_municipality,
        household_dwelling,
        income,
        tenure,
        household_weight,
        origin=np.zeros(n_households, dtype=np.int8),
        arrival_year=np.zeros(n_households, dtype=np.int16),
    )
    if job_sectors is None:
        job_sectors = load_job_sectors()
    firms = build_firms(
        [world.cells_of(m) for m in range(world.n_municipalities)],
        firm_cell_weights(world, population, params.placement, params.firms),
        targets["jobs"].to_numpy(np.int64),
        establishment_sizes,
        job_sectors.share,
        stream("synthesis.firms"),
    )
    # households / (1 - vacancy): the stock the rows stand for, before rounding to rows
    stock = np.bincount(household_municipality, household_weight, world.n_municipalities) / (
        1.0 - params.dwellings.vacancy_rate
    )
    expected = expected_per_cell(world, stock, cell_weights)
    return Population(
        persons, households, dwellings, firms, targets, income_level, size_fit, expected
    )


def expected_per_cell(world: World, per_municipality: np.ndarray, cell_weights: np.ndarray):
    """Each municipality's total spread over its land cells in proportion to ``cell_weights``."""
    m = world.cell_municipality
    weight_sum = np.bincount(m, cell_weights, world.n_municipalities)
    share = np.divide(cell_weights, weight_sum[m], out=np.zeros(len(m)), where=weight_sum[m] > 0)
    return per_municipality[m] * share


def age_sex_counts(bundle: Bundle, codes: list[str]) -> np.ndarray:
    """Persons by municipality, sex (female, male) and age 0-100: shape (M, 2, 101)."""
    table = bundle["population_by_age_sex.csv"]
    table = table[table["kommunenummer"].isin(codes)]
    counts = np.zeros((len(codes), 2, MAX_AGE_YEARS + 1), dtype=np.int64)
    m = table["kommunenummer"].map({code: i for i, code in enumerate(codes)}).to_numpy()
    s = (table["sex"] == "male").to_numpy().astype(int)
    a = np.minimum(table["age"].to_numpy(), MAX_AGE_YEARS)
    np.add.at(counts, (m, s, a), table["persons"].to_numpy())
    return counts


def sample_persons(
    counts: np.ndarray, scale: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Persons (age, sex, municipality) drawn from ``counts`` at ``scale``.

    Scale 1.0 keeps everyone. Below it, each municipality keeps ``max(1, round(n * scale))``
    persons drawn without replacement (multivariate hypergeometric), so the sample's age-sex
    mix is the statistic's up to sampling noise. Returns also the sampled count per
    municipality.
    """
    n_municipalities = counts.shape[0]
    flat = counts.reshape(n_municipalities, -1)
    if scale < 1.0:
        sampled_flat = np.empty_like(flat)
        for m in range(n_municipalities):
            keep = max(1, int(round(flat[m].sum() * scale)))
            sampled_flat[m] = rng.multivariate_hypergeometric(flat[m], keep)
        flat = sampled_flat
    per_municipality = flat.sum(axis=1)
    kinds = np.tile(np.arange(flat.shape[1]), n_municipalities)
    repeat = flat.ravel()
    kind = np.repeat(kinds, repeat)
    sex, age = np.divmod(kind, MAX_AGE_YEARS + 1)
    municipality = np.repeat(np.arange(n_municipalities), per_municipality)
    return (
        age.astype(np.int16),
        sex.astype(np.int8),
        municipality.astype(np.int16),
        per_municipality,
    )


def municipal_targets(bundle: Bundle, codes: list[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The statistics each municipality is synthesized to, one row per municipality."""
    municipalities = bundle["municipalities.csv"].set_index("kommunenummer")
    employment = bundle["employment.csv"].set_index("kommunenummer").reindex(codes)
    socio = bundle["household_socioeconomics.csv"].set_index("kommunenummer").reindex(codes)
    counts = age_sex_counts(bundle, sorted(municipalities.index))
    all_codes = pd.Index(sorted(municipalities.index))
    totals = counts.sum(axis=(1, 2))
    child_share = pd.Series(counts[:, :, :18].sum(axis=(1, 2)) / totals, index=all_codes)
    elderly_share = pd.Series(counts[:, :, 67:].sum(axis=(1, 2)) / totals, index=all_codes)
    known = bundle["household_size.csv"].set_index("kommunenummer")["persons_per_household"]
    size, fit = persons_per_household(known, child_share, elderly_share)
    targets = pd.DataFrame(index=pd.Index(codes, name="kommunenummer"))
    targets["population"] = municipalities.loc[codes, "population"].to_numpy()
    targets["persons_per_household"] = size.loc[codes].to_numpy()
    targets["persons_per_household_source"] = np.where(
        pd.Index(codes).isin(known.index), "SSB 2019", "fitted on age structure"
    )
    targets["employed"] = employment["employed_by_residence"].to_numpy()
    targets["jobs"] = employment["employed_by_workplace_jobs"].to_numpy()
    targets["median_income_nok"] = socio["median_household_income_after_tax_nok"].to_numpy()
    targets["owner_pct"] = socio["hh_owner_pct"].to_numpy()
    targets["coop_owner_pct"] = socio["hh_coop_owner_pct"].fillna(0.0).to_numpy()
    targets["renter_pct"] = socio["hh_renter_pct"].to_numpy()
    for name in DWELLING_TYPE_NAMES:
        targets[f"dw_{name}_pct"] = socio[f"dw_{name}_pct"].to_numpy()
    return targets, fit


def _households(
    age: np.ndarray,
    municipality: np.ndarray,
    sampled: np.ndarray,
    targets: pd.DataFrame,
    params: SynthesisParameters,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Household of every person and municipality of every household."""
    person_household = np.empty(len(age), dtype=np.int32)
    household_municipality = []
    first = 0
    size = targets["persons_per_household"].to_numpy(float)
    for m in range(len(sampled)):
        rows = np.flatnonzero(municipality == m)
        n_households = int(np.clip(round(len(rows) / size[m]), 1, max(len(rows), 1)))
        local = form_households(age[rows], n_households, params.households, rng)
        person_household[rows] = first + local
        household_municipality.append(np.full(n_households, m, dtype=np.int16))
        first += n_households
    return person_household, np.concatenate(household_municipality)
