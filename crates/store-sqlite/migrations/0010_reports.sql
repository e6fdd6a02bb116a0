-- Report templates (工作总结/计划, 公示, 村情) stored as data with every version kept, and
-- finalised reports: the figures as printed, frozen under a content hash, so a later
-- rendering can show what changed since. Nothing is deleted.
CREATE TABLE report_templates (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- The unit that owns the template: units below it use it, units above it see it, and
    -- only someone whose scope contains it changes it. Built-in templates belong to '/'.
    org_path TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE report_template_versions (
    template_code TEXT NOT NULL REFERENCES report_templates (code),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (template_code, version)
);

CREATE TABLE report_finals (
    id INTEGER PRIMARY KEY,
    template_code TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    period TEXT NOT NULL,
    -- SHA-256 (hex) of the frozen content, computed by the report crate.
    content_hash TEXT NOT NULL,
    -- The frozen figures and text as JSON.
    frozen TEXT NOT NULL,
    finalised_at TEXT NOT NULL,
    finalised_by TEXT NOT NULL,
    FOREIGN KEY (template_code, template_version)
        REFERENCES report_template_versions (template_code, version)
);
CREATE INDEX report_finals_by_path ON report_finals (org_path, template_code, period);
