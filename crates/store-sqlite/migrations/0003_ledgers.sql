-- Ledgers (台账) as data.
-- A ledger's definition is TOML text, one row per version; entries keep the version they were
-- filled against. Values are JSON text; numeric fields are also copied into the slots n1..n16
-- (which field owns which slot is `ledger_versions.slots`, stable across versions), and the
-- covering partial index ledger_entries_agg lets an aggregate over millions of entries be one
-- ordered index scan grouped by (org_path, period), rolled up to any level by the caller.
-- Nothing is deleted: a removed entry is void.
CREATE TABLE ledgers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    department TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE ledger_versions (
    ledger_id INTEGER NOT NULL REFERENCES ledgers (id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    slots TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (ledger_id, version)
);

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY,
    ledger_id INTEGER NOT NULL REFERENCES ledgers (id),
    version INTEGER NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    period TEXT NOT NULL,
    subject TEXT,
    subject_label TEXT,
    vals TEXT NOT NULL,
    filled INTEGER NOT NULL,
    void INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    n1 REAL,
    n2 REAL,
    n3 REAL,
    n4 REAL,
    n5 REAL,
    n6 REAL,
    n7 REAL,
    n8 REAL,
    n9 REAL,
    n10 REAL,
    n11 REAL,
    n12 REAL,
    n13 REAL,
    n14 REAL,
    n15 REAL,
    n16 REAL
);
CREATE INDEX ledger_entries_agg ON ledger_entries (ledger_id, org_path, period, n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11, n12, n13, n14, n15, n16) WHERE void = FALSE AND filled = TRUE;
CREATE INDEX ledger_entries_list ON ledger_entries (ledger_id, period, org_path);
CREATE UNIQUE INDEX ledger_entries_subject ON ledger_entries (ledger_id, period, subject)
    WHERE subject IS NOT NULL AND void = FALSE;

CREATE TABLE ledger_submissions (
    ledger_id INTEGER NOT NULL REFERENCES ledgers (id),
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    unlocked INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (ledger_id, org_code, period)
);

-- Attachments by content hash; the entry that first stored one gives it its scope.
CREATE TABLE ledger_files (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    org_path TEXT NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL
);
