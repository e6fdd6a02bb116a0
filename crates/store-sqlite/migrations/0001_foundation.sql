-- Foundation: the org tree, users, sessions and the hash-chained audit log.
CREATE TABLE xiangzhi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO xiangzhi_meta (key, value) VALUES ('application', 'xiangzhi');

-- path is the materialized path '/36/3610/361002/': a subtree is a range of it.
CREATE TABLE org_units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT,
    path TEXT NOT NULL,
    valid_to TEXT,
    successor_code TEXT
);
CREATE UNIQUE INDEX org_units_path ON org_units (path);
CREATE INDEX org_units_parent ON org_units (parent_code);

CREATE TABLE org_events (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    effective TEXT NOT NULL,
    detail TEXT NOT NULL,
    other_code TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX org_events_code ON org_events (code);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    ip TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    scope_path TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_scope ON audit_log (scope_path, id);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
