-- Assistance (民生保障): programs as data, enrollments through their steps, payrolls, payouts.
-- A program's configuration is JSON text (xiangzhi_domain::assistance::Program); the seeded
-- programs are inserted by the store after migrating, only where missing, so edits stay.
-- Enrollments keep the unit (org_path) of their household or person when entered: that is
-- their scope. Nothing is deleted: enrollments end rejected or exited, payroll lines end paid
-- or failed. Dates are ISO text (YYYY-MM-DD) on both backends, so they compare as text.
CREATE TABLE programs (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    sort INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE enrollments (
    id INTEGER PRIMARY KEY,
    program_code TEXT NOT NULL REFERENCES programs (code),
    household_id INTEGER REFERENCES households (id),
    person_id INTEGER REFERENCES persons (id),
    category TEXT NOT NULL,
    source TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    status TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    applied_on TEXT NOT NULL,
    since TEXT NOT NULL,
    notice_end TEXT,
    start_on TEXT,
    next_review TEXT,
    exit_on TEXT,
    exit_reason TEXT,
    note TEXT NOT NULL,
    monitoring TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX enrollments_program ON enrollments (program_code, status, org_path);
CREATE INDEX enrollments_path ON enrollments (org_path);
CREATE INDEX enrollments_household ON enrollments (household_id);
CREATE INDEX enrollments_person ON enrollments (person_id);

CREATE TABLE enrollment_steps (
    id INTEGER PRIMARY KEY,
    enrollment_id INTEGER NOT NULL REFERENCES enrollments (id),
    step TEXT NOT NULL,
    decision TEXT,
    opinion TEXT NOT NULL,
    done_on TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX enrollment_steps_enrollment ON enrollment_steps (enrollment_id, id);

-- Who owns (or represents) an enterprise: the cross-check on enrolled households reads it.
CREATE TABLE enterprise_owners (
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    person_id INTEGER NOT NULL REFERENCES persons (id),
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, person_id)
);
CREATE INDEX enterprise_owners_person ON enterprise_owners (person_id);

CREATE TABLE payrolls (
    id INTEGER PRIMARY KEY,
    program_code TEXT NOT NULL REFERENCES programs (code),
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    line_count INTEGER NOT NULL,
    total_fen INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    exported_at TEXT
);
CREATE UNIQUE INDEX payrolls_unit_period ON payrolls (program_code, org_code, period);
CREATE INDEX payrolls_path ON payrolls (org_path);

-- org_path here is the payee's unit when the line was generated.
CREATE TABLE payroll_lines (
    id INTEGER PRIMARY KEY,
    payroll_id INTEGER NOT NULL REFERENCES payrolls (id),
    enrollment_id INTEGER NOT NULL REFERENCES enrollments (id),
    person_id INTEGER REFERENCES persons (id),
    household_id INTEGER REFERENCES households (id),
    org_code TEXT NOT NULL,
    org_path TEXT NOT NULL,
    persons INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX payroll_lines_payroll ON payroll_lines (payroll_id, id);
CREATE INDEX payroll_lines_person ON payroll_lines (person_id);

CREATE TABLE payouts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    program_code TEXT NOT NULL REFERENCES programs (code),
    enrollment_id INTEGER REFERENCES enrollments (id),
    household_id INTEGER REFERENCES households (id),
    person_id INTEGER REFERENCES persons (id),
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    paid_on TEXT NOT NULL,
    amount_fen INTEGER,
    item TEXT,
    quantity INTEGER,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX payouts_path ON payouts (org_path, paid_on);
