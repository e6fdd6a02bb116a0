-- Registry counts kept, not recounted: every list page shows the scope's persons by status,
-- active households and active enterprises, and counting 600,000 rows per request took 0.25 s.
-- One row per org path, entity and state; a scope's count is the sum over its path range.
-- Statement triggers over transition tables keep it in the writing transaction (one grouped
-- upsert per statement, so a COPY of 600,000 rows costs one pass, not 600,000 calls).
CREATE TABLE registry_tallies (
    org_path TEXT COLLATE "C" NOT NULL,
    entity TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_path, entity, state)
);

INSERT INTO registry_tallies (org_path, entity, state, n)
    SELECT org_path, 'person', status, COUNT(*) FROM persons GROUP BY org_path, status;
INSERT INTO registry_tallies (org_path, entity, state, n)
    SELECT org_path, 'household', status, COUNT(*) FROM households GROUP BY org_path, status;
INSERT INTO registry_tallies (org_path, entity, state, n)
    SELECT org_path, 'enterprise', CASE WHEN active THEN 'active' ELSE 'closed' END, COUNT(*)
    FROM enterprises GROUP BY 1, 3;

-- TG_ARGV[0]: the entity; its state is `status`, or for enterprises `active` as active/closed.
-- Only groups whose count changes are written (an update of a name leaves the tallies alone,
-- so concurrent writers in one grid do not queue on its tally row).
CREATE FUNCTION registry_tally() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    state_expr TEXT := CASE WHEN TG_ARGV[0] = 'enterprise'
        THEN 'CASE WHEN active THEN ''active'' ELSE ''closed'' END' ELSE 'status' END;
    changes TEXT;
BEGIN
    changes := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT org_path, %s AS state, 1 AS c FROM new_rows', state_expr)
        WHEN 'DELETE' THEN format('SELECT org_path, %s AS state, -1 AS c FROM old_rows', state_expr)
        ELSE format('SELECT org_path, %1$s AS state, 1 AS c FROM new_rows
                     UNION ALL SELECT org_path, %1$s, -1 FROM old_rows', state_expr)
    END;
    EXECUTE format(
        'INSERT INTO registry_tallies (org_path, entity, state, n)
         SELECT org_path, %L, state, SUM(c) FROM (%s) d GROUP BY 1, 3 HAVING SUM(c) <> 0 ORDER BY 1, 3
         ON CONFLICT (org_path, entity, state) DO UPDATE SET n = registry_tallies.n + EXCLUDED.n',
        TG_ARGV[0], changes);
    RETURN NULL;
END
$body$;

CREATE TRIGGER persons_tally_insert AFTER INSERT ON persons
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('person');
CREATE TRIGGER persons_tally_update AFTER UPDATE ON persons
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('person');
CREATE TRIGGER persons_tally_delete AFTER DELETE ON persons
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('person');
CREATE TRIGGER households_tally_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('household');
CREATE TRIGGER households_tally_update AFTER UPDATE ON households
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('household');
CREATE TRIGGER households_tally_delete AFTER DELETE ON households
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('household');
CREATE TRIGGER enterprises_tally_insert AFTER INSERT ON enterprises
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('enterprise');
CREATE TRIGGER enterprises_tally_update AFTER UPDATE ON enterprises
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('enterprise');
CREATE TRIGGER enterprises_tally_delete AFTER DELETE ON enterprises
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_tally('enterprise');

-- A name search is a prefix range compared bytewise (as on SQLite), read in index order.
CREATE INDEX persons_name_c ON persons (name COLLATE "C", birth_date);
