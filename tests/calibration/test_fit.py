"""The fit: deterministic for a seed list, on a process pool or not; targets that can fail."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from calibration.evaluate import Evaluation, evaluate
from calibration.fit import FitSettings, calibrate
from calibration.targets import evaluate_targets, read_targets
from model.parameters import calibrated_values

TINY = FitSettings(
    seeds=(3,),
    scale=0.01,
    constant_rounds=1,
    passes=1,
    population_per_parameter=1,
    generations=1,
    optimiser_seed=7,
)


def test_calibration_is_deterministic_for_a_seed_list_in_process_and_on_a_pool():
    alone = calibrate(TINY)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(2, mp_context=context) as executor:
        pooled = calibrate(TINY, executor)
    assert pooled.overlay == alone.overlay
    assert pooled.fitted == alone.fitted
    assert pooled.objective_after == alone.objective_after
    assert alone.evaluations > 0
    # the fit writes every solved constant and every fitted parameter
    solved = alone.overlay["housing_market.toml"]["choice.municipality_constant"]
    assert len(solved) == 65 and any(value != 0 for value in solved.values())
    assert set(alone.fitted) >= {"price_vacancy_response", "employment_propensity_growth"}


def test_a_mis_set_parameter_fails_its_tolerance():
    window, specs = read_targets()
    specs = [spec for spec in specs if spec.name in ("oslo_growth", "municipal_growth")]
    calibrated = calibrated_values()

    def results(overlay):
        run = evaluate(Evaluation(overlay, 12, 0.05, window.fit_end_year))
        return {r.name: r for r in evaluate_targets(run, window.fit_end_year, specs, window)}

    good = results(calibrated)
    assert all(result.passed for result in good.values())

    mis_set = {name: dict(fields) for name, fields in calibrated.items()}
    constants = dict(mis_set["housing_market.toml"]["choice.municipality_constant"])
    constants["0301"] -= 2.0  # Oslo made much less attractive than fitted
    mis_set["housing_market.toml"]["choice.municipality_constant"] = constants
    bad = results(mis_set)
    assert not bad["oslo_growth"].passed
    assert bad["oslo_growth"].model < good["oslo_growth"].model - 0.5
