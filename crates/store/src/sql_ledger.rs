//! The ledgers' SQL, shared by both backends like [`crate::impl_sql_store!`] (read its header).
//!
//! Aggregation: numeric values are copied into slots `n1..n16`; the partial covering index
//! `ledger_entries_agg (ledger_id, org_path, period, n1..n16) WHERE void = FALSE AND filled = TRUE`
//! makes `GROUP BY org_path, period` one ordered index scan without a sort, and the few
//! thousand (unit, period) groups are rolled up here to the requested level and period type.

use std::collections::BTreeMap;

use xiangzhi_domain::ledger::{FieldValue, NUM_SLOTS, Values};
use xiangzhi_domain::org::OrgLevel;
use xiangzhi_domain::period::{Period, PeriodType};

/// Slot values of an entry, by slot number - 1.
pub fn slot_values(slots: &BTreeMap<String, u8>, values: &Values) -> [Option<f64>; NUM_SLOTS] {
    let mut out = [None; NUM_SLOTS];
    for (k, s) in slots {
        if let Some(v) = values.get(k).and_then(FieldValue::as_f64) {
            out[usize::from(*s) - 1] = Some(v);
        }
    }
    out
}

/// The code at `level` on a stored path (`/36/3610/…/361002201211/`), if the path reaches it.
pub fn code_at_level(path: &str, level: OrgLevel) -> Option<&str> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .find(|c| c.len() == level.code_len())
}

/// The period of type `t` holding `code` (or `code` itself when it is already as coarse).
pub fn roll_period(code: &str, t: PeriodType) -> Option<String> {
    let p = Period::parse(code).ok()?;
    if p.period_type() >= t {
        return Some(p.to_string());
    }
    Some(Period::containing(p.start(), t).to_string())
}

/// Hex SHA-256 of a file: its name in `ledger_files`.
pub fn content_hash(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(b))
}

/// Exclusive upper bound for codes starting with `prefix` (all codes are ASCII).
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{7f}")
}

#[macro_export]
macro_rules! impl_ledger_store {
    ($Store:ty, $DB:ty) => {
        #[allow(clippy::too_many_arguments)]
        mod __sql_ledger {
            use super::*;
            use ::chrono::Utc;
            use ::sqlx::Row as _;
            use ::std::collections::{BTreeMap, HashMap};
            use $crate::audit::{AuditEntry, AuditRecord};
            use $crate::ledger::*;
            use $crate::model::*;
            use $crate::registry::ImportIssue;
            use $crate::sql_ledger::{code_at_level, prefix_end, roll_period, slot_values};
            use $crate::{StoreError, StoreResult};
            use ::xiangzhi_domain::ledger::{
                assign_slots, deadline, validate_values, FieldError, FieldType, FieldValue, FillLevel,
                LedgerDefinition, Roster, SubmissionAction, SubmissionStatus, Values, NUM_SLOTS,
            };
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
            use ::xiangzhi_domain::role::Permission;

            type Tx = ::sqlx::Transaction<'static, $DB>;
            type DbRow = <$DB as ::sqlx::Database>::Row;

            fn q(sql: String) -> ::sqlx::AssertSqlSafe<String> {
                ::sqlx::AssertSqlSafe(sql)
            }
            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }
            use $crate::sql::{bad_row, now_text};
            fn in_scope(scope: &Scope, path: &str) -> StoreResult<()> {
                if path.starts_with(scope.path.as_str()) { Ok(()) } else { Err(StoreError::NotFound) }
            }
            fn can_write(actor: &Actor) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !r.can(Permission::Write) => Err(StoreError::Forbidden("该角色不能填报台账".into())),
                    _ => Ok(()),
                }
            }
            fn can_review(actor: &Actor) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !(r.can(Permission::TownshipReview) || r.can(Permission::ManageOrg)) => {
                        Err(StoreError::Forbidden("只有乡镇可以审核、退回或解锁台账".into()))
                    }
                    _ => Ok(()),
                }
            }
            fn level_of(f: FillLevel) -> OrgLevel {
                match f {
                    FillLevel::Grid => OrgLevel::Grid,
                    FillLevel::Village => OrgLevel::Village,
                    FillLevel::Township => OrgLevel::Township,
                }
            }
            fn slot_cols() -> String {
                (1..=NUM_SLOTS).map(|i| format!("n{i}")).collect::<Vec<_>>().join(", ")
            }

            const ENTRY_SELECT: &str = "SELECT e.id, l.code AS ledger_code, e.version, e.org_code, o.name AS org_name, \
                 e.org_path, e.period, e.subject, e.subject_label, e.vals, e.filled, e.void, e.updated_at, e.updated_by \
                 FROM ledger_entries e JOIN ledgers l ON l.id = e.ledger_id JOIN org_units o ON o.code = e.org_code";

            fn entry_from_row(r: &DbRow) -> StoreResult<LedgerEntry> {
                let vals: String = r.try_get("vals").map_err(err)?;
                let org: String = r.try_get("org_code").map_err(err)?;
                Ok(LedgerEntry {
                    id: r.try_get("id").map_err(err)?,
                    ledger_code: r.try_get("ledger_code").map_err(err)?,
                    version: r.try_get("version").map_err(err)?,
                    org_code: DivisionCode::parse(&org).map_err(|_| bad_row("区划代码"))?,
                    org_name: r.try_get("org_name").map_err(err)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    period: r.try_get("period").map_err(err)?,
                    subject: r.try_get("subject").map_err(err)?,
                    subject_label: r.try_get("subject_label").map_err(err)?,
                    values: ::serde_json::from_str(&vals).map_err(|_| bad_row("台账数据"))?,
                    filled: r.try_get("filled").map_err(err)?,
                    void: r.try_get("void").map_err(err)?,
                    updated_at: r.try_get("updated_at").map_err(err)?,
                    updated_by: r.try_get("updated_by").map_err(err)?,
                })
            }

            fn ledger_from_row(r: &DbRow) -> StoreResult<Ledger> {
                let text: String = r.try_get("definition").map_err(err)?;
                let slots: String = r.try_get("slots").map_err(err)?;
                Ok(Ledger {
                    id: r.try_get("id").map_err(err)?,
                    code: r.try_get("code").map_err(err)?,
                    version: r.try_get("version").map_err(err)?,
                    definition: LedgerDefinition::from_toml(&text).map_err(|_| bad_row("台账定义"))?,
                    slots: ::serde_json::from_str(&slots).map_err(|_| bad_row("台账数值位置"))?,
                })
            }

            const LEDGER_SELECT: &str = "SELECT l.id, l.code, v.version, v.definition, v.slots \
                 FROM ledgers l JOIN ledger_versions v ON v.ledger_id = l.id";

            /// A unit as a ledger write needs it.
            #[derive(Clone)]
            struct Unit {
                code: String,
                name: String,
                path: String,
                level: String,
            }

            /// Units and period locks read while preparing entries, kept for one write
            /// transaction (which holds the writer lock, so they cannot change): an import of
            /// 500,000 rows names the same 520 villages and 12 months again and again.
            #[derive(Default)]
            struct Lookups {
                units: HashMap<String, Unit>,
                locks: HashMap<(String, String), Option<String>>,
            }

            /// An entry checked and ready to write.
            struct Prepared {
                existing: Option<LedgerEntry>,
                org: Unit,
                period: String,
                subject: Option<String>,
                subject_label: Option<String>,
                values: Values,
            }

            enum Change {
                New(i64),
                Updated(i64),
                Unchanged(i64),
            }

            impl $Store {
                /// `seen`: the `updated_at` an edit form was read at. The conditional touch takes
                /// the row lock (PostgreSQL) inside the write, so a concurrent edit that committed
                /// first is seen here and refused, never overwritten.
                async fn save_entry_seen(&self, actor: &Actor, ledger: &str, entry: EntryInput, seen: Option<&str>) -> StoreResult<LedgerEntry> {
                    can_write(actor)?;
                    let ledger = self.ledger_by_code(ledger).await?;
                    let mut tx = self.begin_write().await?;
                    if let (Some(id), Some(seen)) = (entry.id, seen) {
                        let touched = ::sqlx::query("UPDATE ledger_entries SET updated_at = updated_at WHERE id = $1 AND updated_at = $2")
                            .bind(id)
                            .bind(seen)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?
                            .rows_affected();
                        if touched == 0 {
                            let e = Self::entry_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
                            in_scope(&actor.scope, e.org_path.as_str())?;
                            return Err(StoreError::Conflict(format!(
                                "该记录已于 {} 被 {} 修改，您看到的是旧内容：请刷新后重新填写",
                                e.updated_at.chars().take(19).collect::<String>().replace('T', " "),
                                e.updated_by
                            )));
                        }
                    }
                    let p = match Self::prepare_entry(&mut tx, actor, &ledger, &entry, &mut Lookups::default()).await? {
                        Ok(p) => p,
                        Err(problems) => {
                            return Err(StoreError::invalid(problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("；")));
                        }
                    };
                    let id = match Self::write_entry(&mut tx, actor, &ledger, p, true).await? {
                        Change::New(id) | Change::Updated(id) | Change::Unchanged(id) => id,
                    };
                    let e = Self::entry_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
                    tx.commit().await.map_err(err)?;
                    Ok(e)
                }
            }

            impl $Store {
                async fn ledger_by_code(&self, code: &str) -> StoreResult<Ledger> {
                    let r = ::sqlx::query(q(format!("{LEDGER_SELECT} WHERE l.code = $1 AND v.version = l.current_version")))
                        .bind(code)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    ledger_from_row(&r)
                }

                async fn unit_in_tx(tx: &mut Tx, code: &str) -> StoreResult<Unit> {
                    let r = ::sqlx::query("SELECT code, name, path, level, valid_to FROM org_units WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let valid_to: Option<::chrono::NaiveDate> = r.try_get("valid_to").map_err(err)?;
                    if valid_to.is_some() {
                        return Err(StoreError::invalid(format!("{code} 已撤销或合并，不能填报")));
                    }
                    Ok(Unit {
                        code: r.try_get("code").map_err(err)?,
                        name: r.try_get("name").map_err(err)?,
                        path: r.try_get("path").map_err(err)?,
                        level: r.try_get("level").map_err(err)?,
                    })
                }

                async fn entry_in_tx(tx: &mut Tx, id: i64) -> StoreResult<Option<LedgerEntry>> {
                    let r = ::sqlx::query(q(format!("{ENTRY_SELECT} WHERE e.id = $1")))
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?;
                    r.as_ref().map(entry_from_row).transpose()
                }

                /// Why the period is closed to edits, if it is.
                async fn lock_reason(tx: &mut Tx, ledger: &Ledger, org: &str, period: &str) -> StoreResult<Option<String>> {
                    let r = ::sqlx::query("SELECT status, unlocked FROM ledger_submissions WHERE ledger_id = $1 AND org_code = $2 AND period = $3")
                        .bind(ledger.id)
                        .bind(org)
                        .bind(period)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(err)?;
                    let (status, unlocked) = match r {
                        Some(r) => {
                            let s: String = r.try_get("status").map_err(err)?;
                            (SubmissionStatus::parse(&s).ok_or_else(|| bad_row("报送状态"))?, r.try_get::<bool, _>("unlocked").map_err(err)?)
                        }
                        None => (SubmissionStatus::Draft, false),
                    };
                    if !status.editable() {
                        return Ok(Some(format!("本期台账{}，不能修改（需乡镇退回或解锁）", status.label())));
                    }
                    if !unlocked
                        && let Some(d) = deadline(&ledger.definition, period)
                        && Utc::now().date_naive() > d
                    {
                        return Ok(Some(format!("已过填报截止日期 {d}，需乡镇解锁后才能修改")));
                    }
                    Ok(None)
                }

                /// Every check of a write, collected as (column, reason).
                async fn prepare_entry(
                    tx: &mut Tx,
                    actor: &Actor,
                    ledger: &Ledger,
                    input: &EntryInput,
                    lookups: &mut Lookups,
                ) -> StoreResult<Result<Prepared, Vec<FieldError>>> {
                    let def = &ledger.definition;
                    let mut problems = Vec::new();
                    let issue = |field: &str, message: String| FieldError { field: field.to_string(), message };
                    let existing = match input.id {
                        Some(id) => {
                            let e = Self::entry_in_tx(tx, id).await?.ok_or(StoreError::NotFound)?;
                            in_scope(&actor.scope, e.org_path.as_str())?;
                            if e.ledger_code != ledger.code {
                                return Err(StoreError::NotFound);
                            }
                            if e.void {
                                return Ok(Err(vec![issue("id", format!("第{id}条记录已作废"))]));
                            }
                            Some(e)
                        }
                        None => None,
                    };
                    let org_code = existing.as_ref().map_or(input.org_code.as_str().to_string(), |e| e.org_code.as_str().to_string());
                    let org = match lookups.units.get(&org_code) {
                        Some(u) => u.clone(),
                        None => {
                            let u = Self::unit_in_tx(tx, &org_code).await?;
                            lookups.units.insert(org_code.clone(), u.clone());
                            u
                        }
                    };
                    in_scope(&actor.scope, &org.path)?;
                    let want = level_of(def.level);
                    if org.level != want.as_str() {
                        return Ok(Err(vec![issue("org", format!("“{}”是{}，该台账由{}填报", org.name,
                            OrgLevel::parse(&org.level).map_or("", |l| l.label()), want.label()))]));
                    }
                    let period = match &existing {
                        Some(e) => e.period.clone(),
                        None => match def.check_period(&input.period) {
                            Ok(p) => p,
                            Err(m) => return Ok(Err(vec![issue("period", m)])),
                        },
                    };
                    if let Some(e) = &existing
                        && !input.period.is_empty()
                        && def.check_period(&input.period).ok().as_deref() != Some(e.period.as_str())
                    {
                        problems.push(issue("period", format!("期间与原记录（{}）不一致", e.period)));
                    }
                    let subject = existing.as_ref().and_then(|e| e.subject.clone()).or_else(|| input.subject.clone());
                    if def.roster != Roster::None && subject.is_none() {
                        problems.push(issue("subject", format!("该台账{}，必须指明对象", def.roster.label())));
                    }
                    problems.extend(validate_values(def, &input.values));
                    for f in &def.fields {
                        let Some(v) = input.values.get(&f.key) else { continue };
                        let table = match f.kind {
                            FieldType::Person => "persons",
                            FieldType::Household => "households",
                            FieldType::Enterprise => "enterprises",
                            FieldType::Org => "org_units",
                            _ => continue,
                        };
                        let found: Option<String> = match (f.kind, v) {
                            (FieldType::Org, FieldValue::Text(c)) => ::sqlx::query("SELECT path FROM org_units WHERE code = $1")
                                .bind(c)
                                .fetch_optional(&mut **tx)
                                .await
                                .map_err(err)?
                                .map(|r| r.try_get("path"))
                                .transpose()
                                .map_err(err)?,
                            (_, FieldValue::Int(id)) => ::sqlx::query(q(format!("SELECT org_path FROM {table} WHERE id = $1")))
                                .bind(*id)
                                .fetch_optional(&mut **tx)
                                .await
                                .map_err(err)?
                                .map(|r| r.try_get("org_path"))
                                .transpose()
                                .map_err(err)?,
                            _ => None,
                        };
                        if !found.is_some_and(|p| p.starts_with(actor.scope.path.as_str())) {
                            problems.push(issue(&f.key, format!("“{}”引用的{}不存在或不在本辖区", f.label, f.kind.label())));
                        }
                    }
                    let lock_key = (org.code.clone(), period.clone());
                    let lock = match lookups.locks.get(&lock_key) {
                        Some(l) => l.clone(),
                        None => {
                            let l = Self::lock_reason(tx, ledger, &org.code, &period).await?;
                            lookups.locks.insert(lock_key, l.clone());
                            l
                        }
                    };
                    if let Some(m) = lock {
                        problems.push(issue("", m));
                    }
                    if !problems.is_empty() {
                        return Ok(Err(problems));
                    }
                    Ok(Ok(Prepared {
                        subject_label: existing.as_ref().and_then(|e| e.subject_label.clone()).or_else(|| input.subject_label.clone()),
                        existing,
                        org,
                        period,
                        subject,
                        values: input.values.clone(),
                    }))
                }

                /// Inserts new entries at once (an import's rows without a subject).
                async fn insert_fresh(tx: &mut Tx, actor: &Actor, ledger: &Ledger, fresh: &[Prepared]) -> StoreResult<()> {
                    use $crate::bulk::{Val, LEDGER_ENTRIES, LEDGER_ENTRY_FIXED};
                    let now = now_text();
                    let mut encoded = Vec::with_capacity(fresh.len());
                    for p in fresh {
                        let vals = ::serde_json::to_string(&p.values).map_err(|e| StoreError::Backend(e.to_string()))?;
                        encoded.push((vals, slot_values(&ledger.slots, &p.values)));
                    }
                    let mut values: Vec<Val<'_>> = Vec::with_capacity(fresh.len() * LEDGER_ENTRIES.width());
                    for (p, (vals, nums)) in fresh.iter().zip(&encoded) {
                        values.extend([
                            Val::Int(ledger.id),
                            Val::Int(ledger.version),
                            Val::Text(&p.org.code),
                            Val::Text(&p.org.path),
                            Val::Text(&p.period),
                            p.subject.as_deref().into(),
                            p.subject_label.as_deref().into(),
                            Val::Text(vals),
                            Val::Bool(!p.values.is_empty()),
                            Val::Bool(false),
                            Val::Text(&now),
                            Val::Text(&actor.username),
                        ]);
                        debug_assert_eq!(LEDGER_ENTRY_FIXED + nums.len(), LEDGER_ENTRIES.width());
                        values.extend(nums.iter().map(|n| Val::from(*n)));
                    }
                    <$Store>::bulk_insert(tx, &LEDGER_ENTRIES, &values, false).await?;
                    Ok(())
                }

                /// Writes a prepared entry; audits it when `audit` (imports audit once).
                async fn write_entry(tx: &mut Tx, actor: &Actor, ledger: &Ledger, p: Prepared, audit: bool) -> StoreResult<Change> {
                    let mut existing = p.existing;
                    if existing.is_none() && let Some(s) = &p.subject {
                        let r = ::sqlx::query("SELECT id FROM ledger_entries WHERE ledger_id = $1 AND period = $2 AND subject = $3 AND void = FALSE")
                            .bind(ledger.id)
                            .bind(&p.period)
                            .bind(s)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(err)?;
                        if let Some(r) = r {
                            let id: i64 = r.try_get("id").map_err(err)?;
                            existing = Self::entry_in_tx(tx, id).await?;
                            if let Some(e) = &existing && e.org_code.as_str() != p.org.code {
                                return Err(StoreError::Conflict(format!("对象“{s}”已由{}填报", e.org_name)));
                            }
                        }
                    }
                    let nums = slot_values(&ledger.slots, &p.values);
                    let vals = ::serde_json::to_string(&p.values).map_err(|e| StoreError::Backend(e.to_string()))?;
                    let filled = !p.values.is_empty();
                    let now = now_text();
                    let cols = slot_cols();
                    let change = match &existing {
                        Some(e) if e.values == p.values && e.version == ledger.version => return Ok(Change::Unchanged(e.id)),
                        Some(e) => {
                            let sets = (1..=NUM_SLOTS).map(|i| format!("n{i} = ${}", i + 6)).collect::<Vec<_>>().join(", ");
                            let mut qb = ::sqlx::query(q(format!(
                                "UPDATE ledger_entries SET version = $1, vals = $2, filled = $3, updated_at = $4, updated_by = $5, {sets} WHERE id = $6"
                            )))
                            .bind(ledger.version)
                            .bind(&vals)
                            .bind(filled)
                            .bind(&now)
                            .bind(&actor.username)
                            .bind(e.id);
                            for n in nums {
                                qb = qb.bind(n);
                            }
                            qb.execute(&mut **tx).await.map_err(err)?;
                            Change::Updated(e.id)
                        }
                        None => {
                            let ph = (1..=NUM_SLOTS).map(|i| format!("${}", i + 11)).collect::<Vec<_>>().join(", ");
                            let mut qb = ::sqlx::query(q(format!(
                                "INSERT INTO ledger_entries (ledger_id, version, org_code, org_path, period, subject, subject_label, vals, filled, void, updated_at, updated_by, {cols}) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, $11, {ph}) RETURNING id"
                            )))
                            .bind(ledger.id)
                            .bind(ledger.version)
                            .bind(&p.org.code)
                            .bind(&p.org.path)
                            .bind(&p.period)
                            .bind(&p.subject)
                            .bind(&p.subject_label)
                            .bind(&vals)
                            .bind(filled)
                            .bind(&now)
                            .bind(&actor.username);
                            for n in nums {
                                qb = qb.bind(n);
                            }
                            let r = qb.fetch_one(&mut **tx).await.map_err(err)?;
                            Change::New(r.try_get("id").map_err(err)?)
                        }
                    };
                    if audit {
                        let (action, id) = match change {
                            Change::New(id) => ("ledger_entry_create", id),
                            Change::Updated(id) | Change::Unchanged(id) => ("ledger_entry_update", id),
                        };
                        <$Store>::audit(tx, actor, AuditRecord {
                            action,
                            entity: "ledger_entry",
                            entity_id: id.to_string(),
                            scope_path: p.org.path.clone(),
                            old_value: existing.as_ref().map(|e| ::serde_json::json!({"ledger": ledger.code, "values": e.values})),
                            new_value: Some(::serde_json::json!({"ledger": ledger.code, "version": ledger.version, "org": p.org.code, "period": p.period, "subject": p.subject, "values": p.values})),
                        }).await?;
                    }
                    Ok(change)
                }

                async fn submission_cell(&self, ledger: &Ledger, org: &Unit, period: &str) -> StoreResult<SubmissionCell> {
                    let r = ::sqlx::query("SELECT status, unlocked, note FROM ledger_submissions WHERE ledger_id = $1 AND org_code = $2 AND period = $3")
                        .bind(ledger.id)
                        .bind(&org.code)
                        .bind(period)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?;
                    let n: i64 = ::sqlx::query("SELECT COUNT(*) AS n FROM ledger_entries WHERE ledger_id = $1 AND org_code = $2 AND period = $3 AND void = FALSE AND filled = TRUE")
                        .bind(ledger.id)
                        .bind(&org.code)
                        .bind(period)
                        .fetch_one(self.read())
                        .await
                        .map_err(err)?
                        .try_get("n")
                        .map_err(err)?;
                    let (status, unlocked, note) = match r {
                        Some(r) => {
                            let s: String = r.try_get("status").map_err(err)?;
                            (SubmissionStatus::parse(&s).ok_or_else(|| bad_row("报送状态"))?, r.try_get("unlocked").map_err(err)?, r.try_get("note").map_err(err)?)
                        }
                        None => (SubmissionStatus::Draft, false, String::new()),
                    };
                    Ok(SubmissionCell {
                        org_code: DivisionCode::parse(&org.code).map_err(|_| bad_row("区划代码"))?,
                        org_name: org.name.clone(),
                        org_path: org.path.clone(),
                        period: period.to_string(),
                        status,
                        unlocked,
                        entries: n,
                        note,
                    })
                }
            }

            #[::async_trait::async_trait]
            impl $crate::ledger::LedgerStore for $Store {
                async fn define_ledger(&self, actor: &Actor, def: &LedgerDefinition) -> StoreResult<(Ledger, DefineOutcome)> {
                    if let Some(r) = actor.role && !(r.can(Permission::TownshipReview) || r.can(Permission::ManageOrg)) {
                        return Err(StoreError::Forbidden("只有乡镇业务人员或管理员可以定义台账".into()));
                    }
                    def.validate().map_err(|e| StoreError::invalid(e.0))?;
                    let text = def.to_toml();
                    let mut tx = self.begin_write().await?;
                    let cur = ::sqlx::query(q(format!("{LEDGER_SELECT} WHERE l.code = $1 AND v.version = l.current_version")))
                        .bind(&def.code)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    let prev = cur.as_ref().map(ledger_from_row).transpose()?;
                    if let Some(p) = &prev && p.definition == *def {
                        return Ok((p.clone(), DefineOutcome::Unchanged));
                    }
                    // Slots ever used by any version stay reserved.
                    let mut used: BTreeMap<String, u8> = BTreeMap::new();
                    if let Some(p) = &prev {
                        let rows = ::sqlx::query("SELECT slots FROM ledger_versions WHERE ledger_id = $1 ORDER BY version")
                            .bind(p.id)
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(err)?;
                        for r in rows {
                            let s: String = r.try_get("slots").map_err(err)?;
                            let m: BTreeMap<String, u8> = ::serde_json::from_str(&s).map_err(|_| bad_row("台账数值位置"))?;
                            used.extend(m);
                        }
                    }
                    let slots = assign_slots(&used, def).map_err(|e| StoreError::invalid(e.0))?;
                    let now = now_text();
                    let (id, version, outcome) = match &prev {
                        None => {
                            let r = ::sqlx::query("INSERT INTO ledgers (code, name, department, current_version, created_at) VALUES ($1, $2, $3, 1, $4) RETURNING id")
                                .bind(&def.code)
                                .bind(&def.name)
                                .bind(&def.department)
                                .bind(&now)
                                .fetch_one(&mut *tx)
                                .await
                                .map_err(err)?;
                            (r.try_get::<i64, _>("id").map_err(err)?, 1i64, DefineOutcome::Created)
                        }
                        Some(p) => {
                            ::sqlx::query("UPDATE ledgers SET current_version = $1, name = $2, department = $3 WHERE id = $4")
                                .bind(p.version + 1)
                                .bind(&def.name)
                                .bind(&def.department)
                                .bind(p.id)
                                .execute(&mut *tx)
                                .await
                                .map_err(err)?;
                            (p.id, p.version + 1, DefineOutcome::NewVersion)
                        }
                    };
                    ::sqlx::query("INSERT INTO ledger_versions (ledger_id, version, definition, slots, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(id)
                        .bind(version)
                        .bind(&text)
                        .bind(::serde_json::to_string(&slots).unwrap_or_default())
                        .bind(&now)
                        .bind(&actor.username)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: if prev.is_some() { "ledger_version" } else { "ledger_define" },
                        entity: "ledger",
                        entity_id: def.code.clone(),
                        scope_path: "/".into(),
                        old_value: prev.as_ref().map(|p| ::serde_json::json!({"version": p.version})),
                        new_value: Some(::serde_json::json!({"version": version, "definition": text})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok((Ledger { id, code: def.code.clone(), version, definition: def.clone(), slots }, outcome))
                }

                async fn ledgers(&self) -> StoreResult<Vec<Ledger>> {
                    let rows = ::sqlx::query(q(format!("{LEDGER_SELECT} WHERE v.version = l.current_version ORDER BY l.code")))
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    rows.iter().map(ledger_from_row).collect()
                }

                async fn ledger(&self, code: &str) -> StoreResult<Ledger> {
                    self.ledger_by_code(code).await
                }

                async fn ledger_version(&self, code: &str, version: i64) -> StoreResult<Ledger> {
                    let r = ::sqlx::query(q(format!("{LEDGER_SELECT} WHERE l.code = $1 AND v.version = $2")))
                        .bind(code)
                        .bind(version)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    ledger_from_row(&r)
                }

                async fn ledger_versions(&self, code: &str) -> StoreResult<Vec<LedgerVersionInfo>> {
                    let rows = ::sqlx::query("SELECT v.version, v.created_at, v.created_by, v.definition FROM ledger_versions v JOIN ledgers l ON l.id = v.ledger_id WHERE l.code = $1 ORDER BY v.version")
                        .bind(code)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    rows.iter().map(|r| {
                        let d: String = r.try_get("definition").map_err(err)?;
                        Ok(LedgerVersionInfo {
                            version: r.try_get("version").map_err(err)?,
                            created_at: r.try_get("created_at").map_err(err)?,
                            created_by: r.try_get("created_by").map_err(err)?,
                            fields: LedgerDefinition::from_toml(&d).map(|d| d.fields.len()).unwrap_or(0),
                        })
                    }).collect()
                }

                async fn save_entry(&self, actor: &Actor, ledger: &str, entry: EntryInput) -> StoreResult<LedgerEntry> {
                    self.save_entry_seen(actor, ledger, entry, None).await
                }

                async fn save_entry_if_current(&self, actor: &Actor, ledger: &str, entry: EntryInput, seen_updated_at: &str) -> StoreResult<LedgerEntry> {
                    self.save_entry_seen(actor, ledger, entry, Some(seen_updated_at)).await
                }

                async fn check_entry(&self, actor: &Actor, ledger: &str, entry: &EntryInput) -> StoreResult<Vec<FieldError>> {
                    let ledger = self.ledger_by_code(ledger).await?;
                    let mut tx = self.begin_write().await?;
                    let r = Self::prepare_entry(&mut tx, actor, &ledger, entry, &mut Lookups::default()).await?;
                    tx.rollback().await.map_err(err)?;
                    Ok(r.err().unwrap_or_default())
                }

                async fn void_entry(&self, actor: &Actor, id: i64, reason: &str) -> StoreResult<()> {
                    can_write(actor)?;
                    let mut tx = self.begin_write().await?;
                    let e = Self::entry_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
                    in_scope(&actor.scope, e.org_path.as_str())?;
                    if e.void {
                        return Ok(());
                    }
                    let ledger = self.ledger_by_code(&e.ledger_code).await?;
                    if let Some(m) = Self::lock_reason(&mut tx, &ledger, e.org_code.as_str(), &e.period).await? {
                        return Err(StoreError::invalid(m));
                    }
                    ::sqlx::query("UPDATE ledger_entries SET void = TRUE, updated_at = $1, updated_by = $2 WHERE id = $3")
                        .bind(now_text())
                        .bind(&actor.username)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "ledger_entry_void",
                        entity: "ledger_entry",
                        entity_id: id.to_string(),
                        scope_path: e.org_path.as_str().to_string(),
                        old_value: Some(::serde_json::json!({"ledger": e.ledger_code, "values": e.values})),
                        new_value: Some(::serde_json::json!({"void": true, "reason": reason})),
                    }).await?;
                    tx.commit().await.map_err(err)
                }

                async fn entry(&self, scope: &Scope, id: i64) -> StoreResult<LedgerEntry> {
                    let r = ::sqlx::query(q(format!("{ENTRY_SELECT} WHERE e.id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let e = entry_from_row(&r)?;
                    in_scope(scope, e.org_path.as_str())?;
                    Ok(e)
                }

                async fn entries(&self, scope: &Scope, ledger: &str, query: &EntryQuery) -> StoreResult<Vec<LedgerEntry>> {
                    let ledger = self.ledger_by_code(ledger).await?;
                    let path = match &query.org {
                        Some(c) => {
                            let r = ::sqlx::query("SELECT path FROM org_units WHERE code = $1")
                                .bind(c.as_str())
                                .fetch_optional(self.read())
                                .await
                                .map_err(err)?
                                .ok_or(StoreError::NotFound)?;
                            let p: String = r.try_get("path").map_err(err)?;
                            in_scope(scope, &p)?;
                            OrgPath::from_stored(p)
                        }
                        None => scope.path.clone(),
                    };
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(format!("{ENTRY_SELECT} WHERE e.ledger_id = "));
                    b.push_bind(ledger.id);
                    b.push(" AND e.org_path >= ").push_bind(path.as_str().to_string());
                    b.push(" AND e.org_path < ").push_bind(path.upper_bound());
                    if let Some(p) = &query.period {
                        b.push(" AND e.period = ").push_bind(p.clone());
                    }
                    if !query.include_void {
                        b.push(" AND e.void = FALSE");
                    }
                    if let Some(a) = query.after_id {
                        b.push(" AND e.id > ").push_bind(a);
                    }
                    let limit = i64::from(if query.limit == 0 { 200 } else { query.limit.min(5000) });
                    b.push(" ORDER BY e.id LIMIT ").push_bind(limit);
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(entry_from_row).collect()
                }

                async fn ensure_roster(&self, actor: &Actor, ledger: &str, org: &DivisionCode, period: &str) -> StoreResult<u64> {
                    can_write(actor)?;
                    let ledger = self.ledger_by_code(ledger).await?;
                    let def = &ledger.definition;
                    let period = def.check_period(period).map_err(StoreError::invalid)?;
                    let mut tx = self.begin_write().await?;
                    let root = Self::unit_in_tx(&mut tx, org.as_str()).await?;
                    in_scope(&actor.scope, &root.path)?;
                    let (lo, hi) = (root.path.clone(), OrgPath::from_stored(root.path.clone()).upper_bound());
                    let sql = match def.roster {
                        Roster::None => return Ok(0),
                        Roster::Village => "SELECT 'village:' || code AS subject, name AS label, path AS org_path FROM org_units \
                             WHERE level = 'village' AND valid_to IS NULL AND path >= $1 AND path < $2 ORDER BY code",
                        Roster::Household => "SELECT 'household:' || CAST(h.id AS TEXT) AS subject, \
                             COALESCE((SELECT MIN(m.name) FROM persons m WHERE m.household_id = h.id AND m.relation = 'head' AND m.status = 'registered'), '') || '（' || h.household_no || '）' AS label, \
                             h.org_path FROM households h WHERE h.status = 'active' AND h.org_path >= $1 AND h.org_path < $2 ORDER BY h.id",
                        Roster::Enterprise => "SELECT 'enterprise:' || CAST(id AS TEXT) AS subject, name AS label, org_path FROM enterprises \
                             WHERE active = TRUE AND org_path >= $1 AND org_path < $2 ORDER BY id",
                        Roster::Person => "SELECT 'person:' || CAST(id AS TEXT) AS subject, name AS label, org_path FROM persons \
                             WHERE status = 'registered' AND org_path >= $1 AND org_path < $2 ORDER BY id",
                    };
                    let subjects = ::sqlx::query(sql).bind(&lo).bind(&hi).fetch_all(&mut *tx).await.map_err(err)?;
                    let have: ::std::collections::HashSet<String> = ::sqlx::query(
                        "SELECT subject FROM ledger_entries WHERE ledger_id = $1 AND period = $2 AND void = FALSE AND subject IS NOT NULL",
                    )
                    .bind(ledger.id)
                    .bind(&period)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err)?
                    .iter()
                    .map(|r| r.try_get::<String, _>("subject"))
                    .collect::<Result<_, _>>()
                    .map_err(err)?;
                    let level = level_of(def.level);
                    let now = now_text();
                    let mut units: HashMap<String, String> = HashMap::new();
                    let mut created = 0u64;
                    for r in &subjects {
                        let subject: String = r.try_get("subject").map_err(err)?;
                        if have.contains(&subject) {
                            continue;
                        }
                        let label: String = r.try_get("label").map_err(err)?;
                        let path: String = r.try_get("org_path").map_err(err)?;
                        // The filling unit is the one at the ledger's level above the subject.
                        let Some(code) = code_at_level(&path, level) else { continue };
                        let upath = match units.get(code) {
                            Some(p) => p.clone(),
                            None => {
                                let u = Self::unit_in_tx(&mut tx, code).await?;
                                units.insert(code.to_string(), u.path.clone());
                                u.path
                            }
                        };
                        ::sqlx::query(
                            "INSERT INTO ledger_entries (ledger_id, version, org_code, org_path, period, subject, subject_label, vals, filled, void, updated_at, updated_by) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', FALSE, FALSE, $8, $9)",
                        )
                        .bind(ledger.id)
                        .bind(ledger.version)
                        .bind(code)
                        .bind(&upath)
                        .bind(&period)
                        .bind(&subject)
                        .bind(&label)
                        .bind(&now)
                        .bind(&actor.username)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                        created += 1;
                    }
                    if created > 0 {
                        <$Store>::audit(&mut tx, actor, AuditRecord {
                            action: "ledger_roster",
                            entity: "ledger",
                            entity_id: ledger.code.clone(),
                            scope_path: root.path.clone(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({"org": root.code, "period": period, "created": created})),
                        }).await?;
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(created)
                }

                async fn import_entries(&self, actor: &Actor, ledger: &str, rows: &[EntryImportRow], dry_run: bool) -> StoreResult<EntryImportOutcome> {
                    can_write(actor)?;
                    let ledger = self.ledger_by_code(ledger).await?;
                    let mut out = EntryImportOutcome::default();
                    let mut tx = self.begin_write().await?;
                    let mut seen: HashMap<String, usize> = HashMap::new();
                    let mut lookups = Lookups::default();
                    // New rows without a subject (a patrol, a check) cannot meet an earlier row:
                    // they go in together at the end by the backend's bulk path instead of one
                    // INSERT round trip each.
                    let mut fresh: Vec<Prepared> = Vec::new();
                    let mut scope_path = actor.scope.path.as_str().to_string();
                    for row in rows {
                        if let Some(s) = &row.entry.subject {
                            let key = format!("{}|{s}", row.entry.period);
                            if let Some(first) = seen.insert(key, row.line) {
                                out.invalid += 1;
                                out.issues.push(ImportIssue { line: row.line, column: "对象".into(), reason: format!("与第{first}行重复") });
                                continue;
                            }
                        }
                        let p = match Self::prepare_entry(&mut tx, actor, &ledger, &row.entry, &mut lookups).await {
                            Ok(Ok(p)) => p,
                            Ok(Err(problems)) => {
                                out.invalid += 1;
                                for pr in problems {
                                    let column = ledger.definition.field(&pr.field).map_or_else(
                                        || match pr.field.as_str() { "org" => "填报单位".to_string(), "period" => "期间".into(), "subject" => "对象".into(), "id" => "编号".into(), _ => String::new() },
                                        |f| f.header(),
                                    );
                                    out.issues.push(ImportIssue { line: row.line, column, reason: pr.message });
                                }
                                continue;
                            }
                            Err(StoreError::NotFound) => {
                                out.invalid += 1;
                                out.issues.push(ImportIssue { line: row.line, column: "填报单位".into(), reason: "记录或单位不存在，或不在本辖区".into() });
                                continue;
                            }
                            Err(e) => return Err(e),
                        };
                        if scope_path.len() < p.org.path.len() || !p.org.path.starts_with(&scope_path) {
                            scope_path = actor.scope.path.as_str().to_string();
                        } else {
                            scope_path = p.org.path.clone();
                        }
                        if p.existing.is_none() && p.subject.is_none() {
                            out.new += 1;
                            fresh.push(p);
                            continue;
                        }
                        match Self::write_entry(&mut tx, actor, &ledger, p, false).await {
                            Ok(Change::New(_)) => out.new += 1,
                            Ok(Change::Updated(_)) => out.updated += 1,
                            Ok(Change::Unchanged(_)) => out.unchanged += 1,
                            Err(StoreError::Conflict(m)) => {
                                out.invalid += 1;
                                out.issues.push(ImportIssue { line: row.line, column: "对象".into(), reason: m });
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    if dry_run || !out.issues.is_empty() {
                        tx.rollback().await.map_err(err)?;
                        return Ok(out);
                    }
                    <$Store>::insert_fresh(&mut tx, actor, &ledger, &fresh).await?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "ledger_import",
                        entity: "ledger",
                        entity_id: ledger.code.clone(),
                        scope_path,
                        old_value: None,
                        new_value: Some(::serde_json::json!({"version": ledger.version, "new": out.new, "updated": out.updated, "unchanged": out.unchanged})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    out.committed = true;
                    Ok(out)
                }

                async fn submission_cells(&self, scope: &Scope, ledger: &str, periods: &[String], count_entries: bool) -> StoreResult<Vec<SubmissionCell>> {
                    let ledger = self.ledger_by_code(ledger).await?;
                    let level = level_of(ledger.definition.level);
                    let (lo, hi) = (scope.path.as_str().to_string(), scope.path.upper_bound());
                    let units = ::sqlx::query("SELECT code, name, path FROM org_units WHERE level = $1 AND valid_to IS NULL AND path >= $2 AND path < $3 ORDER BY code")
                        .bind(level.as_str())
                        .bind(&lo)
                        .bind(&hi)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?;
                    let mut status: HashMap<(String, String), (String, bool, String)> = HashMap::new();
                    for r in ::sqlx::query("SELECT org_code, period, status, unlocked, note FROM ledger_submissions WHERE ledger_id = $1 AND org_path >= $2 AND org_path < $3")
                        .bind(ledger.id).bind(&lo).bind(&hi)
                        .fetch_all(self.read()).await.map_err(err)?
                    {
                        status.insert(
                            (r.try_get("org_code").map_err(err)?, r.try_get("period").map_err(err)?),
                            (r.try_get("status").map_err(err)?, r.try_get("unlocked").map_err(err)?, r.try_get("note").map_err(err)?),
                        );
                    }
                    let mut counts: HashMap<(String, String), i64> = HashMap::new();
                    let counted = if count_entries {
                        // by path, which the aggregate index holds: grouping by code read every
                        // row of a township's 54,000 from the table
                        ::sqlx::query("SELECT org_path, period, COUNT(*) AS n FROM ledger_entries WHERE ledger_id = $1 AND void = FALSE AND filled = TRUE AND org_path >= $2 AND org_path < $3 GROUP BY org_path, period")
                            .bind(ledger.id).bind(&lo).bind(&hi)
                            .fetch_all(self.read()).await.map_err(err)?
                    } else {
                        Vec::new()
                    };
                    for r in counted {
                        counts.insert((r.try_get("org_path").map_err(err)?, r.try_get("period").map_err(err)?), r.try_get("n").map_err(err)?);
                    }
                    let mut out = Vec::new();
                    for u in &units {
                        let code: String = u.try_get("code").map_err(err)?;
                        let name: String = u.try_get("name").map_err(err)?;
                        let path: String = u.try_get("path").map_err(err)?;
                        let org_code = DivisionCode::parse(&code).map_err(|_| bad_row("区划代码"))?;
                        for p in periods {
                            // most cells have no submission and, on a county's summary, no count:
                            // no keys built for them (6,240 cells per page)
                            let state = if status.is_empty() { None } else { status.get(&(code.clone(), p.clone())).cloned() };
                            let (s, unlocked, note) = state.unwrap_or_else(|| ("draft".into(), false, String::new()));
                            out.push(SubmissionCell {
                                org_code: org_code.clone(),
                                org_name: name.clone(),
                                org_path: path.clone(),
                                period: p.clone(),
                                status: SubmissionStatus::parse(&s).ok_or_else(|| bad_row("报送状态"))?,
                                unlocked,
                                entries: if counts.is_empty() { 0 } else { counts.get(&(path.clone(), p.clone())).copied().unwrap_or(0) },
                                note,
                            });
                        }
                    }
                    Ok(out)
                }

                async fn submission_action(&self, actor: &Actor, ledger: &str, org: &DivisionCode, period: &str, action: SubmissionAction, note: &str) -> StoreResult<SubmissionCell> {
                    match action {
                        SubmissionAction::Submit => can_write(actor)?,
                        _ => can_review(actor)?,
                    }
                    let ledger = self.ledger_by_code(ledger).await?;
                    let period = ledger.definition.check_period(period).map_err(StoreError::invalid)?;
                    let mut tx = self.begin_write().await?;
                    let unit = Self::unit_in_tx(&mut tx, org.as_str()).await?;
                    in_scope(&actor.scope, &unit.path)?;
                    if unit.level != level_of(ledger.definition.level).as_str() {
                        return Err(StoreError::invalid(format!("“{}”不是该台账的填报单位", unit.name)));
                    }
                    // A township reviewer may not approve its own unit's submission from below it.
                    if action != SubmissionAction::Submit && actor.role.is_some() && actor.scope.path.as_str() == unit.path {
                        return Err(StoreError::Forbidden("不能审核本单位自己的报送".into()));
                    }
                    let r = ::sqlx::query("SELECT status FROM ledger_submissions WHERE ledger_id = $1 AND org_code = $2 AND period = $3")
                        .bind(ledger.id).bind(&unit.code).bind(&period)
                        .fetch_optional(&mut *tx).await.map_err(err)?;
                    let from = match r {
                        Some(r) => SubmissionStatus::parse(&r.try_get::<String, _>("status").map_err(err)?).ok_or_else(|| bad_row("报送状态"))?,
                        None => SubmissionStatus::Draft,
                    };
                    let to = action.apply(from).map_err(StoreError::invalid)?;
                    let unlocked = action == SubmissionAction::Unlock;
                    ::sqlx::query(
                        "INSERT INTO ledger_submissions (ledger_id, org_code, org_path, period, status, unlocked, note, updated_at, updated_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (ledger_id, org_code, period) DO UPDATE SET status = $5, unlocked = $6, note = $7, updated_at = $8, updated_by = $9",
                    )
                    .bind(ledger.id).bind(&unit.code).bind(&unit.path).bind(&period).bind(to.as_str()).bind(unlocked).bind(note)
                    .bind(now_text()).bind(&actor.username)
                    .execute(&mut *tx).await.map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: match action {
                            SubmissionAction::Submit => "ledger_submit",
                            SubmissionAction::Return => "ledger_return",
                            SubmissionAction::Approve => "ledger_approve",
                            SubmissionAction::Unlock => "ledger_unlock",
                        },
                        entity: "ledger_submission",
                        entity_id: format!("{}/{}/{}", ledger.code, unit.code, period),
                        scope_path: unit.path.clone(),
                        old_value: Some(::serde_json::json!({"status": from.as_str()})),
                        new_value: Some(::serde_json::json!({"status": to.as_str(), "note": note})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    self.submission_cell(&ledger, &unit, &period).await
                }

                async fn ledger_aggregate(&self, scope: &Scope, ledger: &str, query: &LedgerQuery) -> StoreResult<Vec<AggRow>> {
                    let ledger = self.ledger_by_code(ledger).await?;
                    let path = match &query.org {
                        Some(c) => {
                            let r = ::sqlx::query("SELECT path FROM org_units WHERE code = $1")
                                .bind(c.as_str())
                                .fetch_optional(self.read())
                                .await
                                .map_err(err)?
                                .ok_or(StoreError::NotFound)?;
                            let p: String = r.try_get("path").map_err(err)?;
                            in_scope(scope, &p)?;
                            OrgPath::from_stored(p)
                        }
                        None => scope.path.clone(),
                    };
                    let fields: Vec<String> = if query.fields.is_empty() {
                        ledger.definition.fields.iter().filter(|f| ledger.slots.contains_key(&f.key)).map(|f| f.key.clone()).collect()
                    } else {
                        query.fields.clone()
                    };
                    let mut slots = Vec::new();
                    for f in &fields {
                        let s = ledger.slots.get(f).ok_or_else(|| StoreError::invalid(format!("“{f}”不是该台账的数值字段，不能汇总")))?;
                        slots.push((f.clone(), *s));
                    }
                    let mut sql = String::from("SELECT org_path, period, COUNT(*) AS n");
                    for (_, s) in &slots {
                        sql.push_str(&format!(", COUNT(n{s}) AS c{s}, SUM(n{s}) AS s{s}, MIN(n{s}) AS lo{s}, MAX(n{s}) AS hi{s}"));
                    }
                    sql.push_str(" FROM ledger_entries WHERE ledger_id = ");
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(sql);
                    b.push_bind(ledger.id);
                    b.push(" AND void = FALSE AND filled = TRUE AND org_path >= ").push_bind(path.as_str().to_string());
                    b.push(" AND org_path < ").push_bind(path.upper_bound());
                    if let Some(p) = &query.period_prefix {
                        b.push(" AND period >= ").push_bind(p.clone());
                        b.push(" AND period < ").push_bind(prefix_end(p));
                    }
                    for f in &query.filters {
                        let s = ledger.slots.get(&f.field).ok_or_else(|| StoreError::invalid(format!("“{}”不是该台账的数值字段，不能筛选", f.field)))?;
                        let op = match f.op.as_str() {
                            "=" | "==" => "=",
                            "!=" => "<>",
                            "<" => "<",
                            "<=" => "<=",
                            ">" => ">",
                            ">=" => ">=",
                            o => return Err(StoreError::invalid(format!("不支持的比较“{o}”"))),
                        };
                        b.push(format!(" AND n{s} {op} ")).push_bind(f.value);
                    }
                    b.push(" GROUP BY org_path, period");
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    let mut groups: BTreeMap<(Option<String>, Option<String>), AggRow> = BTreeMap::new();
                    for r in &rows {
                        let p: String = r.try_get("org_path").map_err(err)?;
                        let per: String = r.try_get("period").map_err(err)?;
                        let org = query.group_level.map(|l| code_at_level(&p, l).map(str::to_string).unwrap_or_else(|| p.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string()));
                        let period = query.group_period.map(|t| roll_period(&per, t).unwrap_or(per.clone()));
                        let g = groups.entry((org.clone(), period.clone())).or_insert_with(|| AggRow {
                            org_code: None,
                            org_name: org.clone(),
                            period: period.clone(),
                            entries: 0,
                            fields: BTreeMap::new(),
                        });
                        g.entries += r.try_get::<i64, _>("n").map_err(err)?;
                        for (f, s) in &slots {
                            let a = FieldAgg {
                                count: r.try_get(format!("c{s}").as_str()).map_err(err)?,
                                sum: r.try_get(format!("s{s}").as_str()).map_err(err)?,
                                min: r.try_get(format!("lo{s}").as_str()).map_err(err)?,
                                max: r.try_get(format!("hi{s}").as_str()).map_err(err)?,
                            };
                            g.fields.entry(f.clone()).or_default().merge(&a);
                        }
                    }
                    // Names for the group codes (org_name held the code until here).
                    let codes: Vec<String> = groups.keys().filter_map(|k| k.0.clone()).collect::<::std::collections::BTreeSet<_>>().into_iter().collect();
                    let mut names: HashMap<String, String> = HashMap::new();
                    for chunk in codes.chunks(500) {
                        let mut nb = ::sqlx::QueryBuilder::<$DB>::new("SELECT code, name FROM org_units WHERE code IN (");
                        let mut sep = nb.separated(", ");
                        for c in chunk {
                            sep.push_bind(c.clone());
                        }
                        nb.push(")");
                        for r in nb.build().fetch_all(self.read()).await.map_err(err)? {
                            names.insert(r.try_get("code").map_err(err)?, r.try_get("name").map_err(err)?);
                        }
                    }
                    Ok(groups
                        .into_values()
                        .map(|mut g| {
                            if let Some(c) = g.org_name.take() {
                                g.org_name = names.get(&c).cloned();
                                g.org_code = DivisionCode::parse(&c).ok();
                            }
                            g
                        })
                        .collect())
                }

                async fn put_ledger_file(&self, actor: &Actor, name: &str, mime: &str, content: &[u8]) -> StoreResult<String> {
                    can_write(actor)?;
                    let hash = $crate::sql_ledger::content_hash(content);
                    let mut tx = self.begin_write().await?;
                    let exists = ::sqlx::query("SELECT org_path FROM ledger_files WHERE sha256 = $1")
                        .bind(&hash)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if exists.is_none() {
                        ::sqlx::query("INSERT INTO ledger_files (sha256, name, mime, size, org_path, content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                            .bind(&hash)
                            .bind(name)
                            .bind(mime)
                            .bind(content.len() as i64)
                            .bind(actor.scope.path.as_str())
                            .bind(content)
                            .bind(now_text())
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                        <$Store>::audit(&mut tx, actor, AuditRecord {
                            action: "ledger_file",
                            entity: "ledger_file",
                            entity_id: hash.clone(),
                            scope_path: actor.scope.path.as_str().to_string(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({"name": name, "size": content.len()})),
                        }).await?;
                    }
                    tx.commit().await.map_err(err)?;
                    Ok(hash)
                }

                async fn ledger_file(&self, scope: &Scope, sha256: &str) -> StoreResult<LedgerFile> {
                    let r = ::sqlx::query("SELECT sha256, name, mime, size, org_path, content FROM ledger_files WHERE sha256 = $1")
                        .bind(sha256)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let p: String = r.try_get("org_path").map_err(err)?;
                    in_scope(scope, &p)?;
                    Ok(LedgerFile {
                        sha256: r.try_get("sha256").map_err(err)?,
                        name: r.try_get("name").map_err(err)?,
                        mime: r.try_get("mime").map_err(err)?,
                        size: r.try_get("size").map_err(err)?,
                        content: r.try_get("content").map_err(err)?,
                    })
                }
            }
        }
    };
}
