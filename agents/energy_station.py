"""Energy stations for heavy vehicles: charging and fuelling sites, as Mesa agents.

A station has a site (a 1 km land cell), the energy carriers it offers (electricity,
hydrogen, biogas), a capacity (charge points and MW, kg of hydrogen or biogas a day), a
planned start year and a grid connection. Each year it asks the grid for a connection once
its start year has come (a station with electricity needs the municipality's headroom for
its peak draw; without it the start waits), then serves the demand routed to it and records
its utilisation. A station used beyond its capacity turns trucks away: its availability,
which the fleet model reads as coverage, falls to capacity / demand.
"""

from __future__ import annotations

import mesa

PLANNED = "planned"
WAITING_FOR_GRID = "waiting_for_grid"
OPERATING = "operating"
HOURS_PER_YEAR = 8760.0


class EnergyStation(mesa.Agent):
    """One charging or fuelling site for heavy vehicles."""

    def __init__(
        self,
        model: mesa.Model,
        name: str,
        cell: int,
        municipality: int,
        easting_m: float,
        northing_m: float,
        carriers: tuple[str, ...],
        charge_points: int,
        power_mw: float,
        hydrogen_kg_per_day: float,
        biogas_kg_per_day: float,
        start_year: int,
    ) -> None:
        """Create a planned station; it operates once started and connected."""
        super().__init__(model)
        self.name = name
        self.cell = cell
        self.municipality = municipality
        self.easting_m = easting_m
        self.northing_m = northing_m
        self.carriers = tuple(carriers)
        self.charge_points = charge_points
        self.power_mw = power_mw
        self.hydrogen_kg_per_day = hydrogen_kg_per_day
        self.biogas_kg_per_day = biogas_kg_per_day
        self.start_year = start_year
        self.status = PLANNED
        self.connected_year: int | None = None
        self.energy_mwh = 0.0
        self.hydrogen_kg = 0.0
        self.biogas_kg = 0.0
        self.utilisation = 0.0

    @property
    def operating(self) -> bool:
        """True once started and connected to the grid."""
        return self.status == OPERATING

    @property
    def needs_grid(self) -> bool:
        """True if the station draws electricity from the grid."""
        return "electricity" in self.carriers and self.power_mw > 0

    def peak_draw_mw(self, peak_share: float) -> float:
        """The station's draw at the grid's peak, MW."""
        return self.power_mw * peak_share if self.needs_grid else 0.0

    def try_start(self, year: int, spare_mw: float, peak_share: float) -> bool:
        """Start in ``year`` if it has come and the grid has ``spare_mw`` for the draw.

        Returns True if the station started this year.
        """
        if self.operating or year < self.start_year:
            return False
        if self.peak_draw_mw(peak_share) > spare_mw:
            self.status = WAITING_FOR_GRID
            return False
        self.status = OPERATING
        self.connected_year = year
        return True

    def capacity(self, carrier: str, max_load_factor: float) -> float:
        """Yearly capacity for ``carrier``: MWh of electricity, kg of hydrogen or biogas."""
        if carrier not in self.carriers:
            return 0.0
        if carrier == "electricity":
            return self.power_mw * HOURS_PER_YEAR * max_load_factor
        if carrier == "hydrogen":
            return self.hydrogen_kg_per_day * 365.0
        return self.biogas_kg_per_day * 365.0

    def serve(self, demand: dict[str, float], max_load_factor: float) -> None:
        """Record this year's demand by carrier and the utilisation it implies.

        Utilisation is the largest demand / capacity over the station's carriers; a carrier
        without a capacity figure (0) does not limit the station.
        """
        self.energy_mwh = demand.get("electricity", 0.0)
        self.hydrogen_kg = demand.get("hydrogen", 0.0)
        self.biogas_kg = demand.get("biogas", 0.0)
        use = [
            demand.get(carrier, 0.0) / self.capacity(carrier, max_load_factor)
            for carrier in self.carriers
            if self.capacity(carrier, max_load_factor) > 0
        ]
        self.utilisation = max(use, default=0.0)

    @property
    def availability(self) -> float:
        """Share of the trucks wanting this station that it can serve (1 below capacity)."""
        if not self.operating:
            return 0.0
        return 1.0 if self.utilisation <= 1.0 else 1.0 / self.utilisation

    def __repr__(self) -> str:
        return f"EnergyStation({self.name}, {self.status})"
