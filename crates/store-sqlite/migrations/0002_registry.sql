-- The registry: households, persons, enterprises and their life events.
-- Citizen IDs and phones are stored only sealed (*_sealed, XChaCha20-Poly1305 under a key kept
-- outside the database) and as keyed hashes (*_hash, HMAC-SHA256) for equality search.
-- org_path is the grid's (or village's) materialized path: a scope is a range of it.
-- A household's head is the registered member whose relation is 'head'.
CREATE TABLE households (
    id INTEGER PRIMARY KEY,
    household_no TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX households_path ON households (org_path);

CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    id_hash TEXT NOT NULL UNIQUE,
    id_sealed TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    phone_hash TEXT,
    phone_sealed TEXT,
    household_id INTEGER REFERENCES households (id),
    relation TEXT,
    status TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
CREATE INDEX persons_path ON persons (org_path);
CREATE INDEX persons_household ON persons (household_id);
CREATE INDEX persons_name_birth ON persons (name, birth_date);
CREATE INDEX persons_phone ON persons (phone_hash);

CREATE TABLE enterprise_kinds (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    sort INTEGER NOT NULL
);
INSERT INTO enterprise_kinds (code, label, sort) VALUES
    ('logistics', '物流', 1), ('construction', '建筑', 2), ('labour', '劳务', 3),
    ('automotive', '汽车', 4), ('manufacturing', '制造', 5), ('trade', '商贸', 6),
    ('agriculture', '农业', 7), ('services', '服务', 8), ('other', '其他', 99);

CREATE TABLE enterprises (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    credit_code_ok INTEGER NOT NULL,
    kind TEXT NOT NULL REFERENCES enterprise_kinds (code),
    registered_capital INTEGER,
    settled_on TEXT,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    contact_name TEXT,
    contact_phone_hash TEXT,
    contact_phone_sealed TEXT,
    active INTEGER NOT NULL,
    closed_on TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX enterprises_path ON enterprises (org_path);

CREATE TABLE registry_events (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    effective TEXT NOT NULL,
    detail TEXT NOT NULL,
    org_path TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX registry_events_entity ON registry_events (entity, entity_id);
CREATE INDEX registry_events_path ON registry_events (org_path, effective);
