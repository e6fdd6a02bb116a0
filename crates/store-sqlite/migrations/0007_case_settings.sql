-- What a township configures about its cases, and what a case carries besides its state:
-- time limits per kind, categories a township adds to the shared tree, attachments, and the
-- keys Open311 clients post with.

-- NULL: a built-in category, for everyone; otherwise the path of the township that added it,
-- which only cases under that path can use.
ALTER TABLE case_categories ADD COLUMN owner_path TEXT;

-- One row per township (or county) that changed the defaults: the domain's TimeLimits as JSON.
-- A case is counted with the limits of the nearest unit above it that has a row.
CREATE TABLE case_time_limits (
    org_code TEXT PRIMARY KEY REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    limits TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- File content by hash, stored once however many cases attach it.
CREATE TABLE case_files (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- A file attached to a case: seen by whoever sees the case.
CREATE TABLE case_attachments (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    sha256 TEXT NOT NULL REFERENCES case_files (sha256),
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id, id);
CREATE INDEX case_attachments_sha ON case_attachments (sha256);

-- Open311 API keys: only the SHA-256 of a key is kept; the key is shown once when made.
CREATE TABLE open311_keys (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
