"""Coordinates: WGS84 longitude/latitude to UTM zone 33N (EPSG:25833), in plain numpy.

Norwegian agencies publish in EPSG:25833, and the model's 1 km grid lives in it. The model
must run without pyproj, so the forward transverse Mercator projection is computed here
with Krüger's series (the method pyproj/PROJ use, accurate to well below a metre in Norway).
"""

from __future__ import annotations

import numpy as np

_A = 6378137.0  # GRS80 semi-major axis, m
_F = 1 / 298.257222101  # GRS80 flattening
_K0 = 0.9996  # UTM scale factor on the central meridian
_FALSE_EASTING_M = 500000.0
_CENTRAL_MERIDIAN_ZONE_33_DEG = 15.0


def lonlat_to_utm33(
    lon_deg: np.ndarray | float, lat_deg: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 (ETRS89) degrees to EPSG:25833 easting and northing in metres."""
    lon = np.radians(np.asarray(lon_deg, dtype=float) - _CENTRAL_MERIDIAN_ZONE_33_DEG)
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    n = _F / (2 - _F)
    rectifying_radius = _A / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    alpha = (
        n / 2 - 2 * n**2 / 3 + 5 * n**3 / 16,
        13 * n**2 / 48 - 3 * n**3 / 5,
        61 * n**3 / 240,
    )
    e = 2 * np.sqrt(n) / (1 + n)
    t = np.sinh(np.arctanh(np.sin(lat)) - e * np.arctanh(e * np.sin(lat)))
    xi = np.arctan2(t, np.cos(lon))
    eta = np.arctanh(np.sin(lon) / np.sqrt(1 + t**2))
    easting = eta.copy()
    northing = xi.copy()
    for j, a_j in enumerate(alpha, start=1):
        easting += a_j * np.cos(2 * j * xi) * np.sinh(2 * j * eta)
        northing += a_j * np.sin(2 * j * xi) * np.cosh(2 * j * eta)
    easting_m = _FALSE_EASTING_M + _K0 * rectifying_radius * easting
    northing_m = _K0 * rectifying_radius * northing
    return easting_m, northing_m
