"""The transport sub-model: zones, the rail network and zone-to-zone travel-time skims.

``network`` builds the rail network from the active stations (one minimum spanning tree per
Bane NOR line), ``skims`` aggregates land cells to 5 km zones and computes generalised travel
times by car, public transport (local transit and rail), bike and walk. Parameters are in
``data/parameters/transport.toml``.
"""
