//! The SQL of cases, key persons, projects and tasks, shared by both backends like
//! [`crate::impl_sql_store!`] (read its header).
//!
//! A case's rules live in the domain: the store keeps the [`xiangzhi_domain::case::CaseState`]
//! as JSON and copies what lists filter on (status, tier, running deadline, assignee) into
//! columns on every write. Figures over closed cases are computed here from the stored states,
//! so they agree with what the state machine says.

/// Maps a refusal of the state machine: a role that may not act is `Forbidden`, anything
/// else is the domain's Chinese message as `Invalid`.
pub fn case_error(e: xiangzhi_domain::case::CaseError) -> crate::StoreError {
    match e {
        xiangzhi_domain::case::CaseError::RoleNotAllowed { .. } => {
            crate::StoreError::Forbidden(e.to_string())
        }
        other => crate::StoreError::Invalid(other.to_string()),
    }
}

#[macro_export]
macro_rules! impl_case_store {
    ($Store:ty, $DB:ty) => {
        #[allow(clippy::too_many_arguments)]
        mod __sql_case {
            use super::*;
            use ::chrono::NaiveDate;
            use ::sqlx::Row as _;
            use ::std::collections::{BTreeMap, HashMap};
            use $crate::audit::AuditRecord;
            use $crate::bulk::Val;
            use $crate::case::*;
            use $crate::model::*;
            use $crate::sql::{bad_row, like_escape, now_text};
            use $crate::sql_case::case_error;
            use $crate::sql_ledger::code_at_level;
            use $crate::{StoreError, StoreResult};
            use ::xiangzhi_domain::case::{
                apply, ActionContext, CaseAction, CaseKind, CaseState, CaseStatus, EventKind, Tier, TimeLimits,
            };
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
            use ::xiangzhi_domain::role::{Permission, Role};

            type Tx = ::sqlx::Transaction<'static, $DB>;
            type DbRow = <$DB as ::sqlx::Database>::Row;

            fn q(sql: String) -> ::sqlx::AssertSqlSafe<String> {
                ::sqlx::AssertSqlSafe(sql)
            }
            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }
            fn json_err(e: ::serde_json::Error) -> StoreError {
                StoreError::Backend(e.to_string())
            }
            fn in_scope(scope: &Scope, path: &str) -> StoreResult<()> {
                if path.starts_with(scope.path.as_str()) { Ok(()) } else { Err(StoreError::NotFound) }
            }
            fn can_write(actor: &Actor, what: &str) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !r.can(Permission::Write) => Err(StoreError::Forbidden(format!("该角色不能{what}"))),
                    _ => Ok(()),
                }
            }
            fn township_only(actor: &Actor, what: &str) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !(r.can(Permission::TownshipReview) || r.can(Permission::ManageOrg)) => {
                        Err(StoreError::Forbidden(format!("只有乡镇可以{what}")))
                    }
                    _ => Ok(()),
                }
            }
            fn required(s: &str, what: &str) -> StoreResult<String> {
                match s.trim() {
                    "" => Err(StoreError::invalid(format!("{what}不能为空"))),
                    t if t.chars().count() > 2000 => Err(StoreError::invalid(format!("{what}过长（最多2000字）"))),
                    t => Ok(t.to_string()),
                }
            }
            fn tier_col(r: &DbRow, col: &str) -> StoreResult<Tier> {
                let s: String = r.try_get(col).map_err(err)?;
                Tier::parse(&s).ok_or_else(|| bad_row("层级"))
            }
            fn code_col(r: &DbRow, col: &str) -> StoreResult<DivisionCode> {
                let s: String = r.try_get(col).map_err(err)?;
                DivisionCode::parse(&s).map_err(|_| bad_row("区划代码"))
            }

            /// A unit a record may belong to.
            struct Unit {
                code: String,
                path: String,
                level: OrgLevel,
            }

            /// The steps a case from an old ledger went through: registered and accepted where
            /// it happened, escalated up to the tier that handled it, assigned and taken up
            /// there; with a closing date answered, followed up where its kind needs it, closed.
            fn replay_import(
                kind: CaseKind,
                unit_tier: Tier,
                r: &CaseImportRow,
                rules: &CaseRules,
                who: &str,
            ) -> Result<Vec<(::xiangzhi_domain::case::Transition, NaiveDate, Tier)>, ::xiangzhi_domain::case::CaseError> {
                let ctx = |today: NaiveDate, tier: Tier| ActionContext {
                    today,
                    actor_tier: tier,
                    role: Role::Admin,
                    calendar: &rules.calendar,
                    limits: &rules.limits,
                };
                let t = CaseState::register(kind, false, &ctx(r.registered_on, unit_tier))?;
                let mut state = t.state.clone();
                let mut out = vec![(t, r.registered_on, unit_tier)];
                let mut go = |action: CaseAction, on: NaiveDate, tier: Tier| -> Result<(), ::xiangzhi_domain::case::CaseError> {
                    let t = apply(&state, &action, &ctx(on, tier))?;
                    state = t.state.clone();
                    out.push((t, on, tier));
                    Ok(())
                };
                let day = r.registered_on;
                go(CaseAction::Accept, day, unit_tier)?;
                let mut at = unit_tier;
                while at < r.tier {
                    go(CaseAction::Escalate { reason: "存量台账：由上级办理".into() }, day, at)?;
                    at = at.up().expect("below the tier asked for");
                }
                go(CaseAction::Assign { to_tier: r.tier, assignee: who.to_string() }, day, r.tier)?;
                go(CaseAction::StartHandling, day, r.tier)?;
                if let Some(closed) = r.closed_on {
                    go(CaseAction::Reply { text: "存量台账记为已办结".into() }, closed, r.tier)?;
                    if let Some(satisfied) = r.satisfied.filter(|_| kind.requires_follow_up()) {
                        go(CaseAction::FollowUp { satisfied, note: "存量台账所记回访结果".into() }, closed, r.tier)?;
                    }
                    go(CaseAction::Close, closed, r.tier)?;
                }
                Ok(out)
            }

            async fn unit_in_tx(tx: &mut Tx, scope: &Scope, code: &DivisionCode) -> StoreResult<Unit> {
                let r = ::sqlx::query("SELECT code, path, level, valid_to FROM org_units WHERE code = $1")
                    .bind(code.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                let path: String = r.try_get("path").map_err(err)?;
                in_scope(scope, &path)?;
                let valid_to: Option<NaiveDate> = r.try_get("valid_to").map_err(err)?;
                if valid_to.is_some() {
                    return Err(StoreError::invalid(format!("{code} 已撤销或合并，请选择现在的单位")));
                }
                let level: String = r.try_get("level").map_err(err)?;
                Ok(Unit {
                    code: r.try_get("code").map_err(err)?,
                    path,
                    level: OrgLevel::parse(&level).ok_or_else(|| bad_row("层级"))?,
                })
            }

            pub(super) const CATEGORY_SELECT: &str =
                "SELECT code, parent_code, kind, label, key_area, sort, owner_path FROM case_categories";

            pub(super) fn category_from_row(r: &DbRow) -> StoreResult<CaseCategory> {
                let kind: String = r.try_get("kind").map_err(err)?;
                Ok(CaseCategory {
                    code: r.try_get("code").map_err(err)?,
                    parent_code: r.try_get("parent_code").map_err(err)?,
                    kind: CaseKind::parse(&kind).ok_or_else(|| bad_row("事件类型"))?,
                    label: r.try_get("label").map_err(err)?,
                    key_area: r.try_get("key_area").map_err(err)?,
                    sort: r.try_get("sort").map_err(err)?,
                    owner_path: r.try_get("owner_path").map_err(err)?,
                })
            }

            /// The limits of the nearest unit above (or at) `path` that set its own; there are
            /// a handful of rows, one per township that changed the defaults.
            pub(super) async fn stored_limits(
                conn: &mut <$DB as ::sqlx::Database>::Connection,
                path: &str,
            ) -> StoreResult<Option<(String, TimeLimits)>> {
                let rows = ::sqlx::query("SELECT org_code, org_path, limits FROM case_time_limits")
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err)?;
                let mut best: Option<(usize, String, String)> = None;
                for r in &rows {
                    let p: String = r.try_get("org_path").map_err(err)?;
                    if path.starts_with(p.as_str()) && best.as_ref().is_none_or(|b| p.len() > b.0) {
                        best = Some((p.len(), r.try_get("org_code").map_err(err)?, r.try_get("limits").map_err(err)?));
                    }
                }
                best.map(|(_, code, text)| {
                    let l: TimeLimits = ::serde_json::from_str(&text).map_err(|_| bad_row("事件时限"))?;
                    Ok((code, l))
                })
                .transpose()
            }

            /// `rules` with the limits stored for `path` in place of the defaults.
            async fn rules_for(tx: &mut Tx, rules: &CaseRules, path: &str) -> StoreResult<CaseRules> {
                let mut r = rules.clone();
                if let Some((_, l)) = stored_limits(&mut **tx, path).await? {
                    r.limits = l;
                }
                Ok(r)
            }

            const CASE_SELECT: &str = "SELECT c.id, c.kind, c.category_code, k.label AS category_label, c.title, c.description, \
                 c.org_code, o.name AS org_name, c.org_path, c.location, c.source, c.state, c.version, c.created_by, c.updated_at \
                 FROM cases c JOIN org_units o ON o.code = c.org_code JOIN case_categories k ON k.code = c.category_code";

            fn case_from_row(r: &DbRow) -> StoreResult<Case> {
                let kind: String = r.try_get("kind").map_err(err)?;
                let state: String = r.try_get("state").map_err(err)?;
                Ok(Case {
                    id: r.try_get("id").map_err(err)?,
                    kind: CaseKind::parse(&kind).ok_or_else(|| bad_row("事件类型"))?,
                    category_code: r.try_get("category_code").map_err(err)?,
                    category_label: r.try_get("category_label").map_err(err)?,
                    title: r.try_get("title").map_err(err)?,
                    description: r.try_get("description").map_err(err)?,
                    org_code: code_col(r, "org_code")?,
                    org_name: r.try_get("org_name").map_err(err)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    location: r.try_get("location").map_err(err)?,
                    source: r.try_get("source").map_err(err)?,
                    state: ::serde_json::from_str(&state).map_err(|_| bad_row("事件状态"))?,
                    version: r.try_get("version").map_err(err)?,
                    created_by: r.try_get("created_by").map_err(err)?,
                    updated_at: r.try_get("updated_at").map_err(err)?,
                })
            }

            const KP_SELECT: &str = "SELECT k.id, k.person_id, p.name, k.org_code, o.name AS org_name, k.org_path, k.categories, \
                 k.risk, k.cadre, k.visit_days, k.last_visit_on, k.next_visit_on, k.note, k.active \
                 FROM key_persons k JOIN persons p ON p.id = k.person_id JOIN org_units o ON o.code = k.org_code";

            const TASK_SELECT: &str = "SELECT t.id, t.title, t.description, t.org_code, o.name AS org_name, t.org_path, t.owner, \
                 t.assigned_on, t.deadline, t.status, t.progress, t.completed_on, t.created_by \
                 FROM tasks t JOIN org_units o ON o.code = t.org_code";

            fn task_from_row(r: &DbRow) -> StoreResult<Task> {
                let status: String = r.try_get("status").map_err(err)?;
                let progress: i64 = r.try_get("progress").map_err(err)?;
                Ok(Task {
                    id: r.try_get("id").map_err(err)?,
                    title: r.try_get("title").map_err(err)?,
                    description: r.try_get("description").map_err(err)?,
                    org_code: code_col(r, "org_code")?,
                    org_name: r.try_get("org_name").map_err(err)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    owner: r.try_get("owner").map_err(err)?,
                    assigned_on: r.try_get("assigned_on").map_err(err)?,
                    deadline: r.try_get("deadline").map_err(err)?,
                    status: TaskStatus::parse(&status).ok_or_else(|| bad_row("任务状态"))?,
                    progress: u8::try_from(progress).map_err(|_| bad_row("任务进度"))?,
                    completed_on: r.try_get("completed_on").map_err(err)?,
                    created_by: r.try_get("created_by").map_err(err)?,
                })
            }

            const PROJECT_SELECT: &str = "SELECT p.id, p.name, p.kind, p.stage, p.org_code, o.name AS org_name, p.org_path, \
                 p.planned_yuan, p.completed_yuan, p.funds_won_yuan, p.year, p.note, p.updated_at, p.updated_by \
                 FROM projects p JOIN org_units o ON o.code = p.org_code";

            /// The stored rule state plus what the lists filter on.
            async fn write_state(tx: &mut Tx, id: i64, s: &CaseState, version: i64, now: &str) -> StoreResult<bool> {
                let state = ::serde_json::to_string(s).map_err(json_err)?;
                let done = ::sqlx::query(
                    "UPDATE cases SET state = $1, status = $2, tier = $3, risk = $4, urgent = $5, assignee = $6, due_on = $7, \
                     closed_on = $8, resolution_tier = $9, version = version + 1, updated_at = $10 WHERE id = $11 AND version = $12",
                )
                .bind(&state)
                .bind(s.status.as_str())
                .bind(s.tier.as_str())
                .bind(s.risk.map(|r| r.as_str()))
                .bind(s.urgent)
                .bind(&s.assignee)
                .bind(s.active_deadline())
                .bind(s.closed_on)
                .bind(s.resolution_tier.map(|t| t.as_str()))
                .bind(now)
                .bind(id)
                .bind(version)
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn add_event(
                tx: &mut Tx,
                actor: &Actor,
                id: i64,
                event: EventKind,
                description: &str,
                s: &CaseState,
                on: NaiveDate,
                actor_tier: Tier,
                now: &str,
            ) -> StoreResult<()> {
                ::sqlx::query(
                    "INSERT INTO case_events (case_id, kind, description, status_after, tier_after, on_date, at, actor_name, actor_tier) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(id)
                .bind(event.as_str())
                .bind(description)
                .bind(s.status.as_str())
                .bind(s.tier.as_str())
                .bind(on)
                .bind(now)
                .bind(&actor.username)
                .bind(actor_tier.as_str())
                .execute(&mut **tx)
                .await
                .map_err(err)?;
                Ok(())
            }

            fn state_summary(s: &CaseState) -> ::serde_json::Value {
                ::serde_json::json!({
                    "status": s.status.as_str(),
                    "tier": s.tier.as_str(),
                    "assignee": s.assignee,
                    "due_on": s.active_deadline(),
                })
            }

            impl $Store {
                async fn case_by_id(&self, scope: &Scope, id: i64) -> StoreResult<Case> {
                    let r = ::sqlx::query(q(format!("{CASE_SELECT} WHERE c.id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let c = case_from_row(&r)?;
                    in_scope(scope, c.org_path.as_str())?;
                    Ok(c)
                }

                async fn key_person_by_id(&self, scope: &Scope, id: i64) -> StoreResult<KeyPerson> {
                    let r = ::sqlx::query(q(format!("{KP_SELECT} WHERE k.id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let kp = self.key_person_from_row(&r).await?;
                    in_scope(scope, kp.org_path.as_str())?;
                    Ok(kp)
                }

                async fn key_person_from_row(&self, r: &DbRow) -> StoreResult<KeyPerson> {
                    let cats: String = r.try_get("categories").map_err(err)?;
                    let categories: Vec<String> = ::serde_json::from_str(&cats).map_err(|_| bad_row("重点人员类别"))?;
                    let all = <Self as $crate::case::CaseStore>::key_person_categories(self).await?;
                    let category_labels = categories
                        .iter()
                        .map(|c| all.iter().find(|k| &k.code == c).map_or_else(|| c.clone(), |k| k.label.clone()))
                        .collect();
                    let risk: i64 = r.try_get("risk").map_err(err)?;
                    let days: i64 = r.try_get("visit_days").map_err(err)?;
                    Ok(KeyPerson {
                        id: r.try_get("id").map_err(err)?,
                        person_id: r.try_get("person_id").map_err(err)?,
                        name: r.try_get("name").map_err(err)?,
                        org_code: code_col(r, "org_code")?,
                        org_name: r.try_get("org_name").map_err(err)?,
                        org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                        categories,
                        category_labels,
                        risk: u8::try_from(risk).map_err(|_| bad_row("风险等级"))?,
                        cadre: r.try_get("cadre").map_err(err)?,
                        visit_days: u32::try_from(days).map_err(|_| bad_row("走访周期"))?,
                        last_visit_on: r.try_get("last_visit_on").map_err(err)?,
                        next_visit_on: r.try_get("next_visit_on").map_err(err)?,
                        note: r.try_get("note").map_err(err)?,
                        active: r.try_get("active").map_err(err)?,
                    })
                }

                async fn project_from_row(&self, r: &DbRow) -> StoreResult<Project> {
                    let id: i64 = r.try_get("id").map_err(err)?;
                    let kind: String = r.try_get("kind").map_err(err)?;
                    let stage: String = r.try_get("stage").map_err(err)?;
                    let year: i64 = r.try_get("year").map_err(err)?;
                    let enterprises = ::sqlx::query(
                        "SELECT e.id, e.name, k.label FROM project_enterprises pe JOIN enterprises e ON e.id = pe.enterprise_id \
                         JOIN enterprise_kinds k ON k.code = e.kind WHERE pe.project_id = $1 ORDER BY e.id",
                    )
                    .bind(id)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?
                    .iter()
                    .map(|e| {
                        Ok(LinkedEnterprise {
                            id: e.try_get("id").map_err(err)?,
                            name: e.try_get("name").map_err(err)?,
                            kind: e.try_get("label").map_err(err)?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                    let members = ::sqlx::query("SELECT name, duty FROM project_members WHERE project_id = $1 ORDER BY name")
                        .bind(id)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?
                        .iter()
                        .map(|m| {
                            Ok(ProjectMember {
                                name: m.try_get("name").map_err(err)?,
                                duty: m.try_get("duty").map_err(err)?,
                            })
                        })
                        .collect::<StoreResult<Vec<_>>>()?;
                    Ok(Project {
                        id,
                        name: r.try_get("name").map_err(err)?,
                        kind: ProjectKind::parse(&kind).ok_or_else(|| bad_row("项目类型"))?,
                        stage: ProjectStage::parse(&stage).ok_or_else(|| bad_row("项目阶段"))?,
                        org_code: code_col(r, "org_code")?,
                        org_name: r.try_get("org_name").map_err(err)?,
                        org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                        planned_yuan: r.try_get("planned_yuan").map_err(err)?,
                        completed_yuan: r.try_get("completed_yuan").map_err(err)?,
                        funds_won_yuan: r.try_get("funds_won_yuan").map_err(err)?,
                        year: i32::try_from(year).map_err(|_| bad_row("年度"))?,
                        note: r.try_get("note").map_err(err)?,
                        enterprises,
                        members,
                        updated_at: r.try_get("updated_at").map_err(err)?,
                        updated_by: r.try_get("updated_by").map_err(err)?,
                    })
                }

                async fn task_by_id(&self, scope: &Scope, id: i64) -> StoreResult<Task> {
                    let r = ::sqlx::query(q(format!("{TASK_SELECT} WHERE t.id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let t = task_from_row(&r)?;
                    in_scope(scope, t.org_path.as_str())?;
                    Ok(t)
                }
            }

            impl $Store {
                /// [`CaseStore::act_on_case`], with `note` added to the timeline's description
                /// (why an automatic 催办 was sent).
                pub(super) async fn act_noted(
                    &self,
                    actor: &Actor,
                    rules: &CaseRules,
                    id: i64,
                    action: &CaseAction,
                    today: NaiveDate,
                    expected_version: Option<i64>,
                    note: Option<&str>,
                ) -> StoreResult<Case> {
                    let mut tx = self.begin_write().await?;
                    let r = ::sqlx::query(q(format!("{CASE_SELECT} WHERE c.id = $1")))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let case = case_from_row(&r)?;
                    in_scope(&actor.scope, case.org_path.as_str())?;
                    if let Some(v) = expected_version
                        && v != case.version
                    {
                        return Err(StoreError::Conflict("该事件已被他人处理，请刷新后再操作".into()));
                    }
                    let last: Option<NaiveDate> = ::sqlx::query("SELECT MAX(on_date) AS d FROM case_events WHERE case_id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?
                        .try_get("d")
                        .map_err(err)?;
                    if let Some(last) = last
                        && today < last
                    {
                        return Err(StoreError::invalid(format!("操作日期（{today}）早于该事件上一步的日期（{last}）")));
                    }
                    let actor_tier = tier_of_scope(&actor.scope.path);
                    let role = actor.role.unwrap_or(Role::Admin);
                    let rules = &rules_for(&mut tx, rules, case.org_path.as_str()).await?;
                    let ctx = ActionContext { today, actor_tier, role, calendar: &rules.calendar, limits: &rules.limits };
                    let mut t = apply(&case.state, action, &ctx).map_err(case_error)?;
                    if let Some(n) = note {
                        t.description = format!("{}：{n}", t.description);
                    }
                    let now = now_text();
                    if !write_state(&mut tx, id, &t.state, case.version, &now).await? {
                        return Err(StoreError::Conflict("该事件已被他人处理，请刷新后再操作".into()));
                    }
                    add_event(&mut tx, actor, id, t.event, &t.description, &t.state, today, actor_tier, &now).await?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: t.event.as_str(),
                            entity: "case",
                            entity_id: id.to_string(),
                            scope_path: case.org_path.as_str().to_string(),
                            old_value: Some(state_summary(&case.state)),
                            new_value: Some({
                                let mut v = state_summary(&t.state);
                                v["description"] = ::serde_json::Value::String(t.description.clone());
                                v
                            }),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    self.case_by_id(&Scope::all(), id).await
                }
            }

            #[::async_trait::async_trait]
            impl $crate::case::CaseStore for $Store {
                async fn case_categories(&self) -> StoreResult<Vec<CaseCategory>> {
                    let rows = ::sqlx::query(q(format!(
                        "{CATEGORY_SELECT} WHERE owner_path IS NULL ORDER BY COALESCE(parent_code, code), parent_code IS NOT NULL, sort, code"
                    )))
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    rows.iter().map(category_from_row).collect()
                }

                async fn register_case(&self, actor: &Actor, rules: &CaseRules, new: NewCase) -> StoreResult<Case> {
                    let title = required(&new.title, "事件标题")?;
                    let description = required(&new.description, "事件描述")?;
                    let source = required(&new.source, "来源")?;
                    if new.registered_on > ::chrono::Utc::now().date_naive() + ::chrono::Duration::days(1) {
                        return Err(StoreError::invalid("登记日期不能晚于今天"));
                    }
                    let mut tx = self.begin_write().await?;
                    let cat = ::sqlx::query("SELECT kind, owner_path FROM case_categories WHERE code = $1")
                        .bind(new.category.trim())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or_else(|| StoreError::invalid(format!("没有“{}”这个事件类别", new.category.trim())))?;
                    let kind: String = cat.try_get("kind").map_err(err)?;
                    let kind = CaseKind::parse(&kind).ok_or_else(|| bad_row("事件类型"))?;
                    let owner: Option<String> = cat.try_get("owner_path").map_err(err)?;
                    let unit = unit_in_tx(&mut tx, &actor.scope, &new.org_code).await?;
                    if owner.is_some_and(|o| !unit.path.starts_with(o.as_str())) {
                        return Err(StoreError::invalid(format!("没有“{}”这个事件类别", new.category.trim())));
                    }
                    let rules = &rules_for(&mut tx, rules, &unit.path).await?;
                    let Some(unit_tier) = Tier::from_org_level(unit.level).filter(|t| *t != Tier::County) else {
                        return Err(StoreError::invalid("事件的发生地须是网格、村（社区）或乡镇"));
                    };
                    // The operator (Open311, imports) registers where the case happened; a
                    // person registers at their own tier.
                    let actor_tier = if actor.role.is_none() { unit_tier } else { tier_of_scope(&actor.scope.path) };
                    let role = actor.role.unwrap_or(Role::Admin);
                    let ctx = ActionContext { today: new.registered_on, actor_tier, role, calendar: &rules.calendar, limits: &rules.limits };
                    let mut t = CaseState::register(kind, new.urgent, &ctx).map_err(case_error)?;
                    t.state.risk = new.risk;
                    let now = now_text();
                    let id: i64 = ::sqlx::query(
                        "INSERT INTO cases (kind, category_code, title, description, org_code, org_path, location, source, state, status, tier, \
                         urgent, registered_on, version, created_by, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}', 'registered', $9, $10, $11, 0, $12, $13) RETURNING id",
                    )
                    .bind(kind.as_str())
                    .bind(new.category.trim())
                    .bind(&title)
                    .bind(&description)
                    .bind(&unit.code)
                    .bind(&unit.path)
                    .bind(new.location.trim())
                    .bind(&source)
                    .bind(t.state.tier.as_str())
                    .bind(new.urgent)
                    .bind(new.registered_on)
                    .bind(&actor.username)
                    .bind(&now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?
                    .try_get("id")
                    .map_err(err)?;
                    write_state(&mut tx, id, &t.state, 0, &now).await?;
                    for p in &new.parties {
                        let name = match p.person_id {
                            Some(pid) => {
                                let r = ::sqlx::query("SELECT name, org_path FROM persons WHERE id = $1")
                                    .bind(pid)
                                    .fetch_optional(&mut *tx)
                                    .await
                                    .map_err(err)?;
                                let Some(r) = r else {
                                    return Err(StoreError::invalid(format!("当事人（人员编号{pid}）不存在或不在本辖区")));
                                };
                                let path: String = r.try_get("org_path").map_err(err)?;
                                if !path.starts_with(actor.scope.path.as_str()) {
                                    return Err(StoreError::invalid(format!("当事人（人员编号{pid}）不存在或不在本辖区")));
                                }
                                r.try_get::<String, _>("name").map_err(err)?
                            }
                            None => required(&p.name, "当事人姓名")?,
                        };
                        ::sqlx::query("INSERT INTO case_parties (case_id, person_id, name, role) VALUES ($1, $2, $3, $4)")
                            .bind(id)
                            .bind(p.person_id)
                            .bind(&name)
                            .bind(p.role.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    add_event(&mut tx, actor, id, t.event, &t.description, &t.state, new.registered_on, actor_tier, &now).await?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "register",
                            entity: "case",
                            entity_id: id.to_string(),
                            scope_path: unit.path.clone(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({
                                "kind": kind.as_str(),
                                "category": new.category.trim(),
                                "title": title,
                                "org": unit.code,
                                "source": source,
                                "parties": new.parties.len(),
                                "state": state_summary(&t.state),
                            })),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    self.case_by_id(&Scope::all(), id).await
                }

                async fn import_cases(
                    &self,
                    actor: &Actor,
                    rules: &CaseRules,
                    org: &DivisionCode,
                    rows: &[CaseImportRow],
                    dry_run: bool,
                ) -> StoreResult<$crate::registry::ImportOutcome> {
                    use $crate::registry::{ImportIssue, ImportOutcome};
                    can_write(actor, "导入事件台账")?;
                    let today = ::chrono::Local::now().date_naive();
                    let mut tx = self.begin_write().await?;
                    let root = unit_in_tx(&mut tx, &actor.scope, org).await?;
                    let mut cats: Vec<(String, String, CaseKind, Option<String>)> = Vec::new();
                    for r in ::sqlx::query("SELECT code, label, kind, owner_path FROM case_categories").fetch_all(&mut *tx).await.map_err(err)? {
                        let kind: String = r.try_get("kind").map_err(err)?;
                        cats.push((
                            r.try_get("code").map_err(err)?,
                            r.try_get("label").map_err(err)?,
                            CaseKind::parse(&kind).ok_or_else(|| bad_row("事件类型"))?,
                            r.try_get("owner_path").map_err(err)?,
                        ));
                    }
                    let issue = |line: usize, column: &str, reason: String| ImportIssue { line, column: column.into(), reason };
                    let mut units: HashMap<String, Result<(Unit, Tier), String>> = HashMap::new();
                    let mut rules_at: HashMap<String, CaseRules> = HashMap::new();
                    struct Planned<'a> {
                        row: &'a CaseImportRow,
                        kind: CaseKind,
                        category: String,
                        code: String,
                        path: String,
                        steps: Vec<(::xiangzhi_domain::case::Transition, NaiveDate, Tier)>,
                    }
                    let mut plan = Vec::with_capacity(rows.len());
                    let mut issues = Vec::new();
                    for r in rows {
                        let line = r.line;
                        let c = r.category.trim();
                        let by_code = cats.iter().find(|k| k.0 == c);
                        let by_label: Vec<_> = cats.iter().filter(|k| k.1 == c).collect();
                        let Some((code, _, kind, owner)) = by_code.or(if by_label.len() == 1 { Some(by_label[0]) } else { None }) else {
                            let why = if by_label.len() > 1 { format!("“{c}”有多个同名类别，请填写类别代码") } else { format!("没有“{c}”这个事件类别") };
                            issues.push(issue(line, "类别", why));
                            continue;
                        };
                        if r.title.trim().is_empty() {
                            issues.push(issue(line, "事件标题", "未填写".into()));
                            continue;
                        }
                        if !units.contains_key(r.org_code.as_str()) {
                            let u = match unit_in_tx(&mut tx, &actor.scope, &r.org_code).await {
                                Ok(u) if !u.path.starts_with(root.path.as_str()) => Err("不在本次导入的单位之下".to_string()),
                                Ok(u) => match Tier::from_org_level(u.level).filter(|t| *t != Tier::County) {
                                    Some(t) => Ok((u, t)),
                                    None => Err("事件的发生地须是网格、村（社区）或乡镇".to_string()),
                                },
                                Err(StoreError::NotFound) => Err("不在本次导入的单位之下".to_string()),
                                Err(StoreError::Invalid(m)) => Err(m),
                                Err(e) => return Err(e),
                            };
                            units.insert(r.org_code.as_str().to_string(), u);
                        }
                        let (unit, unit_tier) = match &units[r.org_code.as_str()] {
                            Ok(u) => u,
                            Err(m) => {
                                issues.push(issue(line, "发生地", m.clone()));
                                continue;
                            }
                        };
                        if owner.as_ref().is_some_and(|o| !unit.path.starts_with(o.as_str())) {
                            issues.push(issue(line, "类别", format!("没有“{c}”这个事件类别")));
                            continue;
                        }
                        if r.tier < *unit_tier {
                            issues.push(issue(line, "办结层级", format!("不能低于发生地的层级（{}）", unit_tier.label())));
                            continue;
                        }
                        if r.registered_on > today {
                            issues.push(issue(line, "登记日期", "不能晚于今天".into()));
                            continue;
                        }
                        if let Some(d) = r.closed_on {
                            if d < r.registered_on || d > today {
                                issues.push(issue(line, "办结日期", "应在登记日期与今天之间".into()));
                                continue;
                            }
                            if kind.requires_follow_up() && r.satisfied.is_none() {
                                issues.push(issue(line, "回访结果", format!("{}办结前须回访，请填写“满意”或“不满意”", kind.label())));
                                continue;
                            }
                        }
                        if !rules_at.contains_key(&unit.path) {
                            let got = rules_for(&mut tx, rules, &unit.path).await?;
                            rules_at.insert(unit.path.clone(), got);
                        }
                        match replay_import(*kind, *unit_tier, r, &rules_at[&unit.path], &actor.username) {
                            Ok(steps) => plan.push(Planned { row: r, kind: *kind, category: code.clone(), code: unit.code.clone(), path: unit.path.clone(), steps }),
                            Err(e) => issues.push(issue(line, if r.closed_on.is_some() { "办结日期" } else { "登记日期" }, e.to_string())),
                        }
                    }
                    if dry_run || !issues.is_empty() {
                        return Ok(ImportOutcome::of_new(plan.len(), issues, false));
                    }
                    let now = now_text();
                    let texts: Vec<(String, String)> = plan
                        .iter()
                        .map(|p| {
                            let end = &p.steps.last().expect("a registration at least").0.state;
                            Ok((::serde_json::to_string(end).map_err(json_err)?, format!("存量台账导入（第{}行）", p.row.line)))
                        })
                        .collect::<StoreResult<_>>()?;
                    let mut values = Vec::with_capacity(plan.len() * $crate::bulk::CASES.width());
                    for (p, (state, description)) in plan.iter().zip(&texts) {
                        let end = &p.steps.last().expect("a registration at least").0.state;
                        values.extend([
                            Val::Text(p.kind.as_str()),
                            Val::Text(&p.category),
                            Val::Text(p.row.title.trim()),
                            Val::Text(description),
                            Val::Text(&p.code),
                            Val::Text(&p.path),
                            Val::Text(""),
                            Val::Text("import"),
                            Val::Text(state),
                            Val::Text(end.status.as_str()),
                            Val::Text(end.tier.as_str()),
                            end.risk.map(|r| r.as_str()).into(),
                            Val::Bool(end.urgent),
                            end.assignee.as_deref().into(),
                            Val::Date(p.row.registered_on),
                            end.active_deadline().into(),
                            end.closed_on.into(),
                            end.resolution_tier.map(|t| t.as_str()).into(),
                            Val::Int(1),
                            Val::Text(&actor.username),
                            Val::Text(&now),
                        ]);
                    }
                    let ids = <$Store>::bulk_insert(&mut tx, &$crate::bulk::CASES, &values, true).await?;
                    drop(values);
                    let mut events = Vec::new();
                    for (p, id) in plan.iter().zip(&ids) {
                        for (t, on, tier) in &p.steps {
                            events.extend([
                                Val::Int(*id),
                                Val::Text(t.event.as_str()),
                                Val::Text(&t.description),
                                Val::Text(t.state.status.as_str()),
                                Val::Text(t.state.tier.as_str()),
                                Val::Date(*on),
                                Val::Text(&now),
                                Val::Text(&actor.username),
                                Val::Text(tier.as_str()),
                            ]);
                        }
                    }
                    <$Store>::bulk_insert(&mut tx, &$crate::bulk::CASE_EVENTS, &events, false).await?;
                    drop(events);
                    let (first, last) = (ids.first(), ids.last());
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "import",
                        entity: "case",
                        entity_id: org.as_str().to_string(),
                        scope_path: root.path.clone(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"rows": rows.len(), "cases": plan.len(), "first_id": first, "last_id": last})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(ImportOutcome::of_new(plan.len(), issues, true))
                }

                async fn case(&self, scope: &Scope, id: i64) -> StoreResult<CaseDetail> {
                    let case = self.case_by_id(scope, id).await?;
                    let parties = ::sqlx::query("SELECT person_id, name, role FROM case_parties WHERE case_id = $1 ORDER BY id")
                        .bind(id)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?
                        .iter()
                        .map(|r| {
                            let role: String = r.try_get("role").map_err(err)?;
                            Ok(CaseParty {
                                person_id: r.try_get("person_id").map_err(err)?,
                                name: r.try_get("name").map_err(err)?,
                                role: PartyRole::parse(&role).ok_or_else(|| bad_row("当事人身份"))?,
                            })
                        })
                        .collect::<StoreResult<Vec<_>>>()?;
                    let events = ::sqlx::query(
                        "SELECT id, kind, description, status_after, tier_after, on_date, at, actor_name, actor_tier \
                         FROM case_events WHERE case_id = $1 ORDER BY id",
                    )
                    .bind(id)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?
                    .iter()
                    .map(|r| {
                        let kind: String = r.try_get("kind").map_err(err)?;
                        let status: String = r.try_get("status_after").map_err(err)?;
                        Ok(CaseEvent {
                            id: r.try_get("id").map_err(err)?,
                            kind: EventKind::parse(&kind).ok_or_else(|| bad_row("事件记录"))?,
                            description: r.try_get("description").map_err(err)?,
                            status_after: CaseStatus::parse(&status).ok_or_else(|| bad_row("事件状态"))?,
                            tier_after: tier_col(r, "tier_after")?,
                            on_date: r.try_get("on_date").map_err(err)?,
                            at: r.try_get("at").map_err(err)?,
                            actor_name: r.try_get("actor_name").map_err(err)?,
                            actor_tier: tier_col(r, "actor_tier")?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                    Ok(CaseDetail { case, parties, events })
                }

                async fn cases(&self, scope: &Scope, query: &CaseQuery) -> StoreResult<Vec<Case>> {
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(format!("{CASE_SELECT} WHERE c.org_path >= "));
                    let (lo, hi) = match &query.org {
                        Some(code) => {
                            let r = ::sqlx::query("SELECT path FROM org_units WHERE code = $1")
                                .bind(code.as_str())
                                .fetch_optional(self.read())
                                .await
                                .map_err(err)?
                                .ok_or(StoreError::NotFound)?;
                            let path = OrgPath::from_stored(r.try_get("path").map_err(err)?);
                            if !scope.contains(&path) {
                                return Err(StoreError::NotFound);
                            }
                            (path.as_str().to_string(), path.upper_bound())
                        }
                        None => (scope.path.as_str().to_string(), scope.path.upper_bound()),
                    };
                    b.push_bind(lo).push(" AND c.org_path < ").push_bind(hi);
                    if let Some(k) = query.kind {
                        b.push(" AND c.kind = ").push_bind(k.as_str());
                    }
                    if let Some(s) = query.status {
                        b.push(" AND c.status = ").push_bind(s.as_str());
                    }
                    if let Some(t) = query.tier {
                        b.push(" AND c.tier = ").push_bind(t.as_str());
                    }
                    if let Some(cat) = &query.category {
                        b.push(" AND (c.category_code = ")
                            .push_bind(cat.clone())
                            .push(" OR c.category_code LIKE ")
                            .push_bind(format!("{}.%", like_escape(cat)))
                            .push(" ESCAPE '\\')");
                    }
                    if let Some(a) = &query.assignee {
                        b.push(" AND c.assignee = ").push_bind(a.clone());
                    }
                    if query.open_only {
                        b.push(" AND c.status NOT IN ('rejected', 'closed', 'archived')");
                    }
                    if let Some(d) = query.overdue_on {
                        b.push(" AND c.due_on < ").push_bind(d);
                    }
                    if let Some(d) = query.due_by {
                        b.push(" AND c.due_on <= ").push_bind(d);
                    }
                    if let Some(d) = query.registered_from {
                        b.push(" AND c.registered_on >= ").push_bind(d);
                    }
                    if let Some(d) = query.registered_to {
                        b.push(" AND c.registered_on <= ").push_bind(d);
                    }
                    if let Some(id) = query.before_id {
                        b.push(" AND c.id < ").push_bind(id);
                    }
                    let limit = if query.limit == 0 { 200 } else { query.limit.min(5000) };
                    b.push(" ORDER BY c.id DESC LIMIT ").push_bind(i64::from(limit));
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(case_from_row).collect()
                }

                async fn act_on_case(
                    &self,
                    actor: &Actor,
                    rules: &CaseRules,
                    id: i64,
                    action: &CaseAction,
                    today: NaiveDate,
                    expected_version: Option<i64>,
                ) -> StoreResult<Case> {
                    self.act_noted(actor, rules, id, action, today, expected_version, None).await
                }

                async fn resolution_summary(&self, scope: &Scope, from: NaiveDate, to: NaiveDate) -> StoreResult<ResolutionSummary> {
                    let rows = ::sqlx::query(
                        "SELECT state FROM cases WHERE org_path >= $1 AND org_path < $2 AND status IN ('closed', 'archived') \
                         AND registered_on >= $3 AND registered_on <= $4",
                    )
                    .bind(scope.path.as_str())
                    .bind(scope.path.upper_bound())
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    let mut s = ResolutionSummary::default();
                    for r in &rows {
                        let text: String = r.try_get("state").map_err(err)?;
                        let st: CaseState = ::serde_json::from_str(&text).map_err(|_| bad_row("事件状态"))?;
                        s.closed += 1;
                        match st.resolution_tier.ok_or_else(|| bad_row("化解层级"))? {
                            Tier::Grid => s.grid += 1,
                            Tier::Village => s.village += 1,
                            Tier::Township => s.township += 1,
                            Tier::County => s.county += 1,
                        }
                        if st.closed_on_time() == Some(true) {
                            s.on_time += 1;
                        }
                    }
                    Ok(s.finish())
                }

                async fn key_person_categories(&self) -> StoreResult<Vec<KeyPersonCategory>> {
                    let rows = ::sqlx::query("SELECT code, label, visit_days FROM key_person_categories ORDER BY sort")
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let d: i64 = r.try_get("visit_days").map_err(err)?;
                            Ok(KeyPersonCategory {
                                code: r.try_get("code").map_err(err)?,
                                label: r.try_get("label").map_err(err)?,
                                visit_days: u32::try_from(d).map_err(|_| bad_row("走访周期"))?,
                            })
                        })
                        .collect()
                }

                async fn add_key_person(&self, actor: &Actor, kp: NewKeyPerson) -> StoreResult<KeyPerson> {
                    can_write(actor, "登记重点人员")?;
                    if kp.risk > 5 {
                        return Err(StoreError::invalid(format!("风险等级须在0至5之间，填写了{}", kp.risk)));
                    }
                    let cadre = required(&kp.cadre, "责任人（专人）")?;
                    if kp.categories.is_empty() {
                        return Err(StoreError::invalid("至少选择一个重点人员类别"));
                    }
                    let all = self.key_person_categories().await?;
                    let mut base = Vec::new();
                    for c in &kp.categories {
                        match all.iter().find(|k| &k.code == c || &k.label == c) {
                            Some(k) => base.push(k.visit_days),
                            None => return Err(StoreError::invalid(format!("没有“{c}”这个重点人员类别"))),
                        }
                    }
                    let codes: Vec<String> = kp
                        .categories
                        .iter()
                        .filter_map(|c| all.iter().find(|k| &k.code == c || &k.label == c).map(|k| k.code.clone()))
                        .collect();
                    let interval = visit_interval(&base, kp.risk);
                    let mut tx = self.begin_write().await?;
                    let p = ::sqlx::query("SELECT org_code, org_path FROM persons WHERE id = $1")
                        .bind(kp.person_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let path: String = p.try_get("org_path").map_err(err)?;
                    in_scope(&actor.scope, &path)?;
                    let org: String = p.try_get("org_code").map_err(err)?;
                    let exists = ::sqlx::query("SELECT id FROM key_persons WHERE person_id = $1")
                        .bind(kp.person_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if exists.is_some() {
                        return Err(StoreError::Conflict("该人员已在重点人员名单中".into()));
                    }
                    let next = next_visit(kp.since, interval);
                    let cats = ::serde_json::to_string(&codes).map_err(json_err)?;
                    let id: i64 = ::sqlx::query(
                        "INSERT INTO key_persons (person_id, org_code, org_path, categories, risk, cadre, visit_days, next_visit_on, note, active, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10) RETURNING id",
                    )
                    .bind(kp.person_id)
                    .bind(&org)
                    .bind(&path)
                    .bind(&cats)
                    .bind(i64::from(kp.risk))
                    .bind(&cadre)
                    .bind(i64::from(interval))
                    .bind(next)
                    .bind(kp.note.trim())
                    .bind(now_text())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?
                    .try_get("id")
                    .map_err(err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "create",
                            entity: "key_person",
                            entity_id: id.to_string(),
                            scope_path: path,
                            old_value: None,
                            new_value: Some(::serde_json::json!({
                                "person_id": kp.person_id, "categories": codes, "risk": kp.risk,
                                "cadre": cadre, "visit_days": interval, "next_visit_on": next,
                            })),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    self.key_person_by_id(&Scope::all(), id).await
                }

                async fn key_person(&self, scope: &Scope, id: i64) -> StoreResult<(KeyPerson, Vec<Visit>)> {
                    let kp = self.key_person_by_id(scope, id).await?;
                    let visits = ::sqlx::query(
                        "SELECT id, visited_on, visitor, note FROM key_person_visits WHERE key_person_id = $1 ORDER BY visited_on DESC, id DESC",
                    )
                    .bind(id)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?
                    .iter()
                    .map(|r| {
                        Ok(Visit {
                            id: r.try_get("id").map_err(err)?,
                            visited_on: r.try_get("visited_on").map_err(err)?,
                            visitor: r.try_get("visitor").map_err(err)?,
                            note: r.try_get("note").map_err(err)?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                    Ok((kp, visits))
                }

                async fn key_persons(&self, scope: &Scope, query: &KeyPersonQuery) -> StoreResult<Vec<KeyPerson>> {
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(format!("{KP_SELECT} WHERE k.active = TRUE AND k.org_path >= "));
                    b.push_bind(scope.path.as_str().to_string()).push(" AND k.org_path < ").push_bind(scope.path.upper_bound());
                    if let Some(c) = &query.cadre {
                        b.push(" AND k.cadre = ").push_bind(c.clone());
                    }
                    if let Some(d) = query.due_by {
                        b.push(" AND k.next_visit_on <= ").push_bind(d);
                    }
                    if let Some(c) = &query.category {
                        b.push(" AND k.categories LIKE ").push_bind(format!("%\"{}\"%", like_escape(c))).push(" ESCAPE '\\'");
                    }
                    b.push(" ORDER BY k.next_visit_on, k.id");
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    let mut out = Vec::with_capacity(rows.len());
                    for r in &rows {
                        out.push(self.key_person_from_row(r).await?);
                    }
                    Ok(out)
                }

                async fn record_visit(&self, actor: &Actor, key_person_id: i64, visited_on: NaiveDate, note: &str) -> StoreResult<KeyPerson> {
                    can_write(actor, "登记走访")?;
                    let note = required(note, "走访情况")?;
                    if visited_on > ::chrono::Utc::now().date_naive() + ::chrono::Duration::days(1) {
                        return Err(StoreError::invalid("走访日期不能晚于今天"));
                    }
                    let kp = self.key_person_by_id(&actor.scope, key_person_id).await?;
                    if kp.last_visit_on.is_some_and(|d| visited_on < d) {
                        return Err(StoreError::invalid(format!(
                            "走访日期早于上次走访（{}）",
                            kp.last_visit_on.map(|d| d.to_string()).unwrap_or_default()
                        )));
                    }
                    let next = next_visit(visited_on, kp.visit_days);
                    let mut tx = self.begin_write().await?;
                    let now = now_text();
                    ::sqlx::query("INSERT INTO key_person_visits (key_person_id, visited_on, visitor, note, recorded_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(key_person_id)
                        .bind(visited_on)
                        .bind(&actor.username)
                        .bind(&note)
                        .bind(&now)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    ::sqlx::query("UPDATE key_persons SET last_visit_on = $1, next_visit_on = $2, updated_at = $3 WHERE id = $4")
                        .bind(visited_on)
                        .bind(next)
                        .bind(&now)
                        .bind(key_person_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "visit",
                            entity: "key_person",
                            entity_id: key_person_id.to_string(),
                            scope_path: kp.org_path.as_str().to_string(),
                            old_value: Some(::serde_json::json!({ "next_visit_on": kp.next_visit_on })),
                            new_value: Some(::serde_json::json!({ "visited_on": visited_on, "next_visit_on": next })),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    self.key_person_by_id(&Scope::all(), key_person_id).await
                }

                async fn save_project(&self, actor: &Actor, p: ProjectInput) -> StoreResult<Project> {
                    township_only(actor, "登记和修改项目")?;
                    let name = required(&p.name, "项目名称")?;
                    for (v, what) in [(p.planned_yuan, "计划投资"), (p.completed_yuan, "完成投资"), (p.funds_won_yuan, "争取资金")] {
                        if v < 0 {
                            return Err(StoreError::invalid(format!("{what}不能为负数")));
                        }
                    }
                    if !(2000..=2100).contains(&p.year) {
                        return Err(StoreError::invalid(format!("年度{}无效", p.year)));
                    }
                    let mut tx = self.begin_write().await?;
                    let unit = unit_in_tx(&mut tx, &actor.scope, &p.org_code).await?;
                    for eid in &p.enterprise_ids {
                        let r = ::sqlx::query("SELECT org_path FROM enterprises WHERE id = $1")
                            .bind(*eid)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(err)?;
                        let ok = match r {
                            Some(r) => r.try_get::<String, _>("org_path").map_err(err)?.starts_with(actor.scope.path.as_str()),
                            None => false,
                        };
                        if !ok {
                            return Err(StoreError::invalid(format!("企业（编号{eid}）不存在或不在本辖区")));
                        }
                    }
                    let mut members = Vec::new();
                    for m in &p.members {
                        let n = required(&m.name, "专班成员姓名")?;
                        if members.iter().any(|x: &ProjectMember| x.name == n) {
                            return Err(StoreError::invalid(format!("专班成员“{n}”重复")));
                        }
                        members.push(ProjectMember { name: n, duty: m.duty.trim().to_string() });
                    }
                    let now = now_text();
                    let (id, old) = match p.id {
                        Some(id) => {
                            let r = ::sqlx::query("SELECT org_path, stage, planned_yuan, completed_yuan, funds_won_yuan FROM projects WHERE id = $1")
                                .bind(id)
                                .fetch_optional(&mut *tx)
                                .await
                                .map_err(err)?
                                .ok_or(StoreError::NotFound)?;
                            in_scope(&actor.scope, &r.try_get::<String, _>("org_path").map_err(err)?)?;
                            let old = ::serde_json::json!({
                                "stage": r.try_get::<String, _>("stage").map_err(err)?,
                                "planned_yuan": r.try_get::<i64, _>("planned_yuan").map_err(err)?,
                                "completed_yuan": r.try_get::<i64, _>("completed_yuan").map_err(err)?,
                                "funds_won_yuan": r.try_get::<i64, _>("funds_won_yuan").map_err(err)?,
                            });
                            ::sqlx::query(
                                "UPDATE projects SET name = $1, kind = $2, stage = $3, org_code = $4, org_path = $5, planned_yuan = $6, \
                                 completed_yuan = $7, funds_won_yuan = $8, year = $9, note = $10, updated_at = $11, updated_by = $12 WHERE id = $13",
                            )
                            .bind(&name)
                            .bind(p.kind.as_str())
                            .bind(p.stage.as_str())
                            .bind(&unit.code)
                            .bind(&unit.path)
                            .bind(p.planned_yuan)
                            .bind(p.completed_yuan)
                            .bind(p.funds_won_yuan)
                            .bind(i64::from(p.year))
                            .bind(p.note.trim())
                            .bind(&now)
                            .bind(&actor.username)
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                            for table in ["project_enterprises", "project_members"] {
                                ::sqlx::query(q(format!("DELETE FROM {table} WHERE project_id = $1")))
                                    .bind(id)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(err)?;
                            }
                            (id, Some(old))
                        }
                        None => {
                            let id: i64 = ::sqlx::query(
                                "INSERT INTO projects (name, kind, stage, org_code, org_path, planned_yuan, completed_yuan, funds_won_yuan, year, note, updated_at, updated_by) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                            )
                            .bind(&name)
                            .bind(p.kind.as_str())
                            .bind(p.stage.as_str())
                            .bind(&unit.code)
                            .bind(&unit.path)
                            .bind(p.planned_yuan)
                            .bind(p.completed_yuan)
                            .bind(p.funds_won_yuan)
                            .bind(i64::from(p.year))
                            .bind(p.note.trim())
                            .bind(&now)
                            .bind(&actor.username)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(err)?
                            .try_get("id")
                            .map_err(err)?;
                            (id, None)
                        }
                    };
                    let mut eids = p.enterprise_ids.clone();
                    eids.sort_unstable();
                    eids.dedup();
                    for eid in &eids {
                        ::sqlx::query("INSERT INTO project_enterprises (project_id, enterprise_id) VALUES ($1, $2)")
                            .bind(id)
                            .bind(*eid)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    for m in &members {
                        ::sqlx::query("INSERT INTO project_members (project_id, name, duty) VALUES ($1, $2, $3)")
                            .bind(id)
                            .bind(&m.name)
                            .bind(&m.duty)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: if old.is_some() { "update" } else { "create" },
                            entity: "project",
                            entity_id: id.to_string(),
                            scope_path: unit.path.clone(),
                            old_value: old,
                            new_value: Some(::serde_json::json!({
                                "name": name, "kind": p.kind.as_str(), "stage": p.stage.as_str(),
                                "planned_yuan": p.planned_yuan, "completed_yuan": p.completed_yuan,
                                "funds_won_yuan": p.funds_won_yuan, "enterprises": eids, "members": members.len(),
                            })),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    self.project(&Scope::all(), id).await
                }

                async fn project(&self, scope: &Scope, id: i64) -> StoreResult<Project> {
                    let r = ::sqlx::query(q(format!("{PROJECT_SELECT} WHERE p.id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let path: String = r.try_get("org_path").map_err(err)?;
                    in_scope(scope, &path)?;
                    self.project_from_row(&r).await
                }

                async fn projects(&self, scope: &Scope, year: Option<i32>) -> StoreResult<Vec<Project>> {
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(format!("{PROJECT_SELECT} WHERE p.org_path >= "));
                    b.push_bind(scope.path.as_str().to_string()).push(" AND p.org_path < ").push_bind(scope.path.upper_bound());
                    if let Some(y) = year {
                        b.push(" AND p.year = ").push_bind(i64::from(y));
                    }
                    b.push(" ORDER BY p.id");
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    let mut out = Vec::with_capacity(rows.len());
                    for r in &rows {
                        out.push(self.project_from_row(r).await?);
                    }
                    Ok(out)
                }

                async fn add_task(&self, actor: &Actor, t: NewTask) -> StoreResult<Task> {
                    township_only(actor, "下达督办任务")?;
                    let title = required(&t.title, "任务名称")?;
                    let owner = required(&t.owner, "责任人")?;
                    if t.deadline < t.assigned_on {
                        return Err(StoreError::invalid(format!("完成时限（{}）早于交办日期（{}）", t.deadline, t.assigned_on)));
                    }
                    let mut tx = self.begin_write().await?;
                    let unit = unit_in_tx(&mut tx, &actor.scope, &t.org_code).await?;
                    let now = now_text();
                    let id: i64 = ::sqlx::query(
                        "INSERT INTO tasks (title, description, org_code, org_path, owner, assigned_on, deadline, status, progress, created_by, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', 0, $8, $9) RETURNING id",
                    )
                    .bind(&title)
                    .bind(t.description.trim())
                    .bind(&unit.code)
                    .bind(&unit.path)
                    .bind(&owner)
                    .bind(t.assigned_on)
                    .bind(t.deadline)
                    .bind(&actor.username)
                    .bind(&now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?
                    .try_get("id")
                    .map_err(err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "create",
                            entity: "task",
                            entity_id: id.to_string(),
                            scope_path: unit.path.clone(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({
                                "title": title, "org": unit.code, "owner": owner, "deadline": t.deadline,
                            })),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    self.task_by_id(&Scope::all(), id).await
                }

                async fn task(&self, scope: &Scope, id: i64) -> StoreResult<(Task, Vec<TaskUpdate>)> {
                    let t = self.task_by_id(scope, id).await?;
                    let updates = ::sqlx::query("SELECT id, on_date, progress, note, by_name, at FROM task_updates WHERE task_id = $1 ORDER BY id")
                        .bind(id)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?
                        .iter()
                        .map(|r| {
                            let p: i64 = r.try_get("progress").map_err(err)?;
                            Ok(TaskUpdate {
                                id: r.try_get("id").map_err(err)?,
                                on_date: r.try_get("on_date").map_err(err)?,
                                progress: u8::try_from(p).map_err(|_| bad_row("任务进度"))?,
                                note: r.try_get("note").map_err(err)?,
                                by_name: r.try_get("by_name").map_err(err)?,
                                at: r.try_get("at").map_err(err)?,
                            })
                        })
                        .collect::<StoreResult<Vec<_>>>()?;
                    Ok((t, updates))
                }

                async fn tasks(&self, scope: &Scope, query: &TaskQuery) -> StoreResult<Vec<Task>> {
                    let (lo, hi) = match &query.org {
                        Some(code) => {
                            let u = self.org_unit_path(scope, code).await?;
                            (u.as_str().to_string(), u.upper_bound())
                        }
                        None => (scope.path.as_str().to_string(), scope.path.upper_bound()),
                    };
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(format!("{TASK_SELECT} WHERE t.org_path >= "));
                    b.push_bind(lo).push(" AND t.org_path < ").push_bind(hi);
                    if let Some(o) = &query.owner {
                        b.push(" AND t.owner = ").push_bind(o.clone());
                    }
                    if query.open_only {
                        b.push(" AND t.status = 'open'");
                    }
                    if let Some(d) = query.overdue_on {
                        b.push(" AND t.status = 'open' AND t.deadline < ").push_bind(d);
                    }
                    b.push(" ORDER BY t.deadline, t.id");
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(task_from_row).collect()
                }

                async fn report_task_progress(&self, actor: &Actor, id: i64, on_date: NaiveDate, progress: u8, note: &str) -> StoreResult<Task> {
                    can_write(actor, "报送任务进展")?;
                    let note = required(note, "进展情况")?;
                    if progress > 100 {
                        return Err(StoreError::invalid(format!("进度须在0至100之间，填写了{progress}")));
                    }
                    let t = self.task_by_id(&actor.scope, id).await?;
                    if t.status == TaskStatus::Done {
                        return Err(StoreError::invalid("任务已完成，不能再报送进展"));
                    }
                    if on_date < t.assigned_on {
                        return Err(StoreError::invalid(format!("进展日期早于交办日期（{}）", t.assigned_on)));
                    }
                    let done = progress == 100;
                    let mut tx = self.begin_write().await?;
                    let now = now_text();
                    ::sqlx::query("INSERT INTO task_updates (task_id, on_date, progress, note, by_name, at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(id)
                        .bind(on_date)
                        .bind(i64::from(progress))
                        .bind(&note)
                        .bind(&actor.username)
                        .bind(&now)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    ::sqlx::query("UPDATE tasks SET progress = $1, status = $2, completed_on = $3, updated_at = $4 WHERE id = $5 AND status = 'open'")
                        .bind(i64::from(progress))
                        .bind(if done { "done" } else { "open" })
                        .bind(done.then_some(on_date))
                        .bind(&now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "progress",
                            entity: "task",
                            entity_id: id.to_string(),
                            scope_path: t.org_path.as_str().to_string(),
                            old_value: Some(::serde_json::json!({ "progress": t.progress })),
                            new_value: Some(::serde_json::json!({ "progress": progress, "on_date": on_date, "done": done })),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    self.task_by_id(&Scope::all(), id).await
                }

                async fn task_completion(&self, scope: &Scope, by: CompletionBy, today: NaiveDate) -> StoreResult<Vec<CompletionRow>> {
                    let tasks = self.tasks(scope, &TaskQuery::default()).await?;
                    let mut rows: BTreeMap<String, CompletionRow> = BTreeMap::new();
                    for t in &tasks {
                        let (key, label) = match by {
                            CompletionBy::Cadre => (t.owner.clone(), t.owner.clone()),
                            CompletionBy::Village => match code_at_level(t.org_path.as_str(), OrgLevel::Village) {
                                Some(v) if v != t.org_code.as_str() => (v.to_string(), String::new()),
                                _ => (t.org_code.as_str().to_string(), t.org_name.clone()),
                            },
                        };
                        let row = rows.entry(key.clone()).or_insert(CompletionRow {
                            key,
                            label,
                            total: 0,
                            done: 0,
                            done_on_time: 0,
                            overdue_open: 0,
                        });
                        row.total += 1;
                        if let Some(d) = t.completed_on {
                            row.done += 1;
                            if d <= t.deadline {
                                row.done_on_time += 1;
                            }
                        } else if today > t.deadline {
                            row.overdue_open += 1;
                        }
                    }
                    // Grid tasks roll up to their village, whose name is looked up once.
                    for row in rows.values_mut() {
                        if row.label.is_empty() {
                            let r = ::sqlx::query("SELECT name FROM org_units WHERE code = $1")
                                .bind(&row.key)
                                .fetch_optional(self.read())
                                .await
                                .map_err(err)?;
                            row.label = match r {
                                Some(r) => r.try_get("name").map_err(err)?,
                                None => row.key.clone(),
                            };
                        }
                    }
                    Ok(rows.into_values().collect())
                }
            }

            impl $Store {
                async fn org_unit_path(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<OrgPath> {
                    let r = ::sqlx::query("SELECT path FROM org_units WHERE code = $1")
                        .bind(code.as_str())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let path = OrgPath::from_stored(r.try_get("path").map_err(err)?);
                    if !scope.contains(&path) {
                        return Err(StoreError::NotFound);
                    }
                    Ok(path)
                }
            }
        }
    };
}
