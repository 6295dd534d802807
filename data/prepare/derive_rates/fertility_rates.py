"""Derive single-year age-specific fertility rates (data/base_2024/fertility_rates.csv).

Level: SSB's total fertility rate for 2023 (1.40). Age shape: a beta distribution on
[13, 52] with mean 32.0 and SD 5.3 years (an assumption documented in
data/parameters/SOURCES.md, section 2). Usage: python fertility_rates.py 32.0 5.3 OUT.csv
"""

import csv
import sys

import numpy as np
from scipy.stats import beta

TFR = 1.40
MAC = float(sys.argv[1])
SD = float(sys.argv[2])
LO = 13.0
HI = 52.0
OUT = sys.argv[3]
m = (MAC - LO) / (HI - LO)
v = (SD / (HI - LO)) ** 2
common = m * (1 - m) / v - 1
a = m * common
b = (1 - m) * common
ages = np.arange(15, 50)
p = beta.cdf((ages + 1 - LO) / (HI - LO), a, b) - beta.cdf((ages - LO) / (HI - LO), a, b)
p = p / p.sum()
f = np.round(TFR * p, 5)
f[np.argmax(f)] += round(TFR - f.sum(), 5)
if OUT != "-":
    with open(OUT, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["age", "births_per_woman"])
        for x, y in zip(ages, f, strict=True):
            w.writerow([x, f"{y:.5f}"])
