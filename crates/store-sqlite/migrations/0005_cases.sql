-- Cases handled by tier (事件), key persons (重点人员), projects (重点项目) and supervised tasks
-- (督查督办). Every record carries the org_path of the unit it belongs to, so a scope is a range.
-- A case's full rule state (domain::case::CaseState) is JSON in `state`; the columns beside it
-- are copies for lists and filters, rewritten on every transition. `version` guards against two
-- people acting on the same case at once. Nothing is deleted.

-- The category tree, as data: a township adds its own categories without a release.
CREATE TABLE case_categories (
    code TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES case_categories (code),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    -- 八大重点领域 of petitions: followed separately in the 防倒流 work.
    key_area INTEGER NOT NULL DEFAULT 0,
    sort INTEGER NOT NULL
);
INSERT INTO case_categories (code, parent_code, kind, label, key_area, sort) VALUES
    ('dispute', NULL, 'dispute', '矛盾纠纷', 0, 1),
    ('dispute.neighbour', 'dispute', 'dispute', '邻里纠纷', 0, 1),
    ('dispute.family', 'dispute', 'dispute', '婚姻家庭纠纷', 0, 2),
    ('dispute.land', 'dispute', 'dispute', '土地山林权属纠纷', 0, 3),
    ('dispute.wages', 'dispute', 'dispute', '劳资纠纷', 0, 4),
    ('dispute.contract', 'dispute', 'dispute', '合同债务纠纷', 0, 5),
    ('dispute.other', 'dispute', 'dispute', '其他纠纷', 0, 99),
    ('petition', NULL, 'petition', '信访', 0, 2),
    ('petition.land_acquisition', 'petition', 'petition', '征地拆迁', 1, 1),
    ('petition.labour', 'petition', 'petition', '劳动社保', 1, 2),
    ('petition.rural', 'petition', 'petition', '涉农问题', 1, 3),
    ('petition.urban_construction', 'petition', 'petition', '城乡建设', 1, 4),
    ('petition.education_health', 'petition', 'petition', '教育医疗', 1, 5),
    ('petition.environment', 'petition', 'petition', '生态环境', 1, 6),
    ('petition.enterprise_reform', 'petition', 'petition', '企业改制', 1, 7),
    ('petition.law', 'petition', 'petition', '涉法涉诉', 1, 8),
    ('petition.other', 'petition', 'petition', '其他信访', 0, 99),
    ('complaint', NULL, 'complaint', '投诉求助建议咨询（12345）', 0, 3),
    ('complaint.complaint', 'complaint', 'complaint', '投诉', 0, 1),
    ('complaint.help', 'complaint', 'complaint', '求助', 0, 2),
    ('complaint.suggestion', 'complaint', 'complaint', '建议', 0, 3),
    ('complaint.inquiry', 'complaint', 'complaint', '咨询', 0, 4),
    ('incident', NULL, 'incident', '环境事件', 0, 4),
    ('incident.straw_burning', 'incident', 'incident', '秸秆焚烧火点', 0, 1),
    ('incident.illegal_fishing', 'incident', 'incident', '非法捕捞', 0, 2),
    ('incident.pollution', 'incident', 'incident', '污染排放', 0, 3),
    ('hazard', NULL, 'hazard', '安全隐患', 0, 5),
    ('hazard.fire', 'hazard', 'hazard', '消防安全', 0, 1),
    ('hazard.traffic', 'hazard', 'hazard', '交通安全', 0, 2),
    ('hazard.water', 'hazard', 'hazard', '溺水风险水域', 0, 3),
    ('hazard.food', 'hazard', 'hazard', '食品安全', 0, 4),
    ('hazard.building', 'hazard', 'hazard', '房屋建筑安全', 0, 5);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    category_code TEXT NOT NULL REFERENCES case_categories (code),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Where it happened: a grid, village or township; its path is the case's scope.
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    tier TEXT NOT NULL,
    risk TEXT,
    urgent INTEGER NOT NULL,
    assignee TEXT,
    registered_on TEXT NOT NULL,
    -- The deadline that runs now (acceptance, then closing); NULL once finished.
    due_on TEXT,
    closed_on TEXT,
    resolution_tier TEXT,
    version INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cases_path ON cases (org_path, registered_on);
CREATE INDEX cases_due ON cases (due_on) WHERE due_on IS NOT NULL;
CREATE INDEX cases_assignee ON cases (assignee) WHERE assignee IS NOT NULL;

-- Parties: a registry person when known (no ID number is copied here), or a name only.
CREATE TABLE case_parties (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    person_id INTEGER REFERENCES persons (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL
);
CREATE INDEX case_parties_case ON case_parties (case_id);
CREATE INDEX case_parties_person ON case_parties (person_id);

-- The timeline: one row per transition, with who, when and what.
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    status_after TEXT NOT NULL,
    tier_after TEXT NOT NULL,
    on_date TEXT NOT NULL,
    at TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_tier TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Key persons: categories as data with the base visit interval in days.
CREATE TABLE key_person_categories (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    visit_days INTEGER NOT NULL,
    sort INTEGER NOT NULL
);
INSERT INTO key_person_categories (code, label, visit_days, sort) VALUES
    ('released_prisoner', '刑满释放人员', 30, 1),
    ('community_correction', '社区矫正对象', 15, 2),
    ('mental_disorder', '严重精神障碍患者', 30, 3),
    ('troublemaker', '肇事肇祸人员', 15, 4),
    ('repeat_petitioner', '重复信访人员', 15, 5),
    ('drug_user', '吸毒人员', 30, 6),
    ('left_behind_child', '留守儿童', 30, 7),
    ('left_behind_elderly', '留守老人', 30, 8),
    ('left_behind_woman', '留守妇女', 60, 9);

CREATE TABLE key_persons (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL UNIQUE REFERENCES persons (id),
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    -- JSON array of key_person_categories codes.
    categories TEXT NOT NULL,
    risk INTEGER NOT NULL,
    cadre TEXT NOT NULL,
    visit_days INTEGER NOT NULL,
    last_visit_on TEXT,
    next_visit_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX key_persons_path ON key_persons (org_path);
CREATE INDEX key_persons_due ON key_persons (next_visit_on) WHERE active = TRUE;

CREATE TABLE key_person_visits (
    id INTEGER PRIMARY KEY,
    key_person_id INTEGER NOT NULL REFERENCES key_persons (id),
    visited_on TEXT NOT NULL,
    visitor TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX key_person_visits_kp ON key_person_visits (key_person_id, visited_on);

-- Projects: 重点项目, 招商引资 leads, 衔接资金项目, 跑项争资. Amounts in yuan.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    stage TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    planned_yuan INTEGER NOT NULL,
    completed_yuan INTEGER NOT NULL,
    funds_won_yuan INTEGER NOT NULL,
    year INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX projects_path ON projects (org_path, year);

CREATE TABLE project_enterprises (
    project_id INTEGER NOT NULL REFERENCES projects (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    PRIMARY KEY (project_id, enterprise_id)
);

-- 工作专班 members: a user when they have one, a name always.
CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    duty TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- 督查督办: one task per owning unit and cadre.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units (code),
    org_path TEXT NOT NULL,
    owner TEXT NOT NULL,
    assigned_on TEXT NOT NULL,
    deadline TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL,
    completed_on TEXT,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tasks_path ON tasks (org_path, deadline);

CREATE TABLE task_updates (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    on_date TEXT NOT NULL,
    progress INTEGER NOT NULL,
    note TEXT NOT NULL,
    by_name TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX task_updates_task ON task_updates (task_id, id);
