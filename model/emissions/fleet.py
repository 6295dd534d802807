"""Vehicle stocks by energy carrier with yearly turnover (design guide step 8).

A ``FleetStock`` holds one vehicle class for a set of groups (municipalities, or the
through traffic of a corridor): vehicles by group and carrier. Each year every carrier loses
its attrition share, and new vehicles with the year's carrier shares fill each group up to
its target stock (a shrinking group loses the excess in proportion). Emission and
electricity per vehicle-km follow the stock's carrier mix.
"""

from __future__ import annotations

import numpy as np

from model.emissions.parameters import VehicleClass


class FleetStock:
    """Vehicles of one class by group (rows) and energy carrier (columns)."""

    def __init__(self, vehicle_class: VehicleClass, initial_share: np.ndarray) -> None:
        """Start from ``initial_share`` (groups x carriers, rows summing to 1), no vehicles yet.

        The stock is sized by the first ``set_size`` or ``turnover``.
        """
        self.vehicle_class = vehicle_class
        share = np.asarray(initial_share, dtype=float)
        self._initial_share = share / share.sum(axis=1, keepdims=True)
        self.vehicles = np.zeros_like(self._initial_share)
        self.new_vehicles = np.zeros_like(self._initial_share)
        self._sized = False

    @property
    def carriers(self) -> tuple[str, ...]:
        """Energy carriers, the columns."""
        return self.vehicle_class.carriers

    def set_size(self, target: np.ndarray) -> None:
        """Size a fresh stock: ``target`` vehicles per group with the initial shares."""
        self.vehicles = self._initial_share * np.asarray(target, dtype=float)[:, None]
        self._sized = True

    def turnover(self, target: np.ndarray, new_share: np.ndarray) -> None:
        """One year: attrition, then new vehicles with ``new_share`` up to ``target``.

        ``new_share`` is carriers (the same for every group) or groups x carriers.
        """
        target = np.asarray(target, dtype=float)
        if not self._sized:
            self.set_size(target)
        attrition = np.asarray(self.vehicle_class.attrition_per_year)
        survivors = self.vehicles * (1.0 - attrition)
        kept = survivors.sum(axis=1)
        shrink = np.divide(target, kept, out=np.ones_like(kept), where=kept > target)
        survivors *= np.minimum(shrink, 1.0)[:, None]
        missing = np.maximum(target - survivors.sum(axis=1), 0.0)
        share = np.broadcast_to(np.asarray(new_share, dtype=float), survivors.shape)
        self.new_vehicles = share * missing[:, None]
        self.vehicles = survivors + self.new_vehicles

    def shares(self) -> np.ndarray:
        """Carrier shares of each group's stock (groups x carriers)."""
        total = self.vehicles.sum(axis=1, keepdims=True)
        return np.divide(
            self.vehicles,
            total,
            out=np.broadcast_to(self._initial_share, self.vehicles.shape).copy(),
            where=total > 0,
        )

    def share_of(self, carriers: tuple[str, ...], new: bool = False) -> np.ndarray:
        """Share of the stock (or of this year's new vehicles) using ``carriers``, by group."""
        columns = [self.carriers.index(c) for c in carriers]
        table = self.new_vehicles if new else self.vehicles
        total = table.sum(axis=1)
        part = table[:, columns].sum(axis=1)
        return np.divide(part, total, out=np.zeros_like(total), where=total > 0)

    def co2e_g_per_km(self, biofuel_share: float) -> np.ndarray:
        """Mean emission of a vehicle-km of each group's stock, g CO2e."""
        factor = np.asarray(self.vehicle_class.co2e_g_per_km, dtype=float).copy()
        fossil = [self.carriers.index(c) for c in self.vehicle_class.fossil_liquid]
        factor[fossil] *= 1.0 - biofuel_share
        return self.shares() @ factor

    def electricity_kwh_per_km(self) -> np.ndarray:
        """Mean grid electricity of a vehicle-km of each group's stock, kWh."""
        return self.shares() @ np.asarray(self.vehicle_class.electricity_kwh_per_km, dtype=float)


def initial_shares_by_centrality(
    oslo_share: np.ndarray,
    zero_emission: np.ndarray,
    centrality_class: np.ndarray,
    relative_by_centrality: tuple[float, ...],
) -> np.ndarray:
    """Carrier shares by municipality from Oslo's, scaled by centrality for zero emission.

    ``zero_emission`` is a boolean mask of carriers. A municipality of centrality class
    ``c`` has Oslo's zero-emission share times ``relative_by_centrality[c - 1]``; the other
    carriers share the rest in Oslo's proportions.
    """
    oslo = np.asarray(oslo_share, dtype=float)
    mask = np.asarray(zero_emission, dtype=bool)
    factor = np.asarray(relative_by_centrality, dtype=float)[np.asarray(centrality_class) - 1]
    ze = np.clip(oslo[mask].sum() * factor, 0.0, 1.0)
    other = oslo * ~mask
    other_total = other.sum()
    shares = np.zeros((len(factor), len(oslo)))
    if oslo[mask].sum() > 0:
        shares[:, mask] = (oslo[mask] / oslo[mask].sum())[None, :] * ze[:, None]
    if other_total > 0:
        shares[:, ~mask] = (other[~mask] / other_total)[None, :] * (1.0 - ze)[:, None]
    return shares
