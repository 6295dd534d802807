"""Fit the road traffic's vehicle-km factors on Oslo's road emissions of the base year.

Run ``python -m calibration.emissions`` (about 10 s): it builds the base year at scale 0.05
(seed 1) with every factor at 1, steps the base year, and sets each vehicle class's factor
to Miljødirektoratet's figure for Oslo (``emissions_oslo.csv``) over the model's. Emissions
are linear in the factor, so one pass fits exactly at that seed and scale. The factors are
written to ``data/parameters/emissions_calibration.toml`` (``--dry-run`` only prints them).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from model.emissions.ledger import OSLO, read_statistics
from model.emissions.parameters import ROAD_SECTOR, ROAD_SOURCES, VEHICLE_CLASSES
from model.parameters import PARAMETERS_DIR
from model.region_model import RegionModel

CALIBRATION_FILE = "emissions_calibration.toml"


def oslo_road(ledger: pd.DataFrame, year: int) -> dict[str, float]:
    """Oslo's road emissions in ``year`` by vehicle class, tonnes CO2e."""
    rows = ledger[
        (ledger["kommunenummer"] == OSLO)
        & (ledger["year"] == year)
        & (ledger["sector"] == ROAD_SECTOR)
    ]
    by_source = rows.groupby("source")["co2e_tonnes"].sum()
    return {name: float(by_source.get(source, 0.0)) for name, source in ROAD_SOURCES.items()}


def observed_oslo_road(model: RegionModel) -> dict[str, float]:
    """Miljødirektoratet's Oslo road emissions of the base year by vehicle class."""
    statistics = read_statistics(model.bundle)
    return oslo_road(statistics, model.year)


def write_calibration(path: Path, factors: dict[str, float], fitted_on: str) -> None:
    """Write the factors file atomically (a temporary file renamed into place)."""
    values = ", ".join(f"{name} = {factors[name]:.4f}" for name in VEHICLE_CLASSES)
    text = (
        "# Written by `python -m calibration.emissions`: one vehicle-km factor per class,\n"
        "# Miljødirektoratet's Oslo road emissions of the base year over the model's.\n"
        f"vehicle_km_factor = {{ {values} }}\n"
        f'fitted_on = "{fitted_on}"\n'
    )
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as f:
        f.write(text)
    Path(f.name).replace(path)


def fit(seed: int = 1, scale: float = 0.05) -> tuple[dict[str, float], pd.DataFrame]:
    """Factors that make Oslo's modelled base-year road emissions match the statistic."""
    with tempfile.TemporaryDirectory() as folder:
        unit = Path(folder)
        for path in PARAMETERS_DIR.iterdir():
            if path.is_file():
                shutil.copy(path, unit / path.name)
        write_calibration(unit / CALIBRATION_FILE, dict.fromkeys(VEHICLE_CLASSES, 1.0), "unit")
        model = RegionModel(seed=seed, scale=scale, parameters_dir=unit)
        base_year = model.year
        observed = observed_oslo_road(model)
        model.step()
        modelled = oslo_road(model.emissions_table(), base_year)
    factors = {name: observed[name] / modelled[name] for name in VEHICLE_CLASSES}
    table = pd.DataFrame(
        {
            "class": list(VEHICLE_CLASSES),
            "observed_tonnes": [observed[n] for n in VEHICLE_CLASSES],
            "model_at_factor_1_tonnes": [modelled[n] for n in VEHICLE_CLASSES],
            "factor": [factors[n] for n in VEHICLE_CLASSES],
        }
    )
    return factors, table


def main() -> None:
    """Fit, print and (unless ``--dry-run``) write the factors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    factors, table = fit(args.seed, args.scale)
    print(table.round(3).to_string(index=False))
    if not args.dry_run:
        fitted_on = f"Oslo road emissions of the base year, seed {args.seed}, scale {args.scale}"
        write_calibration(PARAMETERS_DIR / CALIBRATION_FILE, factors, fitted_on)
        print(f"written: {PARAMETERS_DIR / CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
