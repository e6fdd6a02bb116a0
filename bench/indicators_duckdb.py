"""The DuckDB baseline of bench step 3: the same aggregates as xiangzhi's indicators over the
yearly ledger files of the synthetic county (sums per village, per township and for the
county), read from the same CSV files `ledger import` loaded. Prints JSON: cold seconds
(connect, read the CSVs, aggregate), warm seconds (aggregate the loaded tables again), and
how many of xiangzhi's figures (from `indicator table --out`) agree with DuckDB's.

usage: python3 indicators_duckdb.py DATA_DIR OURS_CSV COUNTY PERIOD
"""
import csv
import json
import sys
import time

import duckdb

# indicator code -> (ledger, column header of its import file)
SAME = {
    "GRAIN_AREA": ("agri", "粮食种植面积（亩）"),
    "GRAIN_OUTPUT": ("agri", "粮食产量（吨）"),
    "VEG_AREA": ("agri", "蔬菜种植面积（亩）"),
    "VEG_OUTPUT": ("agri", "蔬菜产量（吨）"),
    "FRUIT_AREA": ("agri", "水果期末面积（亩）"),
    "FRUIT_OUTPUT": ("agri", "水果产量（吨）"),
    "PIGS_OUT": ("agri", "生猪出栏（头）"),
    "POULTRY_OUT": ("agri", "活家禽出栏（只）"),
    "WINTER_RAPE": ("winter_crop", "油菜种植面积（亩）"),
    "WINTER_POTATO": ("winter_crop", "马铃薯种植面积（亩）"),
    "WINTER_VEG": ("winter_crop", "冬种蔬菜面积（亩）"),
}


def aggregate(con, county, period):
    out = {}
    for code, (ledger, column) in SAME.items():
        rows = con.execute(
            f"""select coalesce(v, t, '{county}'), s from (
                  select "单位代码" as v, substr("单位代码", 1, 9) as t, sum("{column}") as s
                  from {ledger} where cast("期间" as varchar) = ?
                  group by grouping sets ((v), (t), ()))""",
            [period],
        ).fetchall()
        for unit, s in rows:
            out[(code, str(unit))] = float(s)
    return out


def main():
    data, ours_csv, county, period = sys.argv[1:5]
    t0 = time.perf_counter()
    con = duckdb.connect()
    for ledger in sorted({l for l, _ in SAME.values()}):
        con.execute(
            f"create table {ledger} as select * from read_csv('{data}/ledgers/{ledger}.csv', header = true, types = {{'单位代码': 'VARCHAR'}})"
        )
    first = aggregate(con, county, period)
    cold = time.perf_counter() - t0
    t1 = time.perf_counter()
    again = aggregate(con, county, period)
    warm = time.perf_counter() - t1
    assert first == again
    ours = {}
    with open(ours_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["指标代码"] in SAME and row["值"]:
                ours[(row["指标代码"], row["单位代码"])] = float(row["值"])
    agree = sum(1 for k, v in first.items() if k in ours and abs(ours[k] - v) <= 1e-6 * max(1.0, abs(v)))
    print(json.dumps(dict(cold=cold, warm=warm, figures=len(first), agree=agree)))


main()
