"""The built-in UTM 33N projection agrees with PROJ (reference values from pyproj 3.8)."""

from __future__ import annotations

import numpy as np

from model.geo import lonlat_to_utm33


def test_projection_matches_proj_to_the_millimetre():
    lon = np.array([10.7528, 7.6, 12.8, 11.0])
    lat = np.array([59.9110, 60.5, 62.0, 59.0])
    easting, northing = lonlat_to_utm33(lon, lat)
    expected_easting = [262573.26542112, 94073.23654181, 384785.79999996, 270278.43340015]
    expected_northing = [6649118.91055252, 6729959.59459927, 6876133.53337178, 6546929.75091117]
    np.testing.assert_allclose(easting, expected_easting, atol=0.001)
    np.testing.assert_allclose(northing, expected_northing, atol=0.001)
