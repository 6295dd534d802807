"""Calibrate the mode constants of the commute mode choice and report the fit.

Run ``python -m calibration.mode_choice`` (about 10 s): it builds the base year at scale 0.05
(seed 1), runs the first year's commuting, fits the constants so that the calibration area's
shares (``target_share`` of ``data/parameters/mode_choice.toml``) are met, and prints the
constants to paste into the file with the fit for the area and for the validation
municipality (Oslo kommune), which is not fitted.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from model.mode_choice import MODES, calibrate_constants, expected_probabilities, shares
from model.region_model import RegionModel
from model.travel import Commuters


def calibration_area(codes: tuple[str, ...], prefixes: tuple[str, ...]) -> np.ndarray:
    """Municipality indices whose number starts with one of ``prefixes``."""
    return np.array([i for i, code in enumerate(codes) if code.startswith(prefixes)])


def fit_table(commuters: Commuters, constant: dict[str, float], model: RegionModel) -> pd.DataFrame:
    """Model and observed shares (per cent) for the calibration area and validation."""
    params = model.travel.mode_params
    probability = expected_probabilities(
        commuters.utility, constant, model.travel.no_car_share[commuters.home]
    )
    codes = model.world.codes
    groups = {
        "calibration area (Ruter area)": (
            np.isin(commuters.home, calibration_area(codes, params.calibration_area_prefixes)),
            params.target_share,
        ),
        f"validation ({params.validation_municipality})": (
            commuters.home == codes.index(params.validation_municipality),
            params.validation_share,
        ),
    }
    rows = []
    for name, (mask, observed) in groups.items():
        model_share = shares(probability[mask], commuters.weight[mask])
        observed_share = np.array([observed[mode] for mode in MODES])
        not_walk = np.array([mode != "walk" for mode in MODES])
        for k, mode in enumerate(MODES):
            rows.append(
                {
                    "group": name,
                    "mode": mode,
                    "model_pct": round(100 * model_share[k], 1),
                    "observed_pct": round(100 * observed_share[k], 1),
                    "model_pct_without_walk": _without_walk(model_share, not_walk, k),
                    "observed_pct_without_walk": _without_walk(observed_share, not_walk, k),
                }
            )
    return pd.DataFrame(rows)


def _without_walk(share: np.ndarray, not_walk: np.ndarray, k: int) -> float | None:
    """Per cent of mode ``k`` among car, public transport and bike (None for walk)."""
    if not not_walk[k]:
        return None
    return round(100 * share[k] / share[not_walk].sum(), 1)


def base_year_commuters(seed: int = 1, scale: float = 0.05) -> tuple[RegionModel, Commuters]:
    """A model after its first year's commuting and its commuters."""
    model = RegionModel(seed=seed, scale=scale)
    model.step()
    commuters = model.travel.commuters(
        model.persons, model.households, model.dwellings, model.firms
    )
    return model, commuters


def main() -> None:
    """Fit, print the constants and the fit table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    model, commuters = base_year_commuters(args.seed, args.scale)
    params = model.travel.mode_params
    area = np.isin(
        commuters.home, calibration_area(model.world.codes, params.calibration_area_prefixes)
    )
    constant = calibrate_constants(
        commuters.utility[area],
        commuters.weight[area],
        model.travel.no_car_share[commuters.home[area]],
        params.target_share,
    )
    print("constant = { " + ", ".join(f"{m} = {v}" for m, v in constant.items()) + " }")
    print(fit_table(commuters, constant, model).to_string(index=False))


if __name__ == "__main__":
    main()
