-- Payee bank accounts (收款账户) and stored cross-check runs (核查).
-- An account number is personal data like a citizen ID: sealed with the key file's key and
-- found by keyed hash, never stored in plain text. One account per payee person; changing it
-- is audited (the audit row holds only the masked number).
CREATE TABLE payee_accounts (
    person_id INTEGER PRIMARY KEY REFERENCES persons (id),
    bank_name TEXT NOT NULL,
    account_sealed TEXT NOT NULL,
    account_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX payee_accounts_hash ON payee_accounts (account_hash);

-- A run of every cross-check over a scope (the nightly one is run by `system`), with its hits
-- as JSON: the page shows the latest run a user's scope covers.
CREATE TABLE check_runs (
    id INTEGER PRIMARY KEY,
    scope_path TEXT NOT NULL,
    run_at TEXT NOT NULL,
    run_by TEXT NOT NULL,
    options TEXT NOT NULL,
    hits TEXT NOT NULL
);
CREATE INDEX check_runs_scope ON check_runs (scope_path, id);
