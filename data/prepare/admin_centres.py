"""One point per municipality for its administrative centre (adm_center).

Input  : data/base_2024/municipalities.csv   (adm_center name, reppoint)
         data/base_2024/rail_stations.csv    (NSR rail stations)
         data/base_2024/kommuner_2024.geojson (point-in-polygon check)
Output : data/base_2024/admin_centres.csv
         (kommunenummer, adm_center, lat, lon, easting_m, northing_m, location_source)

Rule, in this order:

1. A non-museum NSR station in the same municipality whose name equals the
   adm_center name -> its coordinates ("NSR station <name>"), unless the
   station is listed in STATION_NOT_TOWN (station far from the town centre).
2. A station listed in STATION_ALIASES, i.e. clearly the town's station
   although named differently (Oslo -> Oslo S, Karlshus -> Råde, ...).
3. HAND_PLACED: town centre placed by hand from geographic knowledge
   (approximate, typically within 1-3 km; "hand-placed town centre
   (approx., verify)"). Sources noted per entry where one was checked.
4. Last resort (or if a hand-placed point falls outside its municipality):
   the polygon representative point from municipalities.csv
   ("polygon representative point (centre unknown)").

Every point must lie inside its own (repaired) municipality polygon; the
script asserts this for all 104 municipalities.

Rerun with:  .venv/bin/python data/prepare/admin_centres.py
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from rasterize_municipalities import BASE, CRS_UTM, ROOT, load_municipality_polygons

MUNICIPALITIES = BASE / "municipalities.csv"
STATIONS = BASE / "rail_stations.csv"
OUT_CSV = BASE / "admin_centres.csv"

SRC_STATION = "NSR station {}"
SRC_HAND = "hand-placed town centre (approx., verify)"
SRC_REPPOINT = "polygon representative point (centre unknown)"

# adm_center is served by a station with another name (station lies in the town).
STATION_ALIASES: dict[str, tuple[str, str]] = {
    "0301": ("Oslo S", "Oslo central station, city centre"),
    "3112": ("Råde", "Råde station lies in Karlshus"),
    "3232": ("Nittedal", "Nittedal station lies in Rotnes (Rotnes tettsted)"),
    "3312": ("Lier", "Lier station lies in Lierbyen"),
    "3439": ("Ringebu", "Ringebu station lies in Vålebrua"),
}

# Same-name stations that are NOT in the town centre -> fall through to HAND_PLACED.
STATION_NOT_TOWN: dict[str, str] = {
    "3901": "NSR 'Horten' (59.376 N 10.395 E, no departures in the snapshot) is ~7 km SW "
    "of Horten town centre",
}

# kommunenummer: (lat, lon, note). WGS84 degrees. Approximate town centres
# (town hall / main street), placed from geographic knowledge; where a public
# reference (Wikipedia village article, NAF travel planner) gave coordinates
# for the village itself, that is noted. Verify against a map before relying
# on anything finer than ~2 km.
HAND_PLACED: dict[str, tuple[float, float, str]] = {
    "3110": (59.0253, 11.0369, "Skjærhalden (village article)"),
    "3114": (59.4725, 10.9169, "Kirkebygden, Våler church"),
    "3116": (59.4806, 11.1444, "Meieribyen"),
    "3122": (59.4800, 11.6547, "Ørje (village article)"),
    "3124": (59.2431, 11.7161, "Fosby/Fossby, east of Aremarksjøen"),
    "3212": (59.8560, 10.6560, "Nesoddtangen"),
    "3214": (59.6630, 10.6300, "Drøbak"),
    "3220": (59.7625, 11.1500, "Kirkebygda, Enebakk church (village article)"),
    "3222": (
        59.9280,
        10.9560,
        "Solheim / Lørenskog sentrum (town hall, Metro), not Lørenskog station",
    ),
    "3224": (59.9230, 11.0790, "Fjerdingby, Rælingen church / town hall"),
    "3226": (59.8850, 11.5660, "Bjørkelangen"),
    "3230": (60.0725, 11.0339, "Ask (village coordinates)"),
    "3238": (60.2208, 11.0178, "Teigebyen (NAF travel planner)"),
    "3242": (60.4330, 11.0640, "Hurdal sentrum, north end of Hurdalssjøen"),
    "3310": (60.0798, 10.2848, "Vik (NAF travel planner)"),
    "3318": (60.1800, 9.6200, "Noresund, at the Krøderen narrows"),
    "3326": (60.8630, 8.5580, "Trøim, Hemsedal centre"),
    "3330": (60.6150, 8.3000, "Hol village (Hagafoss / Hol church), not Geilo"),
    "3332": (60.0470, 9.6150, "Prestfoss, south end of Soneren"),
    "3334": (59.8333, 9.5833, "Lampeland"),
    "3336": (59.9900, 9.2800, "Rollag village (church, municipal office), not Veggli"),
    "3338": (60.2670, 8.9450, "Rødberg"),
    "3414": (60.3870, 11.5650, "Sand, south end of Storsjøen"),
    "3416": (59.9850, 12.1220, "Skotterud"),
    "3417": (60.4600, 12.0580, "Kirkenær"),
    "3418": (60.6140, 12.0130, "Flisa"),
    "3419": (60.6720, 11.8330, "Våler i Solør village, by Glomma"),
    "3421": (61.3150, 12.2640, "Innbygda (Trysil sentrum)"),
    "3424": (61.8913, 11.0777, "Bergset (village article)"),
    "3425": (61.7590, 11.9570, "Engerdal sentrum"),
    "3429": (62.1330, 10.0000, "Folldal sentrum"),
    "3433": (61.8830, 8.2650, "Bismo"),
    "3434": (61.8370, 8.5670, "Fossbergom (Lom sentrum)"),
    "3435": (61.8750, 9.0970, "Vågåmo"),
    "3438": (61.5520, 9.9300, "Hundorp"),
    "3440": (61.2640, 10.4180, "Tingberg (Øyer town hall), not Hafjell"),
    "3441": (61.2460, 10.1380, "Segalstad bru"),
    "3442": (60.6730, 10.8130, "Lena"),
    "3447": (60.7000, 10.3470, "Hov, east side of Randsfjorden"),
    "3448": (60.8350, 10.0740, "Dokka"),
    "3449": (60.8200, 9.5580, "Bagn"),
    "3450": (60.9700, 9.6280, "Bruflat"),
    "3451": (60.9860, 9.2330, "Fagernes"),
    "3452": (61.0870, 9.0050, "Slidre"),
    "3453": (61.1480, 9.0920, "Heggenes"),
    "3454": (61.1250, 8.5720, "Vang i Valdres"),
    "3901": (59.4170, 10.4830, "Horten town centre"),
    "3911": (59.2050, 10.4450, "Borgheim (Nøtterøy)"),
}


def main() -> None:
    """Choose, check and write one administrative-centre point per municipality."""
    muni = pd.read_csv(MUNICIPALITIES, dtype={"kommunenummer": str}).sort_values("kommunenummer")
    stations = pd.read_csv(STATIONS, dtype={"kommunenummer": str})
    stations = stations[~stations["is_museum_railway"].astype(bool)]
    polys = load_municipality_polygons(utm=False).set_index("kommunenummer")["geometry"]
    shapely.prepare(polys.to_numpy())
    to_utm = Transformer.from_crs("EPSG:4326", CRS_UTM, always_xy=True)

    def inside(k: str, lat: float, lon: float) -> bool:
        return bool(polys[k].covers(shapely.Point(lon, lat)))

    rows = []
    for r in muni.itertuples(index=False):
        k, centre = r.kommunenummer, r.adm_center
        st = stations[stations["kommunenummer"] == k]
        same = st[st["station_name"].str.casefold() == centre.casefold()]
        chosen = None
        if len(same) and k not in STATION_NOT_TOWN:
            s = same.sort_values("departures_24h_snapshot", ascending=False).iloc[0]
            chosen = (s["lat"], s["lon"], SRC_STATION.format(s["station_name"]))
        elif k in STATION_ALIASES:
            name = STATION_ALIASES[k][0]
            s = st[st["station_name"] == name]
            assert len(s) == 1, f"{k}: alias station {name!r} not found"
            chosen = (s["lat"].iloc[0], s["lon"].iloc[0], SRC_STATION.format(name))
        elif k in HAND_PLACED:
            lat, lon, _ = HAND_PLACED[k]
            if inside(k, lat, lon):
                chosen = (lat, lon, SRC_HAND)
            else:
                print(f"warning: hand-placed point for {k} {centre} is outside its municipality")
        if chosen is None:
            chosen = (r.reppoint_lat, r.reppoint_lon, SRC_REPPOINT)
        lat, lon, src = chosen
        e, n = to_utm.transform(lon, lat)
        rows.append(
            {
                "kommunenummer": k,
                "adm_center": centre,
                "lat": round(float(lat), 5),
                "lon": round(float(lon), 5),
                "easting_m": int(round(e)),
                "northing_m": int(round(n)),
                "location_source": src,
            }
        )
    out = pd.DataFrame(rows)

    # Every point must be inside its own municipality (and only that one).
    pts = shapely.points(out["lon"].to_numpy(), out["lat"].to_numpy())
    own = np.array([polys[k].covers(p) for k, p in zip(out["kommunenummer"], pts, strict=True)])
    bad = out.loc[~own, ["kommunenummer", "adm_center", "lat", "lon"]]
    assert own.all(), f"points outside their municipality:\n{bad}"
    assert len(out) == 104 and out["kommunenummer"].is_unique

    # Distance to the polygon representative point, as a plausibility check.
    rep = muni.set_index("kommunenummer")[["reppoint_lat", "reppoint_lon"]]
    out["km_to_reppoint"] = [
        _haversine_km(a, b, *rep.loc[k])
        for k, a, b in zip(out["kommunenummer"], out["lat"], out["lon"], strict=True)
    ]
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(out.to_string(index=False))
    print()
    print(
        out["location_source"]
        .str.replace(r"^NSR station .*", "NSR station <name>", regex=True)
        .value_counts()
    )
    # Informational: is the centre's 1 km cell part of the municipality's grid?
    grid_csv = BASE / "grid_cells_1km.csv"
    if grid_csv.exists():
        grid = pd.read_csv(grid_csv, dtype={"kommunenummer": str})
        have = set(zip(grid["easting_m"], grid["northing_m"], grid["kommunenummer"], strict=True))
        for k, c, e, n in zip(
            out["kommunenummer"],
            out["adm_center"],
            out["easting_m"],
            out["northing_m"],
            strict=True,
        ):
            if (e // 1000 * 1000, n // 1000 * 1000, k) not in have:
                print(f"note: the 1 km cell containing {c} ({k}) is not one of {k}'s grid cells")
    out.drop(columns="km_to_reppoint").to_csv(OUT_CSV, index=False)
    print(f"\nwrote {OUT_CSV.relative_to(ROOT)} ({len(out)} rows)")


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * 6371.0 * math.asin(math.sqrt(a)), 1)


if __name__ == "__main__":
    main()
