-- Registry counts kept, not recounted: every list page shows the scope's persons by status,
-- active households and active enterprises, and counting 600,000 rows per request took 0.25 s.
-- One row per org path, entity and state; a scope's count is the sum over its path range.
-- Triggers keep it in the writing transaction, so no write path can forget it. A bulk person
-- load drops the insert trigger and adds its own counts (see sql_registry::TALLY_TRIGGERS).
CREATE TABLE registry_tallies (
    org_path TEXT NOT NULL,
    entity TEXT NOT NULL,
    state TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (org_path, entity, state)
) WITHOUT ROWID;

INSERT INTO registry_tallies (org_path, entity, state, n)
    SELECT org_path, 'person', status, COUNT(*) FROM persons GROUP BY org_path, status;
INSERT INTO registry_tallies (org_path, entity, state, n)
    SELECT org_path, 'household', status, COUNT(*) FROM households GROUP BY org_path, status;
INSERT INTO registry_tallies (org_path, entity, state, n)
    SELECT org_path, 'enterprise', CASE WHEN active THEN 'active' ELSE 'closed' END, COUNT(*)
    FROM enterprises GROUP BY 1, 3;

CREATE TRIGGER persons_tally_insert AFTER INSERT ON persons BEGIN
    INSERT INTO registry_tallies (org_path, entity, state, n) VALUES (NEW.org_path, 'person', NEW.status, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER persons_tally_update AFTER UPDATE OF org_path, status ON persons
    WHEN OLD.org_path IS NOT NEW.org_path OR OLD.status IS NOT NEW.status BEGIN
    UPDATE registry_tallies SET n = n - 1
        WHERE org_path = OLD.org_path AND entity = 'person' AND state = OLD.status;
    INSERT INTO registry_tallies (org_path, entity, state, n) VALUES (NEW.org_path, 'person', NEW.status, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER persons_tally_delete AFTER DELETE ON persons BEGIN
    UPDATE registry_tallies SET n = n - 1
        WHERE org_path = OLD.org_path AND entity = 'person' AND state = OLD.status;
END;

CREATE TRIGGER households_tally_insert AFTER INSERT ON households BEGIN
    INSERT INTO registry_tallies (org_path, entity, state, n) VALUES (NEW.org_path, 'household', NEW.status, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER households_tally_update AFTER UPDATE OF org_path, status ON households
    WHEN OLD.org_path IS NOT NEW.org_path OR OLD.status IS NOT NEW.status BEGIN
    UPDATE registry_tallies SET n = n - 1
        WHERE org_path = OLD.org_path AND entity = 'household' AND state = OLD.status;
    INSERT INTO registry_tallies (org_path, entity, state, n) VALUES (NEW.org_path, 'household', NEW.status, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER households_tally_delete AFTER DELETE ON households BEGIN
    UPDATE registry_tallies SET n = n - 1
        WHERE org_path = OLD.org_path AND entity = 'household' AND state = OLD.status;
END;

CREATE TRIGGER enterprises_tally_insert AFTER INSERT ON enterprises BEGIN
    INSERT INTO registry_tallies (org_path, entity, state, n)
        VALUES (NEW.org_path, 'enterprise', CASE WHEN NEW.active THEN 'active' ELSE 'closed' END, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER enterprises_tally_update AFTER UPDATE OF org_path, active ON enterprises
    WHEN OLD.org_path IS NOT NEW.org_path OR OLD.active IS NOT NEW.active BEGIN
    UPDATE registry_tallies SET n = n - 1
        WHERE org_path = OLD.org_path AND entity = 'enterprise'
          AND state = CASE WHEN OLD.active THEN 'active' ELSE 'closed' END;
    INSERT INTO registry_tallies (org_path, entity, state, n)
        VALUES (NEW.org_path, 'enterprise', CASE WHEN NEW.active THEN 'active' ELSE 'closed' END, 1)
        ON CONFLICT (org_path, entity, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER enterprises_tally_delete AFTER DELETE ON enterprises BEGIN
    UPDATE registry_tallies SET n = n - 1
        WHERE org_path = OLD.org_path AND entity = 'enterprise'
          AND state = CASE WHEN OLD.active THEN 'active' ELSE 'closed' END;
END;
