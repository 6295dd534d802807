import csv
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

# SSB AKU table "Arbeidsstyrken 15-74 år, etter alder og kjønn", annual average 2017, % of persons
LF17 = {
    "male": {
        "15-19": 37.3,
        "20-24": 70.6,
        "25-29": 83.4,
        "30-39": 89.7,
        "40-54": 88.2,
        "55-66": 72.6,
        "67-74": 16.9,
    },
    "female": {
        "15-19": 40.3,
        "20-24": 67.6,
        "25-29": 81.3,
        "30-39": 83.8,
        "40-54": 83.8,
        "55-66": 64.6,
        "67-74": 7.9,
    },
}
# SSB AKU table "Arbeidsstyrken og sysselsatte 15-74 år ... I prosent av befolkningen", annual average 2015
LF15 = {"male": {"15-24": 56.3, "25-66": 85.1}, "female": {"15-24": 57.2, "25-66": 78.9}}
EM15 = {"male": {"15-24": 50.0, "25-66": 81.9}, "female": {"15-24": 52.2, "25-66": 76.3}}
# SSB AKU, Samfunnsspeilet 2005/5 table 1: employed % by age, annual average 2004
P04 = {
    "male": {"55-59": 80, 60: 76, 61: 75, 62: 62, 63: 48, 64: 46, 65: 37, 66: 35},
    "female": {"55-59": 70, 60: 68, 61: 61, 62: 50, 63: 39, 64: 38, 65: 31, 66: 30},
}
rows = []
detail = {}
for sex in ["female", "male"]:
    ry = EM15[sex]["15-24"] / LF15[sex]["15-24"]
    ra = EM15[sex]["25-66"] / LF15[sex]["25-66"]
    E = {g: (v * (ry if g in ("15-19", "20-24") else ra)) for g, v in LF17[sex].items()}
    # split 55-66 with 2004 single-year pattern
    pat = np.array(
        [P04[sex]["55-59"]] * 5 + [P04[sex][a] for a in range(60, 67)], float
    )  # ages 55..66
    lg = lambda p: np.log(p / (100 - p))
    il = lambda z: 100 / (1 + np.exp(-z))
    s = brentq(lambda d: il(lg(pat) + d).mean() - E["55-66"], -5, 5)  # logit shift delta
    r5566 = il(lg(pat) + s)
    r66 = r5566[-1]
    # 67..74 geometric decline from age 66, mean equal to E['67-74']
    f = lambda g: np.mean(r66 * g ** np.arange(1, 9)) - E["67-74"]
    g = brentq(f, 1e-3, 1.0)
    r6774 = r66 * g ** np.arange(1, 9)
    single = dict(zip(range(55, 67), r5566))
    single.update(dict(zip(range(67, 75), r6774)))
    grp = {
        (15, 19): E["15-19"],
        (20, 24): E["20-24"],
        (25, 29): E["25-29"],
        (30, 34): E["30-39"],
        (35, 39): E["30-39"],
        (40, 44): E["40-54"],
        (45, 49): E["40-54"],
        (50, 54): E["40-54"],
        (55, 59): np.mean([single[a] for a in range(55, 60)]),
        (60, 64): np.mean([single[a] for a in range(60, 65)]),
        (65, 69): np.mean([single[a] for a in range(65, 70)]),
        (70, 74): np.mean([single[a] for a in range(70, 75)]),
    }
    detail[sex] = dict(ry=ry, ra=ra, s=s, g=g, E=E)
    for (a, b), v in grp.items():
        rows.append((sex, a, b, round(v / 100, 3)))
with open(
    Path(__file__).resolve().parents[2] / "base_2024" / "employment_rate_by_age_sex.csv",
    "w",
    newline="",
) as fh:
    w = csv.writer(fh)
    w.writerow(["sex", "age_from", "age_to", "employment_rate"])
    w.writerows(rows)
for r in rows:
    print(r)
for s, d in detail.items():
    print(
        s,
        {
            k: (
                round(v, 4)
                if not isinstance(v, dict)
                else {kk: round(vv, 2) for kk, vv in v.items()}
            )
            for k, v in d.items()
        },
    )
