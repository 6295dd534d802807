from pathlib import Path

import numpy as np
from scipy.optimize import brentq, fsolve

# SSB Dødelighetstabeller 2015 (https://ssb.no/256914/dodelighetstabeller), qx per mille, ages 0..27
q15 = {
    "male": [
        2.620,
        0.195,
        0.160,
        0.155,
        0.122,
        0.060,
        0.060,
        0.122,
        0.000,
        0.000,
        0.159,
        0.000,
        0.097,
        0.065,
        0.062,
        0.152,
        0.091,
        0.179,
        0.466,
        0.521,
        0.377,
        0.578,
        0.624,
        0.499,
        0.602,
        0.678,
        0.515,
        0.662,
    ],
    "female": [
        2.046,
        0.205,
        0.134,
        0.033,
        0.032,
        0.063,
        0.000,
        0.000,
        0.000,
        0.000,
        0.000,
        0.066,
        0.101,
        0.134,
        0.033,
        0.064,
        0.096,
        0.095,
        0.249,
        0.186,
        0.155,
        0.154,
        0.243,
        0.236,
        0.257,
        0.252,
        0.336,
        0.480,
    ],
}
e27_2015 = {"male": 53.97, "female": 57.53}
e70_2015 = {"male": 14.9, "female": 17.3}
e0_2015 = {"male": 80.36, "female": 84.15}
e0_2023 = {"male": 81.4, "female": 84.6}
AGES = np.arange(0, 101)


def smooth_young(q):
    q = np.array(q) / 1000.0
    out = q.copy()
    # ages 1..27: centred 5-year moving average (edges shrink window), age 0 kept
    for x in range(1, 28):
        lo, hi = max(1, x - 2), min(27, x + 2)
        out[x] = q[lo : hi + 1].mean()
    floor = q[5:15].mean()  # child plateau, ages 5-14
    out[1:28] = np.maximum(out[1:28], floor)
    return out


def hazard_old(x, A, B, c):
    g = B * np.exp(c * (x - 28))
    return A + g  # Gompertz-Makeham


def lifetable(mu):
    # mu: hazard for ages 0..100 (100 = open interval)
    q = 1 - np.exp(-mu)
    q[-1] = 1.0
    l = np.concatenate([[1.0], np.cumprod(1 - q[:-1])])
    d = l * q
    a = np.full(101, 0.5)
    a[0] = 0.1
    L = l - (1 - a) * d
    L[-1] = l[-1] / mu[-1]
    T = np.cumsum(L[::-1])[::-1]
    e = T / l
    return q, l, e


def build_mu(sex, A, B, c):
    qy = smooth_young(q15[sex])
    mu = np.empty(101)
    mu[:28] = -np.log(1 - qy)
    x = AGES[28:] + 0.5
    mu[28:] = hazard_old(x, A, B, c)
    return mu


res = {}
for sex in ["male", "female"]:
    # A anchored to the young-adult level (mean hazard ages 23-27, 2015) minus senescent part, solved jointly
    qy = smooth_young(q15[sex])
    target_mu27 = -np.log(1 - qy[23:28]).mean()

    def eqs(p):
        lA, lB, c = p
        A, B = np.exp(lA), np.exp(lB)
        mu = build_mu(sex, A, B, c)
        q, l, e = lifetable(mu)
        return [e[27] - e27_2015[sex], e[70] - e70_2015[sex], (A + B) - target_mu27]

    sol = fsolve(eqs, [np.log(2e-4), np.log(3e-4), 0.1], full_output=True)
    lA, lB, c = sol[0]
    A, B = np.exp(lA), np.exp(lB)
    mu15 = build_mu(sex, A, B, c)
    q, l, e = lifetable(mu15)
    print(
        sex,
        f"fit2015 A={A:.3g} B={B:.3g} c={c:.4f}",
        "resid",
        eqs(sol[0]),
        f"e0_2015 implied {e[0]:.2f} (SSB {e0_2015[sex]:.2f})",
        "q100 %.3f" % (1 - np.exp(-mu15[100])),
    )
    # 2023: proportional scaling of whole 2015 hazard to hit SSB e0 2023
    f = lambda k: lifetable(k * mu15)[2][0] - e0_2023[sex]
    k = brentq(f, 0.3, 1.5)
    q23, l23, e23 = lifetable(k * mu15)
    qout = 1 - np.exp(-k * mu15)
    res[sex] = (qout, e23, k, A, B, c)
    print(
        sex,
        f"k={k:.4f}",
        f"e0={e23[0]:.3f} e65={e23[65]:.2f} e70={e23[70]:.2f} e80={e23[80]:.2f}",
        f"q0={qout[0]:.5f} q100={qout[100]:.3f}",
    )
import csv

with open(
    Path(__file__).resolve().parents[2] / "base_2024" / "mortality_rates.csv", "w", newline=""
) as fh:
    w = csv.writer(fh)
    w.writerow(["sex", "age", "death_probability"])
    for sex in ["female", "male"]:
        for x in AGES:
            w.writerow([sex, x, f"{res[sex][0][x]:.6f}"])
