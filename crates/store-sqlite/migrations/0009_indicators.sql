-- Indicators (指标) with targets, data elements (统计数据项) and their values per unit and
-- period, and the approval that locks a unit's period. Values carry the unit's org_path and the
-- period's first and last day, so a subtree and a date window are one index range.

CREATE TABLE data_elements (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    value_type TEXT NOT NULL,
    aggregation TEXT NOT NULL,
    period_type TEXT NOT NULL,
    unit TEXT NOT NULL,
    min_value REAL,
    max_value REAL,
    level TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE data_values (
    id INTEGER PRIMARY KEY,
    element_code TEXT NOT NULL REFERENCES data_elements (code),
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    period TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    value REAL NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX data_values_cell ON data_values (element_code, org_code, period);
CREATE INDEX data_values_agg ON data_values (element_code, org_path, period_start, period_end, value);

CREATE TABLE indicators (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    expression TEXT NOT NULL,
    unit TEXT NOT NULL,
    scale REAL NOT NULL,
    decimals INTEGER NOT NULL,
    trim_zeros INTEGER NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    sort INTEGER NOT NULL,
    higher_is_better INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE targets (
    indicator_code TEXT NOT NULL REFERENCES indicators (code),
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    period TEXT NOT NULL,
    value REAL NOT NULL,
    comparison TEXT NOT NULL,
    note TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (indicator_code, org_code, period)
);
CREATE INDEX targets_path ON targets (org_path, period);

CREATE TABLE data_approvals (
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (org_code, period)
);
CREATE INDEX data_approvals_path ON data_approvals (org_path, period);
