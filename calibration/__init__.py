"""Calibration: targets built from the statistics, fitting and validation reports (to come)."""
