"""The demography step as columns versus one plain ``mesa.Agent`` per household.

Both versions start from the same synthetic population and apply the same rules (deaths by
the life table, births by the fertility table, ageing, labour-status churn with the rising
employment propensities, household incomes following deaths, employment and real growth,
dissolving empty households). The plain version keeps each household as a Mesa agent
holding its income and lists of its members' ages, sexes and employment, and steps them with
``agents.shuffle_do("step")``. Both are timed side by side in one process, over the same
number of years.

    python benchmarks/bench_plain_mesa.py --scales 0.05 0.2 --years 3
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.demography import ADULT_AGE_YEARS  # noqa: E402
from model.region_model import RegionModel  # noqa: E402
from model.synthesis.attributes import employment_propensity  # noqa: E402


class PlainHousehold(mesa.Agent):
    """A household as one Python object holding its members in lists."""

    def __init__(
        self, model: PlainModel, municipality: int, income_nok: float, ages, sexes, employed
    ) -> None:
        super().__init__(model)
        self.municipality = municipality
        self.income_nok = income_nok
        self.ages = list(ages)
        self.sexes = list(sexes)
        self.employed = list(employed)

    def step(self) -> None:
        model = self.model
        rnd = model.random.random
        ages, sexes, employed = [], [], []
        births = 0
        log_change = 0.0
        for age, sex, works in zip(self.ages, self.sexes, self.employed, strict=True):
            a = min(age, 100)
            if rnd() < model.death[sex][a]:
                log_change -= model.log_per_employed * works
                log_change -= model.log_per_adult * (age >= ADULT_AGE_YEARS)
                continue
            if sex == 0 and rnd() < model.fertility[a]:
                births += 1
            age = min(age + 1, 100)
            worked = works
            if rnd() < model.churn:
                p = model.propensity[sex][age] * model.factor[self.municipality]
                works = rnd() < min(p * model.trend, max(p, model.propensity_max))
            if age < 15 or age >= 75:
                works = False
            log_change += model.log_per_employed * (works - worked)
            ages.append(age)
            sexes.append(sex)
            employed.append(works)
        for _ in range(births):
            ages.append(0)
            sexes.append(1 if rnd() < model.male_share else 0)
            employed.append(False)
        self.ages, self.sexes, self.employed = ages, sexes, employed
        self.income_nok *= math.exp(log_change) * model.income_growth
        if not ages:
            self.remove()


class PlainModel(mesa.Model):
    """One Mesa agent per household, built from a RegionModel's columns."""

    def __init__(self, source: RegionModel, seed: int = 1) -> None:
        super().__init__(rng=seed)
        rates = source.demography.rates
        self.death = rates.death_probability.tolist()
        self.fertility = rates.births_per_woman.tolist()
        ages = np.arange(101)
        self.propensity = [
            employment_propensity(ages, np.full(101, s), rates.employment_rates).tolist()
            for s in (0, 1)
        ]
        self.factor = source.demography.employment_factor.tolist()
        labour = source.demography.params.labour
        self.churn = labour.churn_per_year
        self.propensity_growth = labour.propensity_growth_per_year
        self.propensity_max = labour.propensity_max
        self.years = 0
        self.trend = 1.0
        income = source.demography.income
        self.log_per_employed = income.log_income_per_employed
        self.log_per_adult = income.log_income_per_adult
        self.income_growth = 1.0 + source.demography.params.income.real_growth_per_year
        self.male_share = source.demography.params.births.male_share
        persons, households = source.persons, source.households
        order = np.argsort(persons.household, kind="stable")
        bounds = np.searchsorted(persons.household[order], np.arange(len(households) + 1))
        age, sex, employed = (
            persons.age_years[order].tolist(),
            persons.sex[order].tolist(),
            persons.employed[order].tolist(),
        )
        municipality = households.municipality.tolist()
        income = households.income_nok.tolist()
        for h in range(len(households)):
            lo, hi = bounds[h], bounds[h + 1]
            PlainHousehold(
                self, municipality[h], income[h], age[lo:hi], sex[lo:hi], employed[lo:hi]
            )

    def step(self) -> None:
        self.years += 1
        self.trend = (1.0 + self.propensity_growth) ** self.years
        self.agents.shuffle_do("step")


def compare(scale: float, years: int) -> dict:
    columns = RegionModel(seed=1, scale=scale)
    started = time.perf_counter()
    plain = PlainModel(RegionModel(seed=1, scale=scale))
    plain_build = time.perf_counter() - started
    column_times, plain_times = [], []
    for _ in range(years):
        started = time.perf_counter()
        columns.demography.step(columns.persons, columns.households, columns.dwellings)
        column_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain.step()
        plain_times.append(time.perf_counter() - started)
    plain_persons = sum(len(agent.ages) for agent in plain.agents)
    return {
        "scale": scale,
        "households": len(columns.households),
        "persons_after": len(columns.persons),
        "plain_persons_after": plain_persons,
        "plain_agents_build_seconds": round(plain_build, 3),
        "columns_step_seconds": round(statistics.mean(column_times), 4),
        "plain_step_seconds": round(statistics.mean(plain_times), 4),
        "speedup": round(statistics.mean(plain_times) / statistics.mean(column_times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.05, 0.2])
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    results = []
    for scale in args.scales:
        print(f"comparing at scale {scale} ...", file=sys.stderr, flush=True)
        results.append(compare(scale, args.years))
    print(
        f"{'scale':>6} {'households':>11} {'columns s/yr':>13} {'plain s/yr':>11} {'speed-up':>9}"
    )
    for r in results:
        print(
            f"{r['scale']:>6} {r['households']:>11,} {r['columns_step_seconds']:>13.4f} "
            f"{r['plain_step_seconds']:>11.3f} {r['speedup']:>8.1f}x"
        )
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "plain_mesa.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
