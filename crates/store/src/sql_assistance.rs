//! The assistance SQL, shared by both backends like [`crate::impl_sql_store!`] (read its header).
//!
//! Rules live in the domain (`assistance`, `assistance_lifecycle`, `assistance_monitoring`);
//! this file loads the state, asks the domain, writes the result with its step record and
//! audit entry in one transaction. Dates are ISO text on both backends.

use chrono::NaiveDate;

use crate::StoreError;
use crate::sql::bad_row;

/// A stored ISO date.
pub fn date(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad_row("日期"))
}

pub fn opt_date(s: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    s.as_deref().map(date).transpose()
}

pub fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

pub fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Statuses of an enrollment still being decided, as SQL.
pub const PENDING_SQL: &str =
    "('applied', 'village_reviewed', 'public_notice', 'township_reviewed')";

/// The head of a household, as a correlated subquery on `e.household_id`.
pub const HEAD_SQL: &str = "(SELECT hp.id FROM persons hp WHERE hp.household_id = e.household_id AND hp.relation = 'head' ORDER BY hp.id LIMIT 1)";

/// Persons an enrollment covers: one for a person, the registered members for a household.
pub const MEMBERS_SQL: &str = "CASE WHEN e.person_id IS NOT NULL THEN 1 ELSE \
     (SELECT COUNT(*) FROM persons m WHERE m.household_id = e.household_id AND m.status = 'registered') END";

#[macro_export]
macro_rules! impl_assistance_store {
    ($Store:ty, $DB:ty) => {
        #[allow(clippy::too_many_arguments)]
        mod __sql_assistance {
            use super::*;
            use ::chrono::NaiveDate;
            use ::sqlx::Row as _;
            use ::std::collections::{BTreeMap, BTreeSet, HashMap};
            use $crate::assistance::*;
            use $crate::audit::AuditRecord;
            use $crate::model::*;
            use $crate::sql::{bad_row, now_text};
            use $crate::sql_assistance::{date, date_text, json, opt_date, HEAD_SQL, MEMBERS_SQL, PENDING_SQL};
            use $crate::sql_ledger::code_at_level;
            use $crate::{Store as _, StoreError, StoreResult};
            use ::xiangzhi_domain::assistance::{incompatible, EnrollUnit, Frequency, Program, MONITORING};
            use ::xiangzhi_domain::assistance_lifecycle::{
                apply_step, awaits, deadline, may_apply, ApplySource, EnrollmentState, EnrollmentStatus,
                ExitReason, LifecycleError, Step, StepAction, StepActor,
            };
            use ::xiangzhi_domain::assistance_monitoring::MonitoringDetail;
            use ::xiangzhi_domain::bank_account::BankAccount;
            use ::xiangzhi_domain::money::Money;
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
            use ::xiangzhi_domain::period::{Period, PeriodType};
            use ::xiangzhi_domain::role::Permission;

            type Tx = ::sqlx::Transaction<'static, $DB>;
            type DbRow = <$DB as ::sqlx::Database>::Row;

            fn q(sql: String) -> ::sqlx::AssertSqlSafe<String> {
                ::sqlx::AssertSqlSafe(sql)
            }
            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }
            fn in_scope(scope: &Scope, path: &str) -> StoreResult<()> {
                if path.starts_with(scope.path.as_str()) { Ok(()) } else { Err(StoreError::NotFound) }
            }
            fn step_actor(actor: &Actor) -> StepActor {
                StepActor { username: actor.username.clone(), role: actor.role }
            }
            fn lifecycle(e: LifecycleError) -> StoreError {
                if e.forbidden { StoreError::Forbidden(e.message) } else { StoreError::Invalid(e.message) }
            }
            fn can_write(actor: &Actor, what: &str) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !r.can(Permission::Write) => Err(StoreError::Forbidden(format!("该角色不能{what}"))),
                    _ => Ok(()),
                }
            }
            fn can_review(actor: &Actor, what: &str) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !r.can(Permission::TownshipReview) => Err(StoreError::Forbidden(format!("只有乡镇审核人员可以{what}"))),
                    _ => Ok(()),
                }
            }
            /// `AND <col> >= $a AND <col> < $b` for a scope, binding nothing: callers bind
            /// `scope_lo(scope)` and `scope_hi(scope)` at `$a`, `$b`.
            fn scope_sql(col: &str, a: usize) -> String {
                format!(" AND {col} >= ${a} AND {col} < ${}", a + 1)
            }
            fn lo(scope: &Scope) -> String {
                scope.path.as_str().to_string()
            }
            fn hi(scope: &Scope) -> String {
                scope.path.upper_bound()
            }
            fn money(fen: i64) -> Money {
                Money::from_fen(fen)
            }

            const ENROLLMENT_SELECT: &str = "SELECT e.id, e.program_code, e.household_id, h.household_no, e.person_id, \
                 COALESCE(p.name, hh.name, '') AS subject_name, e.category, e.source, e.org_code, o.name AS org_name, \
                 e.org_path, e.status, e.entered_by, e.applied_on, e.since, e.notice_end, e.start_on, e.next_review, \
                 e.exit_on, e.exit_reason, e.note, ";
            fn enrollment_sql(where_: &str) -> String {
                format!(
                    "{ENROLLMENT_SELECT}{MEMBERS_SQL} AS members FROM enrollments e \
                     JOIN org_units o ON o.code = e.org_code \
                     LEFT JOIN households h ON h.id = e.household_id \
                     LEFT JOIN persons p ON p.id = e.person_id \
                     LEFT JOIN persons hh ON hh.id = {HEAD_SQL} AND e.person_id IS NULL \
                     WHERE {where_}"
                )
            }

            fn enrollment_from_row(r: &DbRow, programs: &HashMap<String, Program>) -> StoreResult<Enrollment> {
                let code: String = r.try_get("program_code").map_err(err)?;
                let program = programs.get(&code).ok_or_else(|| bad_row("项目代码"))?;
                let status: String = r.try_get("status").map_err(err)?;
                let exit_reason: Option<String> = r.try_get("exit_reason").map_err(err)?;
                let state = EnrollmentState {
                    status: EnrollmentStatus::parse(&status).ok_or_else(|| bad_row("纳入状态"))?,
                    entered_by: r.try_get("entered_by").map_err(err)?,
                    since: date(&r.try_get::<String, _>("since").map_err(err)?)?,
                    notice_end: opt_date(r.try_get("notice_end").map_err(err)?)?,
                    start_on: opt_date(r.try_get("start_on").map_err(err)?)?,
                    next_review: opt_date(r.try_get("next_review").map_err(err)?)?,
                    exit_on: opt_date(r.try_get("exit_on").map_err(err)?)?,
                    exit_reason: exit_reason.as_deref().map(|s| ExitReason::parse(s).ok_or_else(|| bad_row("退出原因"))).transpose()?,
                };
                let category: String = r.try_get("category").map_err(err)?;
                let source: String = r.try_get("source").map_err(err)?;
                let org: String = r.try_get("org_code").map_err(err)?;
                Ok(Enrollment {
                    id: r.try_get("id").map_err(err)?,
                    program_name: program.name.clone(),
                    unit: program.unit,
                    household_id: r.try_get("household_id").map_err(err)?,
                    household_no: r.try_get("household_no").map_err(err)?,
                    person_id: r.try_get("person_id").map_err(err)?,
                    subject_name: r.try_get("subject_name").map_err(err)?,
                    category_label: program.category_label(&category),
                    category,
                    source: ApplySource::parse(&source).ok_or_else(|| bad_row("申请来源"))?,
                    org_code: DivisionCode::parse(&org).map_err(|_| bad_row("区划代码"))?,
                    org_name: r.try_get("org_name").map_err(err)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    applied_on: date(&r.try_get::<String, _>("applied_on").map_err(err)?)?,
                    members: r.try_get("members").map_err(err)?,
                    note: r.try_get("note").map_err(err)?,
                    deadline: deadline(program, &state),
                    state,
                    program_code: code,
                })
            }

            const PAYROLL_SELECT: &str = "SELECT y.id, y.program_code, y.org_code, o.name AS org_name, y.org_path, y.period, y.status, \
                 y.line_count, y.total_fen, y.created_by, y.approved_by, \
                 (SELECT COUNT(*) FROM payroll_lines l WHERE l.payroll_id = y.id AND l.status = 'paid') AS paid, \
                 (SELECT COUNT(*) FROM payroll_lines l WHERE l.payroll_id = y.id AND l.status = 'failed') AS failed \
                 FROM payrolls y JOIN org_units o ON o.code = y.org_code";

            fn payroll_from_row(r: &DbRow, programs: &HashMap<String, Program>) -> StoreResult<Payroll> {
                let code: String = r.try_get("program_code").map_err(err)?;
                let status: String = r.try_get("status").map_err(err)?;
                let org: String = r.try_get("org_code").map_err(err)?;
                Ok(Payroll {
                    id: r.try_get("id").map_err(err)?,
                    program_name: programs.get(&code).map_or_else(|| code.clone(), |p| p.name.clone()),
                    program_code: code,
                    org_code: DivisionCode::parse(&org).map_err(|_| bad_row("区划代码"))?,
                    org_name: r.try_get("org_name").map_err(err)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    period: r.try_get("period").map_err(err)?,
                    status: PayrollStatus::parse(&status).ok_or_else(|| bad_row("发放表状态"))?,
                    lines: r.try_get("line_count").map_err(err)?,
                    total: money(r.try_get("total_fen").map_err(err)?),
                    paid: r.try_get("paid").map_err(err)?,
                    failed: r.try_get("failed").map_err(err)?,
                    created_by: r.try_get("created_by").map_err(err)?,
                    approved_by: r.try_get("approved_by").map_err(err)?,
                })
            }

            fn payout_from_row(r: &DbRow) -> StoreResult<Payout> {
                let kind: String = r.try_get("kind").map_err(err)?;
                let org: String = r.try_get("org_code").map_err(err)?;
                let amount: Option<i64> = r.try_get("amount_fen").map_err(err)?;
                Ok(Payout {
                    id: r.try_get("id").map_err(err)?,
                    kind: PayoutKind::parse(&kind).ok_or_else(|| bad_row("发放方式"))?,
                    program_code: r.try_get("program_code").map_err(err)?,
                    enrollment_id: r.try_get("enrollment_id").map_err(err)?,
                    household_id: r.try_get("household_id").map_err(err)?,
                    person_id: r.try_get("person_id").map_err(err)?,
                    recipient: r.try_get("recipient").map_err(err)?,
                    org_code: DivisionCode::parse(&org).map_err(|_| bad_row("区划代码"))?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    paid_on: date(&r.try_get::<String, _>("paid_on").map_err(err)?)?,
                    amount: amount.map(money),
                    item: r.try_get("item").map_err(err)?,
                    quantity: r.try_get("quantity").map_err(err)?,
                    note: r.try_get("note").map_err(err)?,
                })
            }

            /// The household or person an application or payout names, as found in the tx.
            struct Subject {
                household_id: Option<i64>,
                person_id: Option<i64>,
                org_code: String,
                org_path: String,
            }

            impl $Store {
                /// Inserts the seeded programs that are missing; run after every migration.
                pub(crate) async fn seed_programs(&self) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let now = now_text();
                    for (i, p) in Program::seeded().iter().enumerate() {
                        ::sqlx::query("INSERT INTO programs (code, name, config, sort, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, 'system:seed') ON CONFLICT (code) DO NOTHING")
                            .bind(&p.code)
                            .bind(&p.name)
                            .bind(json(p)?)
                            .bind(i as i64 + 1)
                            .bind(&now)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    tx.commit().await.map_err(err)
                }

                async fn program_map(&self) -> StoreResult<HashMap<String, Program>> {
                    Ok(self.programs().await?.into_iter().map(|p| (p.code.clone(), p)).collect())
                }

                async fn program_in_tx(tx: &mut Tx, code: &str) -> StoreResult<Program> {
                    let r = ::sqlx::query("SELECT config FROM programs WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                        .ok_or_else(|| StoreError::invalid(format!("没有代码为“{code}”的救助项目")))?;
                    let c: String = r.try_get("config").map_err(err)?;
                    ::serde_json::from_str(&c).map_err(|_| bad_row("项目配置"))
                }

                async fn programs_in_tx(tx: &mut Tx) -> StoreResult<HashMap<String, Program>> {
                    let rows = ::sqlx::query("SELECT config FROM programs").fetch_all(&mut **tx).await.map_err(err)?;
                    let mut out = HashMap::new();
                    for r in rows {
                        let c: String = r.try_get("config").map_err(err)?;
                        let p: Program = ::serde_json::from_str(&c).map_err(|_| bad_row("项目配置"))?;
                        out.insert(p.code.clone(), p);
                    }
                    Ok(out)
                }

                async fn enrollment_in_tx(tx: &mut Tx, scope: &Scope, id: i64) -> StoreResult<Enrollment> {
                    let programs = Self::programs_in_tx(tx).await?;
                    let r = ::sqlx::query(q(enrollment_sql("e.id = $1")))
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let e = enrollment_from_row(&r, &programs)?;
                    in_scope(scope, e.org_path.as_str())?;
                    Ok(e)
                }

                async fn subject_in_tx(tx: &mut Tx, scope: &Scope, household_id: Option<i64>, person_id: Option<i64>) -> StoreResult<Subject> {
                    if let Some(pid) = person_id {
                        let r = ::sqlx::query("SELECT household_id, org_code, org_path, status, name FROM persons WHERE id = $1")
                            .bind(pid)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(err)?
                            .ok_or(StoreError::NotFound)?;
                        let path: String = r.try_get("org_path").map_err(err)?;
                        in_scope(scope, &path)?;
                        let status: String = r.try_get("status").map_err(err)?;
                        if status != "registered" {
                            let name: String = r.try_get("name").map_err(err)?;
                            return Err(StoreError::invalid(format!("{name} 已不在册（死亡或迁出），不能办理")));
                        }
                        let hid: Option<i64> = r.try_get("household_id").map_err(err)?;
                        if household_id.is_some() && household_id != hid {
                            return Err(StoreError::invalid("所选人员不是该户成员"));
                        }
                        return Ok(Subject { household_id: hid, person_id: Some(pid), org_code: r.try_get("org_code").map_err(err)?, org_path: path });
                    }
                    let hid = household_id.ok_or_else(|| StoreError::invalid("必须指明户或人员"))?;
                    let r = ::sqlx::query("SELECT org_code, org_path, status, household_no FROM households WHERE id = $1")
                        .bind(hid)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let path: String = r.try_get("org_path").map_err(err)?;
                    in_scope(scope, &path)?;
                    let status: String = r.try_get("status").map_err(err)?;
                    if status != "active" {
                        let no: String = r.try_get("household_no").map_err(err)?;
                        return Err(StoreError::invalid(format!("户 {no} 已合并或注销，不能办理")));
                    }
                    Ok(Subject { household_id: Some(hid), person_id: None, org_code: r.try_get("org_code").map_err(err)?, org_path: path })
                }

                async fn save_state(tx: &mut Tx, actor: &Actor, before: &Enrollment, after: &EnrollmentState, step: Step, decision: Option<&str>, opinion: &str) -> StoreResult<()> {
                    let s = after;
                    ::sqlx::query("UPDATE enrollments SET status = $1, since = $2, notice_end = $3, start_on = $4, next_review = $5, exit_on = $6, exit_reason = $7 WHERE id = $8")
                        .bind(s.status.as_str())
                        .bind(date_text(s.since))
                        .bind(s.notice_end.map(date_text))
                        .bind(s.start_on.map(date_text))
                        .bind(s.next_review.map(date_text))
                        .bind(s.exit_on.map(date_text))
                        .bind(s.exit_reason.map(|r| r.as_str()))
                        .bind(before.id)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    Self::insert_step(tx, actor, before.id, step, decision, opinion, s.since).await?;
                    <$Store>::audit(tx, actor, AuditRecord {
                        action: "enrollment_step",
                        entity: "enrollment",
                        entity_id: before.id.to_string(),
                        scope_path: before.org_path.as_str().to_string(),
                        old_value: Some(::serde_json::json!({"program": before.program_code, "status": before.state.status.as_str()})),
                        new_value: Some(::serde_json::json!({"step": step.as_str(), "decision": decision, "opinion": opinion, "on": date_text(s.since), "status": s.status.as_str(), "exit_reason": s.exit_reason.map(|r| r.as_str())})),
                    }).await
                }

                async fn insert_step(tx: &mut Tx, actor: &Actor, id: i64, step: Step, decision: Option<&str>, opinion: &str, on: NaiveDate) -> StoreResult<()> {
                    ::sqlx::query("INSERT INTO enrollment_steps (enrollment_id, step, decision, opinion, done_on, actor, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(id)
                        .bind(step.as_str())
                        .bind(decision)
                        .bind(opinion)
                        .bind(date_text(on))
                        .bind(&actor.username)
                        .bind(now_text())
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    Ok(())
                }

                async fn payroll_in_tx(tx: &mut Tx, scope: &Scope, id: i64) -> StoreResult<Payroll> {
                    let programs = Self::programs_in_tx(tx).await?;
                    let r = ::sqlx::query(q(format!("{PAYROLL_SELECT} WHERE y.id = $1")))
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let p = payroll_from_row(&r, &programs)?;
                    in_scope(scope, p.org_path.as_str())?;
                    Ok(p)
                }

                async fn set_payroll_status(tx: &mut Tx, actor: &Actor, p: &Payroll, to: PayrollStatus, action: &'static str, extra: ::serde_json::Value) -> StoreResult<()> {
                    let now = now_text();
                    let sql = match to {
                        PayrollStatus::Approved => "UPDATE payrolls SET status = $1, approved_by = $2, approved_at = $3 WHERE id = $4",
                        PayrollStatus::Exported => "UPDATE payrolls SET status = $1, exported_at = $3 WHERE id = $4 AND $2 = $2",
                        _ => "UPDATE payrolls SET status = $1 WHERE id = $4 AND $2 = $2 AND $3 = $3",
                    };
                    ::sqlx::query(sql)
                        .bind(to.as_str())
                        .bind(&actor.username)
                        .bind(&now)
                        .bind(p.id)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(tx, actor, AuditRecord {
                        action,
                        entity: "payroll",
                        entity_id: p.id.to_string(),
                        scope_path: p.org_path.as_str().to_string(),
                        old_value: Some(::serde_json::json!({"status": p.status.as_str()})),
                        new_value: Some(::serde_json::json!({"status": to.as_str(), "detail": extra})),
                    }).await
                }

                async fn reconciliation(tx: &mut Tx, id: i64) -> StoreResult<Reconciliation> {
                    let rows = ::sqlx::query("SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS fen FROM payroll_lines WHERE payroll_id = $1 GROUP BY status")
                        .bind(id)
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(err)?;
                    let mut out = Reconciliation::default();
                    for r in rows {
                        let s: String = r.try_get("status").map_err(err)?;
                        let n: i64 = r.try_get("n").map_err(err)?;
                        let fen: i64 = r.try_get("fen").map_err(err)?;
                        out.lines += n;
                        match LineStatus::parse(&s).ok_or_else(|| bad_row("发放状态"))? {
                            LineStatus::Paid => { out.paid = n; out.paid_amount = money(fen); }
                            LineStatus::Failed => { out.failed = n; out.failed_amount = money(fen); }
                            LineStatus::Pending => out.pending = n,
                        }
                    }
                    Ok(out)
                }

                async fn names_of(&self, table: &str, ids: &BTreeSet<i64>) -> StoreResult<HashMap<i64, String>> {
                    let mut out = HashMap::new();
                    let ids: Vec<i64> = ids.iter().copied().collect();
                    for chunk in ids.chunks(500) {
                        let ph = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                        let mut qb = ::sqlx::query(q(format!("SELECT id, name FROM {table} WHERE id IN ({ph})")));
                        for id in chunk {
                            qb = qb.bind(*id);
                        }
                        for r in qb.fetch_all(self.read()).await.map_err(err)? {
                            out.insert(r.try_get("id").map_err(err)?, r.try_get("name").map_err(err)?);
                        }
                    }
                    Ok(out)
                }
            }

            fn rec(kind: &str, id: i64, label: impl Into<String>) -> RecordRef {
                RecordRef { kind: kind.to_string(), id, label: label.into() }
            }

            #[::async_trait::async_trait]
            impl $crate::assistance::AssistanceStore for $Store {
                async fn import_enrollments(&self, actor: &Actor, org: &DivisionCode, rows: &[EnrollmentImportRow], dry_run: bool) -> StoreResult<$crate::registry::ImportOutcome> {
                    self.import_enrollments_in(actor, org, rows, dry_run).await
                }

                async fn import_payouts(&self, actor: &Actor, org: &DivisionCode, rows: &[PayoutImportRow], dry_run: bool) -> StoreResult<$crate::registry::ImportOutcome> {
                    self.import_payouts_in(actor, org, rows, dry_run).await
                }

                async fn programs(&self) -> StoreResult<Vec<Program>> {
                    let rows = ::sqlx::query("SELECT config FROM programs ORDER BY sort, code")
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let c: String = r.try_get("config").map_err(err)?;
                            ::serde_json::from_str(&c).map_err(|_| bad_row("项目配置"))
                        })
                        .collect()
                }

                async fn program(&self, code: &str) -> StoreResult<Program> {
                    self.programs().await?.into_iter().find(|p| p.code == code).ok_or(StoreError::NotFound)
                }

                async fn save_program(&self, actor: &Actor, program: &Program) -> StoreResult<()> {
                    if actor.role.is_some_and(|r| !r.can(Permission::ManageOrg)) {
                        return Err(StoreError::Forbidden("只有系统管理员可以修改救助项目配置".into()));
                    }
                    // A program applies to every unit, so a township's administrator may not change it.
                    if actor.scope.path.depth() > 3 {
                        return Err(StoreError::Forbidden("救助项目全县通用，只有县级及以上的系统管理员可以修改".into()));
                    }
                    program.validate().map_err(|e| StoreError::invalid(e.0))?;
                    let mut tx = self.begin_write().await?;
                    let all = Self::programs_in_tx(&mut tx).await?;
                    for other in &program.incompatible {
                        if !all.contains_key(other) {
                            return Err(StoreError::invalid(format!("互斥项目“{other}”不存在")));
                        }
                    }
                    let old = all.get(&program.code).cloned();
                    if old.as_ref() == Some(program) {
                        return Ok(());
                    }
                    let now = now_text();
                    ::sqlx::query("INSERT INTO programs (code, name, config, sort, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6) \
                                   ON CONFLICT (code) DO UPDATE SET name = excluded.name, config = excluded.config, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
                        .bind(&program.code)
                        .bind(&program.name)
                        .bind(json(program)?)
                        .bind(all.len() as i64 + 1)
                        .bind(&now)
                        .bind(&actor.username)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: if old.is_some() { "program_update" } else { "program_create" },
                        entity: "program",
                        entity_id: program.code.clone(),
                        scope_path: OrgPath::root().as_str().to_string(),
                        old_value: old.map(|o| ::serde_json::to_value(o).unwrap_or_default()),
                        new_value: Some(::serde_json::to_value(program).unwrap_or_default()),
                    }).await?;
                    tx.commit().await.map_err(err)
                }

                async fn apply(&self, actor: &Actor, new: NewEnrollment) -> StoreResult<Enrollment> {
                    let mut tx = self.begin_write().await?;
                    let program = Self::program_in_tx(&mut tx, &new.program).await?;
                    may_apply(&step_actor(actor), &program).map_err(lifecycle)?;
                    if new.source == ApplySource::Import {
                        return Err(StoreError::invalid("存量名单只能通过导入名单文件录入"));
                    }
                    let (hid, pid) = match program.unit {
                        EnrollUnit::Household if new.household_id.is_none() => {
                            return Err(StoreError::invalid(format!("“{}”按户纳入，必须指明户", program.name)));
                        }
                        EnrollUnit::Household => (new.household_id, None),
                        EnrollUnit::Person if new.person_id.is_none() => {
                            return Err(StoreError::invalid(format!("“{}”按人纳入，必须指明人员", program.name)));
                        }
                        EnrollUnit::Person => (new.household_id, new.person_id),
                    };
                    let subject = Self::subject_in_tx(&mut tx, &actor.scope, hid, pid).await?;
                    if program.categories.is_empty() {
                        if !new.category.is_empty() {
                            return Err(StoreError::invalid(format!("“{}”不分类别", program.name)));
                        }
                    } else if program.category(&new.category).is_none() {
                        let opts: Vec<&str> = program.categories.iter().map(|c| c.label.as_str()).collect();
                        return Err(StoreError::invalid(format!("“{}”的类别应为：{}", program.name, opts.join("、"))));
                    }
                    let dup_sql = if program.unit == EnrollUnit::Household {
                        "SELECT id FROM enrollments WHERE program_code = $1 AND household_id = $2 AND person_id IS NULL AND status NOT IN ('rejected', 'exited')"
                    } else {
                        "SELECT id FROM enrollments WHERE program_code = $1 AND person_id = $2 AND status NOT IN ('rejected', 'exited')"
                    };
                    // A one-off program may pay the same household again after its case ends.
                    let dup = ::sqlx::query(dup_sql)
                        .bind(&program.code)
                        .bind(if program.unit == EnrollUnit::Household { subject.household_id } else { subject.person_id })
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if dup.is_some() && program.frequency != Frequency::OneOff {
                        return Err(StoreError::Conflict(format!("该{}已在“{}”中（或正在办理）", if program.unit == EnrollUnit::Household { "户" } else { "人员" }, program.name)));
                    }
                    let state = EnrollmentState::applied(&actor.username, new.applied_on);
                    let r = ::sqlx::query("INSERT INTO enrollments (program_code, household_id, person_id, category, source, org_code, org_path, status, entered_by, applied_on, since, note, created_at) \
                                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id")
                        .bind(&program.code)
                        .bind(subject.household_id)
                        .bind(subject.person_id)
                        .bind(&new.category)
                        .bind(new.source.as_str())
                        .bind(&subject.org_code)
                        .bind(&subject.org_path)
                        .bind(state.status.as_str())
                        .bind(&actor.username)
                        .bind(date_text(new.applied_on))
                        .bind(new.note.trim())
                        .bind(now_text())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?;
                    let id: i64 = r.try_get("id").map_err(err)?;
                    Self::insert_step(&mut tx, actor, id, Step::Apply, None, new.source.label(), new.applied_on).await?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "enrollment_apply",
                        entity: "enrollment",
                        entity_id: id.to_string(),
                        scope_path: subject.org_path.clone(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"program": program.code, "household_id": subject.household_id, "person_id": subject.person_id, "category": new.category, "source": new.source.as_str(), "applied_on": date_text(new.applied_on)})),
                    }).await?;
                    let e = Self::enrollment_in_tx(&mut tx, &actor.scope, id).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(e)
                }

                async fn enrollment_step(&self, actor: &Actor, id: i64, action: &StepAction, on: NaiveDate) -> StoreResult<Enrollment> {
                    let mut tx = self.begin_write().await?;
                    let before = Self::enrollment_in_tx(&mut tx, &actor.scope, id).await?;
                    let program = Self::program_in_tx(&mut tx, &before.program_code).await?;
                    let after = apply_step(&program, &before.state, action, &step_actor(actor), on).map_err(lifecycle)?;
                    let decision = action.decision().map(|d| match d {
                        ::xiangzhi_domain::assistance_lifecycle::Decision::Approve => "approve",
                        ::xiangzhi_domain::assistance_lifecycle::Decision::Reject => "reject",
                    });
                    Self::save_state(&mut tx, actor, &before, &after, action.step(), decision, &action.opinion()).await?;
                    let e = Self::enrollment_in_tx(&mut tx, &actor.scope, id).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(e)
                }

                async fn enrollment(&self, scope: &Scope, id: i64) -> StoreResult<Enrollment> {
                    let programs = self.program_map().await?;
                    let r = ::sqlx::query(q(enrollment_sql("e.id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let e = enrollment_from_row(&r, &programs)?;
                    in_scope(scope, e.org_path.as_str())?;
                    Ok(e)
                }

                async fn enrollment_steps(&self, scope: &Scope, id: i64) -> StoreResult<Vec<StepRecord>> {
                    self.enrollment(scope, id).await?;
                    let rows = ::sqlx::query("SELECT step, decision, opinion, done_on, actor, recorded_at FROM enrollment_steps WHERE enrollment_id = $1 ORDER BY id")
                        .bind(id)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let step: String = r.try_get("step").map_err(err)?;
                            let decision: Option<String> = r.try_get("decision").map_err(err)?;
                            Ok(StepRecord {
                                step: Step::parse(&step).ok_or_else(|| bad_row("环节"))?,
                                decision: decision.map(|d| if d == "approve" {
                                    ::xiangzhi_domain::assistance_lifecycle::Decision::Approve
                                } else {
                                    ::xiangzhi_domain::assistance_lifecycle::Decision::Reject
                                }),
                                opinion: r.try_get("opinion").map_err(err)?,
                                done_on: date(&r.try_get::<String, _>("done_on").map_err(err)?)?,
                                actor: r.try_get("actor").map_err(err)?,
                                recorded_at: r.try_get("recorded_at").map_err(err)?,
                            })
                        })
                        .collect()
                }

                async fn enrollments(&self, scope: &Scope, query: &EnrollmentQuery) -> StoreResult<Vec<Enrollment>> {
                    let programs = self.program_map().await?;
                    let (lo_path, hi_path) = match &query.org {
                        Some(code) => {
                            let u = self.org_unit(scope, code).await?;
                            (u.path.as_str().to_string(), u.path.upper_bound())
                        }
                        None => (lo(scope), hi(scope)),
                    };
                    let mut where_ = format!("e.id > $1{}", scope_sql("e.org_path", 2));
                    let mut n = 4;
                    let mut binds: Vec<String> = Vec::new();
                    if let Some(p) = &query.program {
                        where_.push_str(&format!(" AND e.program_code = ${n}"));
                        binds.push(p.clone());
                        n += 1;
                    }
                    if let Some(s) = query.status {
                        where_.push_str(&format!(" AND e.status = ${n}"));
                        binds.push(s.as_str().to_string());
                        n += 1;
                    }
                    if let Some(y) = query.applied_year {
                        where_.push_str(&format!(" AND e.applied_on >= ${n} AND e.applied_on < ${}", n + 1));
                        binds.push(format!("{y}-01-01"));
                        binds.push(format!("{}-01-01", y + 1));
                    }
                    let limit = if query.limit == 0 { 1000 } else { query.limit.min(100_000) };
                    where_.push_str(&format!(" ORDER BY e.id LIMIT {limit}"));
                    let sql = enrollment_sql(&where_);
                    let mut qb = ::sqlx::query(q(sql)).bind(query.after_id.unwrap_or(0)).bind(lo_path).bind(hi_path);
                    for b in binds {
                        qb = qb.bind(b);
                    }
                    let rows = qb.fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(|r| enrollment_from_row(r, &programs)).collect()
                }

                async fn public_notice(&self, scope: &Scope, program: Option<&str>, on: NaiveDate) -> StoreResult<Vec<NoticeLine>> {
                    let all = self
                        .enrollments(scope, &EnrollmentQuery {
                            program: program.map(str::to_string),
                            status: Some(EnrollmentStatus::PublicNotice),
                            limit: 100_000,
                            ..Default::default()
                        })
                        .await?;
                    let mut villages: BTreeMap<String, String> = BTreeMap::new();
                    let mut out = Vec::new();
                    for e in all {
                        let (Some(end), start) = (e.state.notice_end, e.state.since) else { continue };
                        if on < start || on > end {
                            continue;
                        }
                        let village = match code_at_level(e.org_path.as_str(), OrgLevel::Village) {
                            Some(c) if c != e.org_code.as_str() => {
                                if !villages.contains_key(c) {
                                    let name = match DivisionCode::parse(c) {
                                        Ok(code) => self.org_unit(&Scope::all(), &code).await.map(|u| u.name).unwrap_or_default(),
                                        Err(_) => String::new(),
                                    };
                                    villages.insert(c.to_string(), name);
                                }
                                villages[c].clone()
                            }
                            _ => e.org_name.clone(),
                        };
                        out.push(NoticeLine {
                            enrollment_id: e.id,
                            program_name: e.program_name,
                            village,
                            name: e.subject_name,
                            members: e.members,
                            notice_start: start,
                            notice_end: end,
                        });
                    }
                    Ok(out)
                }

                async fn todo(&self, actor: &Actor, today: NaiveDate) -> StoreResult<Todo> {
                    let programs = self.program_map().await?;
                    let where_ = format!(
                        "(e.status IN {PENDING_SQL} OR (e.status = 'active' AND (e.next_review < $3 OR e.program_code = $4))){} ORDER BY e.id",
                        scope_sql("e.org_path", 1)
                    );
                    let rows = ::sqlx::query(q(enrollment_sql(&where_)))
                        .bind(lo(&actor.scope))
                        .bind(hi(&actor.scope))
                        .bind(date_text(today))
                        .bind(MONITORING)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    let me = step_actor(actor);
                    let township = actor.role.is_none_or(|r| r.can(Permission::TownshipReview));
                    let mut todo = Todo::default();
                    for r in rows {
                        let e = enrollment_from_row(&r, &programs)?;
                        let program = &programs[&e.program_code];
                        if e.deadline.is_some_and(|d| today > d) {
                            todo.overdue.push(e.clone());
                        }
                        if awaits(program, &e.state, &me).is_some() {
                            todo.awaiting.push(e.clone());
                        }
                        if e.program_code == MONITORING && e.state.status == EnrollmentStatus::Active {
                            let detail: Option<String> = ::sqlx::query("SELECT monitoring FROM enrollments WHERE id = $1")
                                .bind(e.id)
                                .fetch_one(self.read())
                                .await
                                .map_err(err)?
                                .try_get("monitoring")
                                .map_err(err)?;
                            let Some(d) = detail else { continue };
                            let d: MonitoringDetail = ::serde_json::from_str(&d).map_err(|_| bad_row("监测信息"))?;
                            if township || d.responsible == actor.username {
                                for v in d.visits_due(today) {
                                    todo.visits_due.push((e.clone(), v.clone()));
                                }
                            }
                        }
                    }
                    Ok(todo)
                }

                async fn save_monitoring(&self, actor: &Actor, enrollment_id: i64, detail: &MonitoringDetail) -> StoreResult<()> {
                    can_write(actor, "登记监测信息")?;
                    detail.validate().map_err(|e| StoreError::invalid(e.0))?;
                    let mut tx = self.begin_write().await?;
                    let e = Self::enrollment_in_tx(&mut tx, &actor.scope, enrollment_id).await?;
                    if e.program_code != MONITORING {
                        return Err(StoreError::invalid(format!("“{}”不是防返贫监测，不能登记监测信息", e.program_name)));
                    }
                    if e.state.status == EnrollmentStatus::Rejected {
                        return Err(StoreError::invalid("该申请未通过，不能登记监测信息"));
                    }
                    let old: Option<String> = ::sqlx::query("SELECT monitoring FROM enrollments WHERE id = $1")
                        .bind(enrollment_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?
                        .try_get("monitoring")
                        .map_err(err)?;
                    let text = json(detail)?;
                    if old.as_deref() == Some(text.as_str()) {
                        return Ok(());
                    }
                    ::sqlx::query("UPDATE enrollments SET monitoring = $1 WHERE id = $2")
                        .bind(&text)
                        .bind(enrollment_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "monitoring_update",
                        entity: "enrollment",
                        entity_id: enrollment_id.to_string(),
                        scope_path: e.org_path.as_str().to_string(),
                        old_value: old.and_then(|o| ::serde_json::from_str(&o).ok()),
                        new_value: Some(::serde_json::to_value(detail).unwrap_or_default()),
                    }).await?;
                    tx.commit().await.map_err(err)
                }

                async fn monitoring(&self, scope: &Scope, enrollment_id: i64) -> StoreResult<MonitoringDetail> {
                    self.enrollment(scope, enrollment_id).await?;
                    let d: Option<String> = ::sqlx::query("SELECT monitoring FROM enrollments WHERE id = $1")
                        .bind(enrollment_id)
                        .fetch_one(self.read())
                        .await
                        .map_err(err)?
                        .try_get("monitoring")
                        .map_err(err)?;
                    let d = d.ok_or(StoreError::NotFound)?;
                    ::serde_json::from_str(&d).map_err(|_| bad_row("监测信息"))
                }

                async fn clear_risk(&self, actor: &Actor, enrollment_id: i64, line: Money, on: NaiveDate) -> StoreResult<Enrollment> {
                    let mut tx = self.begin_write().await?;
                    let before = Self::enrollment_in_tx(&mut tx, &actor.scope, enrollment_id).await?;
                    if before.program_code != MONITORING {
                        return Err(StoreError::invalid("只有防返贫监测对象可以标注风险消除"));
                    }
                    let d: Option<String> = ::sqlx::query("SELECT monitoring FROM enrollments WHERE id = $1")
                        .bind(enrollment_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?
                        .try_get("monitoring")
                        .map_err(err)?;
                    let d: MonitoringDetail = match d {
                        Some(d) => ::serde_json::from_str(&d).map_err(|_| bad_row("监测信息"))?,
                        None => return Err(StoreError::invalid("尚未登记监测信息，不能标注风险消除")),
                    };
                    let program = Self::program_in_tx(&mut tx, MONITORING).await?;
                    let action = StepAction::Exit { reason: ExitReason::RiskCleared, note: String::new() };
                    let after = apply_step(&program, &before.state, &action, &step_actor(actor), on).map_err(lifecycle)?;
                    if before.state.status != EnrollmentStatus::Active {
                        return Err(StoreError::invalid("只有已纳入监测的户可以标注风险消除"));
                    }
                    d.can_clear(line, on).map_err(|why| StoreError::invalid(format!("不能标注风险消除：{}", why.join("；"))))?;
                    Self::save_state(&mut tx, actor, &before, &after, Step::Exit, None, &action.opinion()).await?;
                    let e = Self::enrollment_in_tx(&mut tx, &actor.scope, enrollment_id).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(e)
                }

                async fn add_enterprise_owner(&self, actor: &Actor, enterprise_id: i64, person_id: i64) -> StoreResult<()> {
                    can_write(actor, "登记企业出资人")?;
                    let mut tx = self.begin_write().await?;
                    let path: String = ::sqlx::query("SELECT org_path FROM enterprises WHERE id = $1")
                        .bind(enterprise_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?
                        .try_get("org_path")
                        .map_err(err)?;
                    in_scope(&actor.scope, &path)?;
                    let ppath: String = ::sqlx::query("SELECT org_path FROM persons WHERE id = $1")
                        .bind(person_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?
                        .try_get("org_path")
                        .map_err(err)?;
                    in_scope(&actor.scope, &ppath)?;
                    let done = ::sqlx::query("INSERT INTO enterprise_owners (enterprise_id, person_id, recorded_at) VALUES ($1, $2, $3) ON CONFLICT (enterprise_id, person_id) DO NOTHING")
                        .bind(enterprise_id)
                        .bind(person_id)
                        .bind(now_text())
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?
                        .rows_affected();
                    if done == 0 {
                        return Ok(());
                    }
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "enterprise_owner_add",
                        entity: "enterprise",
                        entity_id: enterprise_id.to_string(),
                        scope_path: path,
                        old_value: None,
                        new_value: Some(::serde_json::json!({"owner_person_id": person_id})),
                    }).await?;
                    tx.commit().await.map_err(err)
                }

                async fn generate_payroll(&self, actor: &Actor, program: &str, org: &DivisionCode, period: &str) -> StoreResult<Payroll> {
                    can_write(actor, "生成发放表")?;
                    let month = Period::parse(period)
                        .ok()
                        .filter(|p| p.period_type() == PeriodType::Month)
                        .ok_or_else(|| StoreError::invalid(format!("发放期间“{period}”应为月份，如 202305")))?;
                    let unit = self.org_unit(&actor.scope, org).await?;
                    let mut tx = self.begin_write().await?;
                    let prog = Self::program_in_tx(&mut tx, program).await?;
                    if prog.frequency != Frequency::Monthly {
                        return Err(StoreError::invalid(format!("“{}”{}，不生成月度发放表", prog.name, prog.frequency.label())));
                    }
                    let exists = ::sqlx::query("SELECT id FROM payrolls WHERE program_code = $1 AND org_code = $2 AND period = $3")
                        .bind(&prog.code)
                        .bind(org.as_str())
                        .bind(month.to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if exists.is_some() {
                        return Err(StoreError::Conflict(format!("{}{}的“{}”发放表已经生成", unit.name, month.label(), prog.name)));
                    }
                    let sql = format!(
                        "SELECT e.id, e.person_id, e.household_id, e.category, e.org_code AS e_org, e.org_path AS e_path, \
                         pp.id AS payee_id, pp.org_code AS payee_org, pp.org_path AS payee_path, {MEMBERS_SQL} AS members \
                         FROM enrollments e LEFT JOIN persons pp ON pp.id = COALESCE(e.person_id, {HEAD_SQL}) \
                         WHERE e.program_code = $1 AND e.status IN ('active', 'exited') AND e.start_on <= $2 \
                         AND (e.exit_on IS NULL OR e.exit_on >= $3){} ORDER BY e.id",
                        scope_sql("e.org_path", 4)
                    );
                    let rows = ::sqlx::query(q(sql))
                        .bind(&prog.code)
                        .bind(date_text(month.start()))
                        .bind(date_text(month.end()))
                        .bind(unit.path.as_str())
                        .bind(unit.path.upper_bound())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?;
                    struct Line { enrollment: i64, person: Option<i64>, household: Option<i64>, org: String, path: String, persons: i64, fen: i64 }
                    let mut lines = Vec::with_capacity(rows.len());
                    let mut missing: BTreeSet<String> = BTreeSet::new();
                    let mut total: i64 = 0;
                    for r in &rows {
                        let e_org: String = r.try_get("e_org").map_err(err)?;
                        let category: String = r.try_get("category").map_err(err)?;
                        let persons: i64 = r.try_get("members").map_err(err)?;
                        let Some(amount) = prog.monthly_amount(month.year(), &e_org, &category, persons) else {
                            missing.insert(prog.category_label(&category));
                            continue;
                        };
                        total = total.checked_add(amount.fen()).ok_or_else(|| StoreError::invalid("发放总额超出范围"))?;
                        let payee_org: Option<String> = r.try_get("payee_org").map_err(err)?;
                        let payee_path: Option<String> = r.try_get("payee_path").map_err(err)?;
                        lines.push(Line {
                            enrollment: r.try_get("id").map_err(err)?,
                            person: r.try_get("payee_id").map_err(err)?,
                            household: r.try_get("household_id").map_err(err)?,
                            org: payee_org.unwrap_or(e_org),
                            path: match payee_path { Some(p) => p, None => r.try_get("e_path").map_err(err)? },
                            persons,
                            fen: amount.fen(),
                        });
                    }
                    if !missing.is_empty() {
                        return Err(StoreError::invalid(format!(
                            "“{}”没有{}年适用于{}的发放标准（类别：{}），请先在项目配置中补充",
                            prog.name, month.year(), unit.name, missing.into_iter().collect::<Vec<_>>().join("、")
                        )));
                    }
                    let now = now_text();
                    let r = ::sqlx::query("INSERT INTO payrolls (program_code, org_code, org_path, period, status, line_count, total_fen, created_by, created_at) \
                                           VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8) RETURNING id")
                        .bind(&prog.code)
                        .bind(org.as_str())
                        .bind(unit.path.as_str())
                        .bind(month.to_string())
                        .bind(lines.len() as i64)
                        .bind(total)
                        .bind(&actor.username)
                        .bind(&now)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?;
                    let id: i64 = r.try_get("id").map_err(err)?;
                    // 8 columns a row: 3,000 rows stay under SQLite's 32,766 parameters.
                    for chunk in lines.chunks(3000) {
                        let mut qb = ::sqlx::QueryBuilder::<$DB>::new(
                            "INSERT INTO payroll_lines (payroll_id, enrollment_id, person_id, household_id, org_code, org_path, persons, amount_fen, status, note) ",
                        );
                        qb.push_values(chunk, |mut b, l| {
                            b.push_bind(id)
                                .push_bind(l.enrollment)
                                .push_bind(l.person)
                                .push_bind(l.household)
                                .push_bind(l.org.clone())
                                .push_bind(l.path.clone())
                                .push_bind(l.persons)
                                .push_bind(l.fen)
                                .push("'pending'")
                                .push("''");
                        });
                        qb.build().execute(&mut *tx).await.map_err(err)?;
                    }
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "payroll_generate",
                        entity: "payroll",
                        entity_id: id.to_string(),
                        scope_path: unit.path.as_str().to_string(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"program": prog.code, "org": org.as_str(), "period": month.to_string(), "lines": lines.len(), "total_fen": total})),
                    }).await?;
                    let p = Self::payroll_in_tx(&mut tx, &actor.scope, id).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(p)
                }

                async fn payroll(&self, scope: &Scope, id: i64) -> StoreResult<Payroll> {
                    let programs = self.program_map().await?;
                    let r = ::sqlx::query(q(format!("{PAYROLL_SELECT} WHERE y.id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let p = payroll_from_row(&r, &programs)?;
                    in_scope(scope, p.org_path.as_str())?;
                    Ok(p)
                }

                async fn payrolls(&self, scope: &Scope, program: Option<&str>) -> StoreResult<Vec<Payroll>> {
                    let programs = self.program_map().await?;
                    let mut sql = format!("{PAYROLL_SELECT} WHERE 1 = 1{}", scope_sql("y.org_path", 1));
                    if program.is_some() {
                        sql.push_str(" AND y.program_code = $3");
                    }
                    sql.push_str(" ORDER BY y.period DESC, y.id DESC");
                    let mut qb = ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope));
                    if let Some(p) = program {
                        qb = qb.bind(p);
                    }
                    let rows = qb.fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(|r| payroll_from_row(r, &programs)).collect()
                }

                async fn payroll_lines(&self, scope: &Scope, id: i64, after_id: Option<i64>, limit: u32) -> StoreResult<Vec<PayrollLine>> {
                    self.payroll(scope, id).await?;
                    let limit = if limit == 0 { i64::MAX } else { i64::from(limit) };
                    let rows = ::sqlx::query(
                        "SELECT l.id, l.payroll_id, l.enrollment_id, l.person_id, COALESCE(p.name, '') AS payee_name, l.household_id, \
                         l.org_code, COALESCE(o.name, '') AS org_name, l.persons, l.amount_fen, l.status, l.note \
                         FROM payroll_lines l LEFT JOIN persons p ON p.id = l.person_id LEFT JOIN org_units o ON o.code = l.org_code \
                         WHERE l.payroll_id = $1 AND l.id > $2 ORDER BY l.id LIMIT $3",
                    )
                    .bind(id)
                    .bind(after_id.unwrap_or(0))
                    .bind(limit)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let status: String = r.try_get("status").map_err(err)?;
                            let org: String = r.try_get("org_code").map_err(err)?;
                            Ok(PayrollLine {
                                id: r.try_get("id").map_err(err)?,
                                payroll_id: r.try_get("payroll_id").map_err(err)?,
                                enrollment_id: r.try_get("enrollment_id").map_err(err)?,
                                person_id: r.try_get("person_id").map_err(err)?,
                                payee_name: r.try_get("payee_name").map_err(err)?,
                                household_id: r.try_get("household_id").map_err(err)?,
                                org_code: DivisionCode::parse(&org).map_err(|_| bad_row("区划代码"))?,
                                org_name: r.try_get("org_name").map_err(err)?,
                                persons: r.try_get("persons").map_err(err)?,
                                amount: money(r.try_get("amount_fen").map_err(err)?),
                                status: LineStatus::parse(&status).ok_or_else(|| bad_row("发放状态"))?,
                                note: r.try_get("note").map_err(err)?,
                            })
                        })
                        .collect()
                }

                async fn approve_payroll(&self, actor: &Actor, id: i64) -> StoreResult<Payroll> {
                    can_review(actor, "审批发放表")?;
                    let mut tx = self.begin_write().await?;
                    let p = Self::payroll_in_tx(&mut tx, &actor.scope, id).await?;
                    if p.status != PayrollStatus::Draft {
                        return Err(StoreError::invalid(format!("发放表{}，不能再审批", p.status.label())));
                    }
                    if actor.role.is_some() && p.created_by == actor.username {
                        return Err(StoreError::Forbidden(format!("生成发放表的人（{}）不能审批同一张表", p.created_by)));
                    }
                    Self::set_payroll_status(&mut tx, actor, &p, PayrollStatus::Approved, "payroll_approve", ::serde_json::json!({"lines": p.lines, "total_fen": p.total.fen()})).await?;
                    let p = Self::payroll_in_tx(&mut tx, &actor.scope, id).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(p)
                }

                async fn payroll_bank_lines(&self, actor: &Actor, id: i64) -> StoreResult<Vec<BankLine>> {
                    if actor.role.is_some_and(|r| !r.can(Permission::RevealPersonalData)) {
                        return Err(StoreError::Forbidden("该角色不能导出含身份证号的银行文件".into()));
                    }
                    let mut tx = self.begin_write().await?;
                    let p = Self::payroll_in_tx(&mut tx, &actor.scope, id).await?;
                    if !matches!(p.status, PayrollStatus::Approved | PayrollStatus::Exported) {
                        return Err(StoreError::invalid(format!("发放表{}，审批后才能导出银行文件", p.status.label())));
                    }
                    let rows = ::sqlx::query(
                        "SELECT l.id, COALESCE(p.name, '') AS name, p.id_sealed, l.org_path, COALESCE(o.name, '') AS org_name, l.amount_fen, \
                         pa.bank_name, pa.account_sealed \
                         FROM payroll_lines l LEFT JOIN persons p ON p.id = l.person_id LEFT JOIN org_units o ON o.code = l.org_code \
                         LEFT JOIN payee_accounts pa ON pa.person_id = l.person_id \
                         WHERE l.payroll_id = $1 AND l.status = 'pending' AND l.amount_fen > 0 ORDER BY l.id",
                    )
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err)?;
                    let mut village_names: HashMap<String, String> = HashMap::new();
                    let mut out = Vec::with_capacity(rows.len());
                    for r in &rows {
                        let sealed: Option<String> = r.try_get("id_sealed").map_err(err)?;
                        let path: String = r.try_get("org_path").map_err(err)?;
                        let mut village: String = r.try_get("org_name").map_err(err)?;
                        if let Some(c) = code_at_level(&path, OrgLevel::Village) {
                            if !village_names.contains_key(c) {
                                let n: Option<String> = ::sqlx::query("SELECT name FROM org_units WHERE code = $1")
                                    .bind(c)
                                    .fetch_optional(&mut *tx)
                                    .await
                                    .map_err(err)?
                                    .map(|r| r.try_get("name"))
                                    .transpose()
                                    .map_err(err)?;
                                village_names.insert(c.to_string(), n.unwrap_or_default());
                            }
                            village = village_names[c].clone();
                        }
                        out.push(BankLine {
                            line_id: r.try_get("id").map_err(err)?,
                            name: r.try_get("name").map_err(err)?,
                            citizen_id: match sealed { Some(s) => self.vault().open(&s)?, None => String::new() },
                            bank_name: r.try_get::<Option<String>, _>("bank_name").map_err(err)?.unwrap_or_default(),
                            account: match r.try_get::<Option<String>, _>("account_sealed").map_err(err)? {
                                Some(s) => self.vault().open(&s)?,
                                None => String::new(),
                            },
                            village,
                            amount: money(r.try_get("amount_fen").map_err(err)?),
                        });
                    }
                    Self::set_payroll_status(&mut tx, actor, &p, PayrollStatus::Exported, "payroll_export", ::serde_json::json!({"lines": out.len()})).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(out)
                }

                async fn mark_lines(&self, actor: &Actor, payroll_id: i64, outcomes: &[LineOutcome]) -> StoreResult<Reconciliation> {
                    can_write(actor, "登记发放结果")?;
                    let mut tx = self.begin_write().await?;
                    let p = Self::payroll_in_tx(&mut tx, &actor.scope, payroll_id).await?;
                    if p.status != PayrollStatus::Exported {
                        return Err(StoreError::invalid(format!("发放表{}，导出银行文件后才能登记发放结果", p.status.label())));
                    }
                    let mut paid = 0;
                    let mut failed = 0;
                    for o in outcomes {
                        if o.status == LineStatus::Pending {
                            return Err(StoreError::invalid(format!("第{}行：发放结果只能是已发放或发放失败", o.line_id)));
                        }
                        if o.status == LineStatus::Failed && o.note.trim().is_empty() {
                            return Err(StoreError::invalid(format!("第{}行：发放失败需注明原因", o.line_id)));
                        }
                        let n = ::sqlx::query("UPDATE payroll_lines SET status = $1, note = $2 WHERE id = $3 AND payroll_id = $4")
                            .bind(o.status.as_str())
                            .bind(o.note.trim())
                            .bind(o.line_id)
                            .bind(payroll_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?
                            .rows_affected();
                        if n == 0 {
                            return Err(StoreError::invalid(format!("发放表中没有第{}行", o.line_id)));
                        }
                        if o.status == LineStatus::Paid { paid += 1 } else { failed += 1 }
                    }
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "payroll_mark",
                        entity: "payroll",
                        entity_id: payroll_id.to_string(),
                        scope_path: p.org_path.as_str().to_string(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"paid": paid, "failed": failed, "failed_lines": outcomes.iter().filter(|o| o.status == LineStatus::Failed).map(|o| o.line_id).collect::<Vec<_>>()})),
                    }).await?;
                    let r = Self::reconciliation(&mut tx, payroll_id).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(r)
                }

                async fn reconcile_payroll(&self, actor: &Actor, id: i64) -> StoreResult<Reconciliation> {
                    can_review(actor, "对账")?;
                    let mut tx = self.begin_write().await?;
                    let p = Self::payroll_in_tx(&mut tx, &actor.scope, id).await?;
                    let mut r = Self::reconciliation(&mut tx, id).await?;
                    if p.status == PayrollStatus::Exported && r.pending == 0 {
                        Self::set_payroll_status(&mut tx, actor, &p, PayrollStatus::Reconciled, "payroll_reconcile",
                            ::serde_json::json!({"paid": r.paid, "paid_fen": r.paid_amount.fen(), "failed": r.failed, "failed_fen": r.failed_amount.fen()})).await?;
                        r.reconciled = true;
                    } else if p.status == PayrollStatus::Reconciled {
                        r.reconciled = true;
                    } else if p.status != PayrollStatus::Exported {
                        return Err(StoreError::invalid(format!("发放表{}，导出并登记发放结果后才能对账", p.status.label())));
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(r)
                }

                async fn record_payout(&self, actor: &Actor, payout: NewPayout) -> StoreResult<Payout> {
                    can_write(actor, "登记发放")?;
                    match payout.kind {
                        PayoutKind::Cash => {
                            if !payout.amount.is_some_and(|a| a > Money::ZERO) {
                                return Err(StoreError::invalid("资金发放需填写大于0的金额"));
                            }
                        }
                        PayoutKind::InKind => {
                            if payout.item.as_deref().is_none_or(|i| i.trim().is_empty()) {
                                return Err(StoreError::invalid("实物发放需填写物品名称"));
                            }
                            if !payout.quantity.is_some_and(|n| n > 0) {
                                return Err(StoreError::invalid("实物发放需填写大于0的数量"));
                            }
                        }
                    }
                    let mut tx = self.begin_write().await?;
                    let prog = Self::program_in_tx(&mut tx, &payout.program).await?;
                    let subject = Self::subject_in_tx(&mut tx, &actor.scope, payout.household_id, payout.person_id).await?;
                    if let Some(eid) = payout.enrollment_id {
                        let e = Self::enrollment_in_tx(&mut tx, &actor.scope, eid).await?;
                        if e.program_code != prog.code {
                            return Err(StoreError::invalid("发放所依据的纳入记录不属于该项目"));
                        }
                        if e.state.status != EnrollmentStatus::Active && e.state.status != EnrollmentStatus::Exited {
                            return Err(StoreError::invalid(format!("该纳入记录{}，不能发放", e.state.status.label())));
                        }
                        if e.household_id != subject.household_id {
                            return Err(StoreError::invalid("发放对象与纳入记录不一致"));
                        }
                    }
                    let r = ::sqlx::query("INSERT INTO payouts (kind, program_code, enrollment_id, household_id, person_id, org_code, org_path, paid_on, amount_fen, item, quantity, note, recorded_by, recorded_at) \
                                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id")
                        .bind(payout.kind.as_str())
                        .bind(&prog.code)
                        .bind(payout.enrollment_id)
                        .bind(subject.household_id)
                        .bind(subject.person_id)
                        .bind(&subject.org_code)
                        .bind(&subject.org_path)
                        .bind(date_text(payout.paid_on))
                        .bind(payout.amount.map(|a| a.fen()))
                        .bind(payout.item.as_deref().map(str::trim))
                        .bind(payout.quantity)
                        .bind(payout.note.trim())
                        .bind(&actor.username)
                        .bind(now_text())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?;
                    let id: i64 = r.try_get("id").map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "payout_record",
                        entity: "payout",
                        entity_id: id.to_string(),
                        scope_path: subject.org_path.clone(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"kind": payout.kind.as_str(), "program": prog.code, "household_id": subject.household_id, "person_id": subject.person_id, "paid_on": date_text(payout.paid_on), "amount_fen": payout.amount.map(|a| a.fen()), "item": payout.item, "quantity": payout.quantity})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    let all = self.payouts(&actor.scope, Some(&prog.code), None).await?;
                    all.into_iter().find(|p| p.id == id).ok_or(StoreError::NotFound)
                }

                async fn payouts(&self, scope: &Scope, program: Option<&str>, year: Option<i32>) -> StoreResult<Vec<Payout>> {
                    let mut sql = format!(
                        "SELECT y.*, COALESCE(p.name, hh.name, '') AS recipient FROM payouts y \
                         LEFT JOIN persons p ON p.id = y.person_id \
                         LEFT JOIN persons hh ON hh.id = (SELECT hp.id FROM persons hp WHERE hp.household_id = y.household_id AND hp.relation = 'head' ORDER BY hp.id LIMIT 1) \
                         WHERE 1 = 1{}",
                        scope_sql("y.org_path", 1)
                    );
                    let mut binds = Vec::new();
                    let mut n = 3;
                    if let Some(p) = program {
                        sql.push_str(&format!(" AND y.program_code = ${n}"));
                        binds.push(p.to_string());
                        n += 1;
                    }
                    if let Some(y) = year {
                        sql.push_str(&format!(" AND y.paid_on >= ${n} AND y.paid_on < ${}", n + 1));
                        binds.push(format!("{y}-01-01"));
                        binds.push(format!("{}-01-01", y + 1));
                    }
                    sql.push_str(" ORDER BY y.paid_on, y.id");
                    let mut qb = ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope));
                    for b in binds {
                        qb = qb.bind(b);
                    }
                    let rows = qb.fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(payout_from_row).collect()
                }

                async fn payout_totals(&self, scope: &Scope, year: i32) -> StoreResult<Vec<PayoutTotal>> {
                    let sql = format!(
                        "SELECT program_code, kind, item, COUNT(*) AS n, COUNT(DISTINCT household_id) AS households, \
                         COUNT(DISTINCT COALESCE(person_id, -household_id)) AS persons, \
                         CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS fen, CAST(COALESCE(SUM(quantity), 0) AS BIGINT) AS qty \
                         FROM payouts WHERE paid_on >= $1 AND paid_on < $2{} GROUP BY program_code, kind, item ORDER BY program_code, kind, item",
                        scope_sql("org_path", 3)
                    );
                    let rows = ::sqlx::query(q(sql))
                        .bind(format!("{year}-01-01"))
                        .bind(format!("{}-01-01", year + 1))
                        .bind(lo(scope))
                        .bind(hi(scope))
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let kind: String = r.try_get("kind").map_err(err)?;
                            Ok(PayoutTotal {
                                program_code: r.try_get("program_code").map_err(err)?,
                                kind: PayoutKind::parse(&kind).ok_or_else(|| bad_row("发放方式"))?,
                                item: r.try_get("item").map_err(err)?,
                                payouts: r.try_get("n").map_err(err)?,
                                households: r.try_get("households").map_err(err)?,
                                persons: r.try_get("persons").map_err(err)?,
                                amount: money(r.try_get("fen").map_err(err)?),
                                quantity: r.try_get("qty").map_err(err)?,
                            })
                        })
                        .collect()
                }

                async fn run_checks(&self, scope: &Scope, options: &CheckOptions) -> StoreResult<Vec<CheckHit>> {
                    let programs = self.program_map().await?;
                    let pname = |c: &str| programs.get(c).map_or_else(|| c.to_string(), |p| p.name.clone());
                    let mut hits = Vec::new();
                    let (period_sql, period) = match &options.period {
                        Some(p) => (" AND y.period = $3".to_string(), p.clone()),
                        None => (" AND $3 = $3".to_string(), String::new()),
                    };

                    // 1. A dead or moved-out person still on a payroll.
                    let sql = format!(
                        "SELECT l.id AS line_id, y.id AS payroll_id, y.period, y.program_code, p.id AS person_id, p.name, p.status \
                         FROM payroll_lines l JOIN payrolls y ON y.id = l.payroll_id JOIN persons p ON p.id = l.person_id \
                         WHERE p.status <> 'registered' AND l.status <> 'failed' AND l.org_path >= $1 AND l.org_path < $2{period_sql} ORDER BY l.id"
                    );
                    for r in ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope)).bind(&period).fetch_all(self.read()).await.map_err(err)? {
                        let name: String = r.try_get("name").map_err(err)?;
                        let status: String = r.try_get("status").map_err(err)?;
                        let code: String = r.try_get("program_code").map_err(err)?;
                        let per: String = r.try_get("period").map_err(err)?;
                        let what = if status == "deceased" { "已死亡" } else { "已迁出" };
                        hits.push(CheckHit {
                            check: CheckKind::DeadOrMovedOnPayroll,
                            message: format!("{name}{what}，仍在{per}“{}”发放表中", pname(&code)),
                            records: vec![
                                rec("person", r.try_get("person_id").map_err(err)?, name.clone()),
                                rec("payroll", r.try_get("payroll_id").map_err(err)?, format!("{per} {}", pname(&code))),
                                rec("payroll_line", r.try_get("line_id").map_err(err)?, "发放明细"),
                            ],
                        });
                    }

                    // 2. The same person in incompatible programs (active enrollments).
                    let sql = format!(
                        "SELECT e.id, e.program_code, e.person_id AS pid FROM enrollments e WHERE e.status = 'active' AND e.person_id IS NOT NULL{s} \
                         UNION ALL \
                         SELECT e.id, e.program_code, m.id AS pid FROM enrollments e JOIN persons m ON m.household_id = e.household_id AND m.status = 'registered' \
                         WHERE e.status = 'active' AND e.person_id IS NULL{s}",
                        s = scope_sql("e.org_path", 1)
                    );
                    let mut by_person: BTreeMap<i64, Vec<(String, i64)>> = BTreeMap::new();
                    for r in ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope)).fetch_all(self.read()).await.map_err(err)? {
                        by_person.entry(r.try_get("pid").map_err(err)?).or_default().push((r.try_get("program_code").map_err(err)?, r.try_get("id").map_err(err)?));
                    }
                    let mut clashes = Vec::new();
                    for (pid, list) in &by_person {
                        for (i, (a, ea)) in list.iter().enumerate() {
                            for (b, eb) in &list[i + 1..] {
                                if let (Some(pa), Some(pb)) = (programs.get(a), programs.get(b)) && incompatible(pa, pb) {
                                    clashes.push((*pid, a.clone(), *ea, b.clone(), *eb));
                                }
                            }
                        }
                    }
                    let names = self.names_of("persons", &clashes.iter().map(|c| c.0).collect()).await?;
                    for (pid, a, ea, b, eb) in clashes {
                        let name = names.get(&pid).cloned().unwrap_or_default();
                        hits.push(CheckHit {
                            check: CheckKind::IncompatiblePrograms,
                            message: format!("{name}同时享受“{}”和“{}”", pname(&a), pname(&b)),
                            records: vec![rec("person", pid, name), rec("enrollment", ea, pname(&a)), rec("enrollment", eb, pname(&b))],
                        });
                    }

                    // 3. The same person paid twice by one program for one period.
                    let sql = format!(
                        "SELECT y.program_code, y.period, l.person_id, COUNT(*) AS n FROM payroll_lines l JOIN payrolls y ON y.id = l.payroll_id \
                         WHERE l.status <> 'failed' AND l.person_id IS NOT NULL AND l.amount_fen > 0 AND l.org_path >= $1 AND l.org_path < $2{period_sql} \
                         GROUP BY y.program_code, y.period, l.person_id HAVING COUNT(*) > 1 ORDER BY y.period, l.person_id"
                    );
                    let twice = ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope)).bind(&period).fetch_all(self.read()).await.map_err(err)?;
                    let mut twice_rows = Vec::new();
                    for r in &twice {
                        twice_rows.push((r.try_get::<String, _>("program_code").map_err(err)?, r.try_get::<String, _>("period").map_err(err)?, r.try_get::<i64, _>("person_id").map_err(err)?, r.try_get::<i64, _>("n").map_err(err)?));
                    }
                    let names = self.names_of("persons", &twice_rows.iter().map(|t| t.2).collect()).await?;
                    for (code, per, pid, n) in twice_rows {
                        let name = names.get(&pid).cloned().unwrap_or_default();
                        let mut records = vec![rec("person", pid, name.clone())];
                        for r in ::sqlx::query("SELECT l.id, l.payroll_id FROM payroll_lines l JOIN payrolls y ON y.id = l.payroll_id WHERE y.program_code = $1 AND y.period = $2 AND l.person_id = $3 AND l.status <> 'failed' ORDER BY l.id")
                            .bind(&code)
                            .bind(&per)
                            .bind(pid)
                            .fetch_all(self.read())
                            .await
                            .map_err(err)?
                        {
                            records.push(rec("payroll", r.try_get("payroll_id").map_err(err)?, format!("{per} {}", pname(&code))));
                            records.push(rec("payroll_line", r.try_get("id").map_err(err)?, "发放明细"));
                        }
                        hits.push(CheckHit {
                            check: CheckKind::PaidTwice,
                            message: format!("{name}在{per}“{}”中发放{n}次", pname(&code)),
                            records,
                        });
                    }

                    // 4. An enrolled household's member owns an enterprise above the threshold.
                    let sql = format!(
                        "SELECT e.id AS enrollment_id, e.program_code, m.id AS person_id, m.name, n.id AS enterprise_id, n.name AS enterprise, n.registered_capital \
                         FROM enrollments e JOIN persons m ON m.status = 'registered' AND (m.household_id = e.household_id OR m.id = e.person_id) \
                         JOIN enterprise_owners w ON w.person_id = m.id JOIN enterprises n ON n.id = w.enterprise_id \
                         WHERE e.status = 'active' AND n.active = TRUE AND n.registered_capital > $3{} ORDER BY e.id, n.id",
                        scope_sql("e.org_path", 1)
                    );
                    for r in ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope)).bind(options.capital_threshold.fen()).fetch_all(self.read()).await.map_err(err)? {
                        let code: String = r.try_get("program_code").map_err(err)?;
                        if !programs.get(&code).is_some_and(|p| p.means_tested) {
                            continue;
                        }
                        let name: String = r.try_get("name").map_err(err)?;
                        let ent: String = r.try_get("enterprise").map_err(err)?;
                        let cap = money(r.try_get::<Option<i64>, _>("registered_capital").map_err(err)?.unwrap_or(0));
                        hits.push(CheckHit {
                            check: CheckKind::EnterpriseOwner,
                            message: format!("{name}（“{}”对象家庭成员）经营的{ent}注册资本{}万元，超过{}万元", pname(&code), cap.to_wan(2), options.capital_threshold.to_wan(2)),
                            records: vec![
                                rec("enrollment", r.try_get("enrollment_id").map_err(err)?, pname(&code)),
                                rec("person", r.try_get("person_id").map_err(err)?, name),
                                rec("enterprise", r.try_get("enterprise_id").map_err(err)?, ent),
                            ],
                        });
                    }

                    // 5. A payee who lives (now) outside the paying unit's area.
                    let sql = format!(
                        "SELECT l.id AS line_id, y.id AS payroll_id, y.period, y.program_code, o.name AS payer, p.id AS person_id, p.name, po.name AS lives \
                         FROM payroll_lines l JOIN payrolls y ON y.id = l.payroll_id JOIN persons p ON p.id = l.person_id \
                         JOIN org_units o ON o.code = y.org_code JOIN org_units po ON po.code = p.org_code \
                         WHERE l.status <> 'failed' AND substr(p.org_path, 1, length(y.org_path)) <> y.org_path \
                         AND y.org_path >= $1 AND y.org_path < $2{period_sql} ORDER BY l.id"
                    );
                    for r in ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope)).bind(&period).fetch_all(self.read()).await.map_err(err)? {
                        let name: String = r.try_get("name").map_err(err)?;
                        let code: String = r.try_get("program_code").map_err(err)?;
                        let per: String = r.try_get("period").map_err(err)?;
                        let payer: String = r.try_get("payer").map_err(err)?;
                        let lives: String = r.try_get("lives").map_err(err)?;
                        hits.push(CheckHit {
                            check: CheckKind::PayeeOutsideArea,
                            message: format!("{name}现属{lives}，不在发放单位{payer}辖区，仍在{per}“{}”发放表中", pname(&code)),
                            records: vec![
                                rec("person", r.try_get("person_id").map_err(err)?, name.clone()),
                                rec("payroll", r.try_get("payroll_id").map_err(err)?, format!("{per} {}", pname(&code))),
                                rec("payroll_line", r.try_get("line_id").map_err(err)?, "发放明细"),
                            ],
                        });
                    }

                    // 6. Active enrollments past their review date.
                    let sql = enrollment_sql(&format!("e.status = 'active' AND e.next_review < $3{} ORDER BY e.id", scope_sql("e.org_path", 1)));
                    for r in ::sqlx::query(q(sql)).bind(lo(scope)).bind(hi(scope)).bind(date_text(options.today)).fetch_all(self.read()).await.map_err(err)? {
                        let e = enrollment_from_row(&r, &programs)?;
                        let due = e.state.next_review.map(date_text).unwrap_or_default();
                        hits.push(CheckHit {
                            check: CheckKind::ReviewOverdue,
                            message: format!("{}（{}）“{}”应于{due}复核，至今未复核", e.subject_name, e.org_name, e.program_name),
                            records: vec![rec("enrollment", e.id, e.program_name.clone())],
                        });
                    }
                    Ok(hits)
                }

                async fn record_check_run(&self, actor: &Actor, options: &CheckOptions) -> StoreResult<CheckRun> {
                    let hits = self.run_checks(&actor.scope, options).await?;
                    let run_at = now_text();
                    let mut tx = self.begin_write().await?;
                    let id: i64 = ::sqlx::query("INSERT INTO check_runs (scope_path, run_at, run_by, options, hits) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                        .bind(actor.scope.path.as_str())
                        .bind(&run_at)
                        .bind(&actor.username)
                        .bind(json(options)?)
                        .bind(json(&hits)?)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?
                        .try_get("id")
                        .map_err(err)?;
                    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
                    for h in &hits {
                        *by_kind.entry(h.check.as_str()).or_default() += 1;
                    }
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "check_run",
                        entity: "check_run",
                        entity_id: id.to_string(),
                        scope_path: actor.scope.path.as_str().to_string(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"hits": hits.len(), "by_check": by_kind, "today": date_text(options.today)})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(CheckRun {
                        id,
                        scope_path: actor.scope.path.clone(),
                        run_at,
                        run_by: actor.username.clone(),
                        options: options.clone(),
                        hits,
                    })
                }

                async fn latest_check_run(&self, scope: &Scope) -> StoreResult<Option<CheckRun>> {
                    let Some(r) = ::sqlx::query("SELECT id, scope_path, run_at, run_by, options, hits FROM check_runs WHERE scope_path = $1 ORDER BY id DESC LIMIT 1")
                        .bind(scope.path.as_str())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                    else {
                        return Ok(None);
                    };
                    let options: String = r.try_get("options").map_err(err)?;
                    let hits: String = r.try_get("hits").map_err(err)?;
                    Ok(Some(CheckRun {
                        id: r.try_get("id").map_err(err)?,
                        scope_path: OrgPath::from_stored(r.try_get("scope_path").map_err(err)?),
                        run_at: r.try_get("run_at").map_err(err)?,
                        run_by: r.try_get("run_by").map_err(err)?,
                        options: ::serde_json::from_str(&options).map_err(|_| bad_row("核查条件"))?,
                        hits: ::serde_json::from_str(&hits).map_err(|_| bad_row("核查结果"))?,
                    }))
                }

                async fn set_payee_account(&self, actor: &Actor, person_id: i64, bank_name: &str, account: &BankAccount) -> StoreResult<PayeeAccount> {
                    can_write(actor, "登记收款账户")?;
                    let bank_name = bank_name.trim();
                    if bank_name.is_empty() {
                        return Err(StoreError::invalid("请填写开户银行"));
                    }
                    if bank_name.chars().count() > 60 {
                        return Err(StoreError::invalid("开户银行名称最长60个字"));
                    }
                    let mut tx = self.begin_write().await?;
                    let path: String = ::sqlx::query("SELECT org_path FROM persons WHERE id = $1")
                        .bind(person_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?
                        .try_get("org_path")
                        .map_err(err)?;
                    in_scope(&actor.scope, &path)?;
                    let old = ::sqlx::query("SELECT bank_name, account_sealed FROM payee_accounts WHERE person_id = $1")
                        .bind(person_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    let old_value = match old {
                        Some(r) => {
                            let sealed: String = r.try_get("account_sealed").map_err(err)?;
                            let plain = self.vault().open(&sealed)?;
                            let masked = BankAccount::parse(&plain).map(|a| a.masked()).unwrap_or_default();
                            if plain == account.as_str() && r.try_get::<String, _>("bank_name").map_err(err)? == bank_name {
                                return self.payee_account(&actor.scope, person_id).await?.ok_or(StoreError::NotFound);
                            }
                            Some(::serde_json::json!({"bank_name": r.try_get::<String, _>("bank_name").map_err(err)?, "account": masked}))
                        }
                        None => None,
                    };
                    let now = now_text();
                    ::sqlx::query("INSERT INTO payee_accounts (person_id, bank_name, account_sealed, account_hash, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6) \
                                   ON CONFLICT (person_id) DO UPDATE SET bank_name = excluded.bank_name, account_sealed = excluded.account_sealed, \
                                   account_hash = excluded.account_hash, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
                        .bind(person_id)
                        .bind(bank_name)
                        .bind(self.vault().seal(account.as_str()))
                        .bind(self.vault().lookup(account.as_str()))
                        .bind(&now)
                        .bind(&actor.username)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "payee_account_set",
                        entity: "person",
                        entity_id: person_id.to_string(),
                        scope_path: path,
                        old_value,
                        new_value: Some(::serde_json::json!({"bank_name": bank_name, "account": account.masked()})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(PayeeAccount {
                        person_id,
                        bank_name: bank_name.to_string(),
                        account_masked: account.masked(),
                        updated_at: now,
                        updated_by: actor.username.clone(),
                    })
                }

                async fn payee_account(&self, scope: &Scope, person_id: i64) -> StoreResult<Option<PayeeAccount>> {
                    let path: String = ::sqlx::query("SELECT org_path FROM persons WHERE id = $1")
                        .bind(person_id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?
                        .try_get("org_path")
                        .map_err(err)?;
                    in_scope(scope, &path)?;
                    let Some(r) = ::sqlx::query("SELECT bank_name, account_sealed, updated_at, updated_by FROM payee_accounts WHERE person_id = $1")
                        .bind(person_id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                    else {
                        return Ok(None);
                    };
                    let sealed: String = r.try_get("account_sealed").map_err(err)?;
                    let account = BankAccount::parse(&self.vault().open(&sealed)?).map_err(|_| bad_row("银行账号"))?;
                    Ok(Some(PayeeAccount {
                        person_id,
                        bank_name: r.try_get("bank_name").map_err(err)?,
                        account_masked: account.masked(),
                        updated_at: r.try_get("updated_at").map_err(err)?,
                        updated_by: r.try_get("updated_by").map_err(err)?,
                    }))
                }

                async fn monitored(&self, scope: &Scope, org: Option<&DivisionCode>) -> StoreResult<Vec<Monitored>> {
                    let programs = self.program_map().await?;
                    let (lo_path, hi_path) = match org {
                        Some(code) => {
                            let u = self.org_unit(scope, code).await?;
                            (u.path.as_str().to_string(), u.path.upper_bound())
                        }
                        None => (lo(scope), hi(scope)),
                    };
                    let where_ = format!("e.program_code = $3 AND e.status <> 'rejected'{} ORDER BY e.org_path, e.id", scope_sql("e.org_path", 1));
                    let rows = ::sqlx::query(q(enrollment_sql(&where_)))
                        .bind(&lo_path)
                        .bind(&hi_path)
                        .bind(MONITORING)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    let details = ::sqlx::query("SELECT id, monitoring FROM enrollments WHERE program_code = $3 AND monitoring IS NOT NULL AND org_path >= $1 AND org_path < $2")
                        .bind(&lo_path)
                        .bind(&hi_path)
                        .bind(MONITORING)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    let mut by_id: HashMap<i64, MonitoringDetail> = HashMap::new();
                    for r in details {
                        let text: String = r.try_get("monitoring").map_err(err)?;
                        by_id.insert(r.try_get("id").map_err(err)?, ::serde_json::from_str(&text).map_err(|_| bad_row("监测信息"))?);
                    }
                    rows.iter()
                        .map(|r| {
                            let enrollment = enrollment_from_row(r, &programs)?;
                            let detail = by_id.remove(&enrollment.id);
                            Ok(Monitored { enrollment, detail })
                        })
                        .collect()
                }
            }
        }
    };
}
