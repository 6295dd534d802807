"""Rail projects as levers: the network, skims and commuting change from the opening year."""

from __future__ import annotations

import pytest

from model.region_model import RegionModel


@pytest.fixture(scope="module")
def with_and_without():
    runs = {}
    for name, projects in (("base", {}), ("ringeriksbanen", {"ringeriksbanen": 2025})):
        model = RegionModel(seed=3, scale=0.02, rail_projects=projects)
        costs = []
        for _ in range(2):
            codes = list(model.world.codes)
            costs.append(model.commuting_cost_min[codes.index("3305"), codes.index("0301")])
            model.step()
        runs[name] = (model, costs)
    return runs


def test_ringeriksbanen_shortens_honefoss_oslo_from_its_opening_year(with_and_without):
    base_costs = with_and_without["base"][1]
    project_costs = with_and_without["ringeriksbanen"][1]
    assert project_costs[0] == pytest.approx(base_costs[0])  # 2024: not open yet
    assert project_costs[1] < base_costs[1] - 5  # 2025: open, minutes of generalised time


def test_ringeriksbanen_raises_commuting_from_ringerike_to_oslo(with_and_without):
    def ringerike_to_oslo(model):
        od = model.commuting_table()
        rows = od[
            (od["year"] == 2025)
            & (od["home_kommunenummer"] == "3305")
            & (od["work_kommunenummer"] == "0301")
        ]
        return float(rows["persons"].sum())

    base = ringerike_to_oslo(with_and_without["base"][0])
    project = ringerike_to_oslo(with_and_without["ringeriksbanen"][0])
    assert project > 1.15 * base


def test_unknown_rail_project_is_refused():
    with pytest.raises(ValueError, match="rail project 'rikstunnelen' is unknown"):
        RegionModel(seed=1, scale=0.01, rail_projects={"rikstunnelen": 2030})
