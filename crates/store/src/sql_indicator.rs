//! The SQL of indicators, targets, data values and approvals, shared by both backends like
//! [`crate::impl_sql_store!`] (read its header). Measures are assembled in [`crate::measure`].

use std::collections::BTreeMap;

use xiangzhi_domain::period::Period;

use crate::measure::{MeasureAgg, MeasureRow, key_code, path_prefix_len};
use xiangzhi_domain::org::OrgLevel;

/// `(id, org_code, org_path, period_end, value)` of a data value, as read for a measure.
pub type ValueRow = (i64, String, String, String, f64);

/// Aggregates data values per group: `sum`/`average` over all values, `last` the latest value
/// per unit summed over units. `group` keys rows by the path prefix at that level.
pub fn aggregate_values(
    rows: &[ValueRow],
    agg: MeasureAgg,
    group: Option<OrgLevel>,
    whole: &xiangzhi_domain::org::DivisionCode,
) -> Vec<MeasureRow> {
    let mut groups: BTreeMap<String, Vec<&ValueRow>> = BTreeMap::new();
    for r in rows {
        let key = match group {
            Some(l) => {
                let n = path_prefix_len(l);
                if r.2.len() < n {
                    continue;
                }
                r.2[..n].to_string()
            }
            None => String::new(),
        };
        groups.entry(key).or_default().push(r);
    }
    let mut out = Vec::new();
    for (key, rs) in groups {
        let code = if key.is_empty() {
            whole.clone()
        } else {
            match key_code(&key) {
                Some(c) => c,
                None => continue,
            }
        };
        let value = match agg {
            MeasureAgg::Last => {
                let mut latest: BTreeMap<&str, (&str, f64)> = BTreeMap::new();
                for r in &rs {
                    let e = latest.entry(r.1.as_str()).or_insert((r.3.as_str(), r.4));
                    if r.3.as_str() >= e.0 {
                        *e = (r.3.as_str(), r.4);
                    }
                }
                latest.values().map(|v| v.1).sum()
            }
            MeasureAgg::Avg => rs.iter().map(|r| r.4).sum::<f64>() / rs.len() as f64,
            MeasureAgg::Min => rs.iter().map(|r| r.4).fold(f64::INFINITY, f64::min),
            MeasureAgg::Max => rs.iter().map(|r| r.4).fold(f64::NEG_INFINITY, f64::max),
            MeasureAgg::Count | MeasureAgg::CountPersons | MeasureAgg::CountHouseholds => {
                rs.len() as f64
            }
            MeasureAgg::Sum => rs.iter().map(|r| r.4).sum(),
        };
        out.push(MeasureRow {
            org_code: code,
            value: Some(value),
            records: rs.len() as i64,
        });
    }
    out
}

/// First and last day of a period code, as stored text.
pub fn period_bounds(code: &str) -> Option<(Period, String, String)> {
    let p = Period::parse(code).ok()?;
    let a = p.start().format("%Y-%m-%d").to_string();
    let b = p.end().format("%Y-%m-%d").to_string();
    Some((p, a, b))
}

#[macro_export]
macro_rules! impl_indicator_store {
    ($Store:ty, $DB:ty) => {
        #[allow(clippy::too_many_arguments)]
        mod __sql_indicator {
            use super::*;
            use ::sqlx::Row as _;
            use $crate::audit::AuditRecord;
            use $crate::indicator::*;
            use $crate::measure::*;
            use $crate::model::*;
            use $crate::registry::ImportIssue;
            use $crate::sql::now_text;
            use $crate::sql_indicator::{aggregate_values, period_bounds, ValueRow};
            use $crate::{StoreError, StoreResult};
            use ::xiangzhi_domain::ledger::{SubmissionAction, SubmissionStatus};
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
            use ::xiangzhi_domain::period::PeriodType;
            use ::xiangzhi_domain::role::Permission;

            type Tx = ::sqlx::Transaction<'static, $DB>;
            type DbRow = <$DB as ::sqlx::Database>::Row;

            fn q(sql: String) -> ::sqlx::AssertSqlSafe<String> {
                ::sqlx::AssertSqlSafe(sql)
            }
            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }
            fn township_only(actor: &Actor, what: &str) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !(r.can(Permission::TownshipReview) || r.can(Permission::ManageOrg)) => {
                        Err(StoreError::Forbidden(format!("只有乡镇可以{what}")))
                    }
                    _ => Ok(()),
                }
            }
            fn can_write(actor: &Actor) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !r.can(Permission::Write) => Err(StoreError::Forbidden("该角色不能填报数据".into())),
                    _ => Ok(()),
                }
            }
            /// The path range a viewer may read of `path`: all of it, or their own part of it.
            fn narrowed(scope: &Scope, path: &str) -> StoreResult<String> {
                if path.starts_with(scope.path.as_str()) {
                    Ok(path.to_string())
                } else if scope.path.as_str().starts_with(path) {
                    Ok(scope.path.as_str().to_string())
                } else {
                    Err(StoreError::NotFound)
                }
            }
            fn upper(path: &str) -> String {
                OrgPath::from_stored(path.to_string()).upper_bound()
            }

            fn element_from_row(r: &DbRow) -> StoreResult<DataElement> {
                Ok(DataElement {
                    code: r.try_get("code").map_err(err)?,
                    name: r.try_get("name").map_err(err)?,
                    value_type: r.try_get("value_type").map_err(err)?,
                    aggregation: r.try_get("aggregation").map_err(err)?,
                    period_type: r.try_get("period_type").map_err(err)?,
                    unit: r.try_get("unit").map_err(err)?,
                    min: r.try_get("min_value").map_err(err)?,
                    max: r.try_get("max_value").map_err(err)?,
                    level: r.try_get("level").map_err(err)?,
                })
            }

            fn indicator_from_row(r: &DbRow) -> StoreResult<IndicatorDef> {
                let decimals: i64 = r.try_get("decimals").map_err(err)?;
                Ok(IndicatorDef {
                    code: r.try_get("code").map_err(err)?,
                    name: r.try_get("name").map_err(err)?,
                    expression: r.try_get("expression").map_err(err)?,
                    unit: r.try_get("unit").map_err(err)?,
                    scale: r.try_get("scale").map_err(err)?,
                    precision: u32::try_from(decimals).unwrap_or(0),
                    trim: r.try_get("trim_zeros").map_err(err)?,
                    category: r.try_get("category").map_err(err)?,
                    description: r.try_get("description").map_err(err)?,
                    sort: r.try_get("sort").map_err(err)?,
                    higher_is_better: r.try_get("higher_is_better").map_err(err)?,
                })
            }

            fn value_from_row(r: &DbRow) -> StoreResult<DataValue> {
                Ok(DataValue {
                    id: r.try_get("id").map_err(err)?,
                    element_code: r.try_get("element_code").map_err(err)?,
                    org_code: r.try_get("org_code").map_err(err)?,
                    org_name: r.try_get("org_name").map_err(err)?,
                    period: r.try_get("period").map_err(err)?,
                    value: r.try_get("value").map_err(err)?,
                    comment: r.try_get("comment").map_err(err)?,
                    updated_at: r.try_get("updated_at").map_err(err)?,
                    updated_by: r.try_get("updated_by").map_err(err)?,
                })
            }

            const VALUE_SELECT: &str = "SELECT v.id, v.element_code, v.org_code, o.name AS org_name, v.period, v.value, \
                 v.comment, v.updated_at, v.updated_by FROM data_values v JOIN org_units o ON o.code = v.org_code";

            /// `(path, name, level)` of a current unit.
            async fn unit_of<'e, E>(ex: E, code: &str) -> StoreResult<(String, String, OrgLevel)>
            where
                E: ::sqlx::Executor<'e, Database = $DB>,
            {
                let r = ::sqlx::query("SELECT path, name, level FROM org_units WHERE code = $1")
                    .bind(code.to_string())
                    .fetch_optional(ex)
                    .await
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                let level: String = r.try_get("level").map_err(err)?;
                Ok((
                    r.try_get("path").map_err(err)?,
                    r.try_get("name").map_err(err)?,
                    OrgLevel::parse(&level).ok_or_else(|| $crate::sql::bad_row("层级"))?,
                ))
            }

            /// The approval status of `org` for `period` (or the year holding it).
            async fn lock_status(tx: &mut Tx, org: &str, period: &str) -> StoreResult<Option<(String, SubmissionStatus)>> {
                let year = period.get(..4).unwrap_or(period).to_string();
                let rows = ::sqlx::query("SELECT period, status FROM data_approvals WHERE org_code = $1 AND (period = $2 OR period = $3)")
                    .bind(org.to_string())
                    .bind(period.to_string())
                    .bind(year)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(err)?;
                for r in rows {
                    let s: String = r.try_get("status").map_err(err)?;
                    let st = SubmissionStatus::parse(&s).ok_or_else(|| $crate::sql::bad_row("审核状态"))?;
                    if !st.editable() {
                        return Ok(Some((r.try_get("period").map_err(err)?, st)));
                    }
                }
                Ok(None)
            }

            struct Checked {
                org_code: String,
                path: String,
                period: String,
                start: String,
                end: String,
            }

            /// Every check of one value: element, unit in scope, period of the element's type,
            /// finite value, period not locked.
            async fn check_value(
                tx: &mut Tx,
                actor: &Actor,
                elements: &::std::collections::HashMap<String, DataElement>,
                input: &DataValueInput,
            ) -> Result<Checked, (String, String)> {
                let el = elements
                    .get(&input.element_code)
                    .ok_or_else(|| ("数据项".to_string(), format!("未知的数据项“{}”", input.element_code)))?;
                let (path, name, _) = unit_of(&mut **tx, input.org_code.as_str())
                    .await
                    .map_err(|_| ("单位".to_string(), format!("未知的单位 {}", input.org_code.as_str())))?;
                if !actor.scope.contains(&OrgPath::from_stored(path.clone())) {
                    return Err(("单位".into(), format!("{name}不在您的管辖范围内")));
                }
                let (p, start, end) = period_bounds(input.period.trim())
                    .ok_or_else(|| ("期间".to_string(), format!("期间“{}”无效，应如 2023、2023Q1、202301", input.period)))?;
                let want = PeriodType::parse(&el.period_type);
                if want.is_some_and(|t| t != p.period_type()) {
                    return Err(("期间".into(), format!("数据项“{}”按{}填报，“{}”不是该类期间", el.name, want.map(|t| t.label()).unwrap_or(""), input.period)));
                }
                if !input.value.is_finite() {
                    return Err(("数值".into(), "数值无效".into()));
                }
                if el.value_type == "count" && input.value.fract() != 0.0 {
                    return Err(("数值".into(), format!("“{}”是计数，应为整数", el.name)));
                }
                if let Some((lp, st)) = lock_status(tx, input.org_code.as_str(), &p.to_string()).await.map_err(|e| ("期间".to_string(), e.to_string()))? {
                    return Err(("期间".into(), format!("{name} {lp} 的数据{}，已锁定，不能修改", st.label())));
                }
                Ok(Checked {
                    org_code: input.org_code.as_str().to_string(),
                    path,
                    period: p.to_string(),
                    start,
                    end,
                })
            }

            /// Writes a checked value; returns whether it was new, changed or unchanged.
            async fn write_value(tx: &mut Tx, actor: &Actor, input: &DataValueInput, c: &Checked) -> StoreResult<(i64, &'static str)> {
                let old = ::sqlx::query("SELECT id, value, comment FROM data_values WHERE element_code = $1 AND org_code = $2 AND period = $3")
                    .bind(input.element_code.clone())
                    .bind(c.org_code.clone())
                    .bind(c.period.clone())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?;
                let now = now_text();
                let comment = input.comment.trim().to_string();
                let (id, outcome, old_json) = match old {
                    Some(r) => {
                        let id: i64 = r.try_get("id").map_err(err)?;
                        let v: f64 = r.try_get("value").map_err(err)?;
                        let oc: String = r.try_get("comment").map_err(err)?;
                        if v == input.value && oc == comment {
                            return Ok((id, "unchanged"));
                        }
                        ::sqlx::query("UPDATE data_values SET value = $1, comment = $2, updated_at = $3, updated_by = $4 WHERE id = $5")
                            .bind(input.value)
                            .bind(comment.clone())
                            .bind(now.clone())
                            .bind(actor.username.clone())
                            .bind(id)
                            .execute(&mut **tx)
                            .await
                            .map_err(err)?;
                        (id, "updated", Some(::serde_json::json!({"value": v, "comment": oc})))
                    }
                    None => {
                        let r = ::sqlx::query(
                            "INSERT INTO data_values (element_code, org_code, org_path, period, period_start, period_end, value, comment, updated_at, updated_by) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                        )
                        .bind(input.element_code.clone())
                        .bind(c.org_code.clone())
                        .bind(c.path.clone())
                        .bind(c.period.clone())
                        .bind(c.start.clone())
                        .bind(c.end.clone())
                        .bind(input.value)
                        .bind(comment.clone())
                        .bind(now.clone())
                        .bind(actor.username.clone())
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(err)?;
                        (r.try_get("id").map_err(err)?, "new", None)
                    }
                };
                <$Store>::audit(
                    tx,
                    actor,
                    AuditRecord {
                        action: if outcome == "new" { "create" } else { "update" },
                        entity: "data_value",
                        entity_id: id.to_string(),
                        scope_path: c.path.clone(),
                        old_value: old_json,
                        new_value: Some(::serde_json::json!({
                            "element": input.element_code, "org": c.org_code, "period": c.period,
                            "value": input.value, "comment": comment,
                        })),
                    },
                )
                .await?;
                Ok((id, outcome))
            }

            impl $Store {
                async fn element_map(&self) -> StoreResult<::std::collections::HashMap<String, DataElement>> {
                    Ok(<Self as $crate::indicator::IndicatorStore>::data_elements(self)
                        .await?
                        .into_iter()
                        .map(|e| (e.code.clone(), e))
                        .collect())
                }

                async fn approval_row(&self, org: &str, name: &str, period: &str) -> StoreResult<DataApproval> {
                    let r = ::sqlx::query("SELECT status, note, updated_at, updated_by FROM data_approvals WHERE org_code = $1 AND period = $2")
                        .bind(org.to_string())
                        .bind(period.to_string())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?;
                    Ok(match r {
                        Some(r) => {
                            let s: String = r.try_get("status").map_err(err)?;
                            DataApproval {
                                org_code: org.to_string(),
                                org_name: name.to_string(),
                                period: period.to_string(),
                                status: SubmissionStatus::parse(&s).ok_or_else(|| $crate::sql::bad_row("审核状态"))?,
                                note: r.try_get("note").map_err(err)?,
                                updated_at: r.try_get("updated_at").map_err(err)?,
                                updated_by: r.try_get("updated_by").map_err(err)?,
                            }
                        }
                        None => DataApproval {
                            org_code: org.to_string(),
                            org_name: name.to_string(),
                            period: period.to_string(),
                            status: SubmissionStatus::Draft,
                            note: String::new(),
                            updated_at: String::new(),
                            updated_by: String::new(),
                        },
                    })
                }
            }

            #[::async_trait::async_trait]
            impl $crate::indicator::IndicatorStore for $Store {
                async fn define_data_element(&self, actor: &Actor, el: &DataElement) -> StoreResult<bool> {
                    township_only(actor, "定义统计数据项")?;
                    el.validate().map_err(StoreError::Invalid)?;
                    let mut tx = self.begin_write().await?;
                    let old = ::sqlx::query("SELECT * FROM data_elements WHERE code = $1")
                        .bind(el.code.clone())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    let old = old.as_ref().map(element_from_row).transpose()?;
                    if old.as_ref() == Some(el) {
                        return Ok(false);
                    }
                    let now = now_text();
                    ::sqlx::query(
                        "INSERT INTO data_elements (code, name, value_type, aggregation, period_type, unit, min_value, max_value, level, updated_at, updated_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (code) DO UPDATE SET name = $2, value_type = $3, \
                         aggregation = $4, period_type = $5, unit = $6, min_value = $7, max_value = $8, level = $9, updated_at = $10, updated_by = $11",
                    )
                    .bind(el.code.clone())
                    .bind(el.name.trim().to_string())
                    .bind(el.value_type.clone())
                    .bind(el.aggregation.clone())
                    .bind(el.period_type.clone())
                    .bind(el.unit.clone())
                    .bind(el.min)
                    .bind(el.max)
                    .bind(el.level.clone())
                    .bind(now)
                    .bind(actor.username.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: if old.is_some() { "update" } else { "create" },
                        entity: "data_element",
                        entity_id: el.code.clone(),
                        scope_path: OrgPath::root().as_str().to_string(),
                        old_value: old.map(|o| ::serde_json::to_value(o).unwrap_or_default()),
                        new_value: Some(::serde_json::to_value(el).unwrap_or_default()),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(true)
                }

                async fn data_elements(&self) -> StoreResult<Vec<DataElement>> {
                    ::sqlx::query("SELECT * FROM data_elements ORDER BY code")
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?
                        .iter()
                        .map(element_from_row)
                        .collect()
                }

                async fn data_element(&self, code: &str) -> StoreResult<DataElement> {
                    let r = ::sqlx::query("SELECT * FROM data_elements WHERE code = $1")
                        .bind(code.to_string())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    element_from_row(&r)
                }

                async fn save_data_value(&self, actor: &Actor, input: DataValueInput) -> StoreResult<DataValue> {
                    can_write(actor)?;
                    let elements = self.element_map().await?;
                    let mut tx = self.begin_write().await?;
                    let c = check_value(&mut tx, actor, &elements, &input).await.map_err(|(_, m)| {
                        if m.contains("管辖范围") { StoreError::NotFound } else { StoreError::Invalid(m) }
                    })?;
                    let (id, _) = write_value(&mut tx, actor, &input, &c).await?;
                    tx.commit().await.map_err(err)?;
                    let r = ::sqlx::query(q(format!("{VALUE_SELECT} WHERE v.id = $1")))
                        .bind(id)
                        .fetch_one(self.read())
                        .await
                        .map_err(err)?;
                    value_from_row(&r)
                }

                async fn import_data_values(&self, actor: &Actor, rows: &[DataValueImportRow], dry_run: bool) -> StoreResult<DataImportOutcome> {
                    can_write(actor)?;
                    let elements = self.element_map().await?;
                    let mut out = DataImportOutcome::default();
                    let mut tx = self.begin_write().await?;
                    let mut checked = Vec::new();
                    let mut seen = ::std::collections::HashSet::new();
                    for row in rows {
                        match check_value(&mut tx, actor, &elements, &row.value).await {
                            Ok(c) => {
                                if !seen.insert((row.value.element_code.clone(), c.org_code.clone(), c.period.clone())) {
                                    out.issues.push(ImportIssue { line: row.line, column: "数据项".into(), reason: "同一数据项、单位和期间重复出现".into() });
                                } else {
                                    checked.push((row, c));
                                }
                            }
                            Err((column, reason)) => out.issues.push(ImportIssue { line: row.line, column, reason }),
                        }
                    }
                    if !out.issues.is_empty() || dry_run {
                        return Ok(out);
                    }
                    for (row, c) in &checked {
                        match write_value(&mut tx, actor, &row.value, c).await?.1 {
                            "new" => out.new += 1,
                            "updated" => out.updated += 1,
                            _ => out.unchanged += 1,
                        }
                    }
                    tx.commit().await.map_err(err)?;
                    out.committed = true;
                    Ok(out)
                }

                async fn data_values(&self, scope: &Scope, query: &DataValueQuery) -> StoreResult<Vec<DataValue>> {
                    let path = match &query.org {
                        Some(c) => narrowed(scope, &unit_of(self.read(), c.as_str()).await?.0)?,
                        None => scope.path.as_str().to_string(),
                    };
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(format!("{VALUE_SELECT} WHERE v.org_path >= "));
                    b.push_bind(path.clone()).push(" AND v.org_path < ").push_bind(upper(&path));
                    if let Some(e) = &query.element {
                        b.push(" AND v.element_code = ").push_bind(e.clone());
                    }
                    if let Some(p) = &query.period_prefix {
                        b.push(" AND v.period >= ").push_bind(p.clone());
                        b.push(" AND v.period < ").push_bind($crate::sql_ledger::prefix_end(p));
                    }
                    b.push(" ORDER BY v.element_code, v.org_path, v.period");
                    b.build().fetch_all(self.read()).await.map_err(err)?.iter().map(value_from_row).collect()
                }

                async fn define_indicator(&self, actor: &Actor, ind: &IndicatorDef) -> StoreResult<bool> {
                    township_only(actor, "定义指标")?;
                    if ind.code.is_empty() || ind.code.len() > 50 || !ind.code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
                        return Err(StoreError::invalid(format!("指标代码“{}”无效：只能用大写字母、数字和下划线", ind.code)));
                    }
                    if ind.name.trim().is_empty() || ind.expression.trim().is_empty() {
                        return Err(StoreError::invalid("指标名称和表达式不能为空"));
                    }
                    if !(ind.scale.is_finite() && ind.scale > 0.0) || ind.precision > 6 {
                        return Err(StoreError::invalid("显示换算系数须为正数，小数位数不超过6"));
                    }
                    let mut tx = self.begin_write().await?;
                    let old = ::sqlx::query("SELECT * FROM indicators WHERE code = $1")
                        .bind(ind.code.clone())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    let old = old.as_ref().map(indicator_from_row).transpose()?;
                    if old.as_ref() == Some(ind) {
                        return Ok(false);
                    }
                    ::sqlx::query(
                        "INSERT INTO indicators (code, name, expression, unit, scale, decimals, trim_zeros, category, description, sort, higher_is_better, updated_at, updated_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (code) DO UPDATE SET name = $2, expression = $3, unit = $4, \
                         scale = $5, decimals = $6, trim_zeros = $7, category = $8, description = $9, sort = $10, higher_is_better = $11, updated_at = $12, updated_by = $13",
                    )
                    .bind(ind.code.clone())
                    .bind(ind.name.trim().to_string())
                    .bind(ind.expression.clone())
                    .bind(ind.unit.clone())
                    .bind(ind.scale)
                    .bind(i64::from(ind.precision))
                    .bind(ind.trim)
                    .bind(ind.category.clone())
                    .bind(ind.description.clone())
                    .bind(ind.sort)
                    .bind(ind.higher_is_better)
                    .bind(now_text())
                    .bind(actor.username.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: if old.is_some() { "update" } else { "create" },
                        entity: "indicator",
                        entity_id: ind.code.clone(),
                        scope_path: OrgPath::root().as_str().to_string(),
                        old_value: old.map(|o| ::serde_json::to_value(o).unwrap_or_default()),
                        new_value: Some(::serde_json::to_value(ind).unwrap_or_default()),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(true)
                }

                async fn indicators(&self) -> StoreResult<Vec<IndicatorDef>> {
                    ::sqlx::query("SELECT * FROM indicators ORDER BY sort, code")
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?
                        .iter()
                        .map(indicator_from_row)
                        .collect()
                }

                async fn indicator(&self, code: &str) -> StoreResult<IndicatorDef> {
                    let r = ::sqlx::query("SELECT * FROM indicators WHERE code = $1")
                        .bind(code.to_string())
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    indicator_from_row(&r)
                }

                async fn save_target(&self, actor: &Actor, t: &TargetDef) -> StoreResult<()> {
                    township_only(actor, "设定目标")?;
                    if !t.value.is_finite() {
                        return Err(StoreError::invalid("目标值无效"));
                    }
                    if !matches!(t.comparison.as_str(), ">=" | "<=") {
                        return Err(StoreError::invalid("目标方向只能是“>=”（不低于）或“<=”（不高于）"));
                    }
                    let period = period_bounds(&t.period)
                        .ok_or_else(|| StoreError::invalid(format!("期间“{}”无效", t.period)))?
                        .0
                        .to_string();
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query("SELECT code FROM indicators WHERE code = $1")
                        .bind(t.indicator_code.clone())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or_else(|| StoreError::invalid(format!("未知的指标“{}”", t.indicator_code)))?;
                    let (path, _, _) = unit_of(&mut *tx, t.org_code.as_str()).await?;
                    if !actor.scope.contains(&OrgPath::from_stored(path.clone())) {
                        return Err(StoreError::NotFound);
                    }
                    let old = ::sqlx::query("SELECT value, comparison, note FROM targets WHERE indicator_code = $1 AND org_code = $2 AND period = $3")
                        .bind(t.indicator_code.clone())
                        .bind(t.org_code.as_str().to_string())
                        .bind(period.clone())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    let old_json = match &old {
                        Some(r) => {
                            let v: f64 = r.try_get("value").map_err(err)?;
                            let c: String = r.try_get("comparison").map_err(err)?;
                            let n: String = r.try_get("note").map_err(err)?;
                            if v == t.value && c == t.comparison && n == t.note.trim() {
                                return Ok(());
                            }
                            Some(::serde_json::json!({"value": v, "comparison": c, "note": n}))
                        }
                        None => None,
                    };
                    ::sqlx::query(
                        "INSERT INTO targets (indicator_code, org_code, org_path, period, value, comparison, note, updated_at, updated_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (indicator_code, org_code, period) DO UPDATE SET \
                         value = $5, comparison = $6, note = $7, updated_at = $8, updated_by = $9",
                    )
                    .bind(t.indicator_code.clone())
                    .bind(t.org_code.as_str().to_string())
                    .bind(path.clone())
                    .bind(period.clone())
                    .bind(t.value)
                    .bind(t.comparison.clone())
                    .bind(t.note.trim().to_string())
                    .bind(now_text())
                    .bind(actor.username.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: if old_json.is_some() { "update" } else { "create" },
                        entity: "target",
                        entity_id: format!("{}/{}/{}", t.indicator_code, t.org_code.as_str(), period),
                        scope_path: path,
                        old_value: old_json,
                        new_value: Some(::serde_json::json!({"value": t.value, "comparison": t.comparison, "note": t.note.trim()})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(())
                }

                async fn targets(&self, scope: &Scope, indicator: Option<&str>, period: Option<&str>) -> StoreResult<Vec<StoredTarget>> {
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new(
                        "SELECT t.indicator_code, t.org_code, o.name AS org_name, t.org_path, t.period, t.value, t.comparison, t.note \
                         FROM targets t JOIN org_units o ON o.code = t.org_code WHERE t.org_path >= ",
                    );
                    b.push_bind(scope.path.as_str().to_string()).push(" AND t.org_path < ").push_bind(scope.path.upper_bound());
                    if let Some(i) = indicator {
                        b.push(" AND t.indicator_code = ").push_bind(i.to_string());
                    }
                    if let Some(p) = period {
                        b.push(" AND t.period = ").push_bind(p.to_string());
                    }
                    b.push(" ORDER BY t.indicator_code, t.org_path, t.period");
                    let rows = b.build().fetch_all(self.read()).await.map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            let code: String = r.try_get("org_code").map_err(err)?;
                            Ok(StoredTarget {
                                target: TargetDef {
                                    indicator_code: r.try_get("indicator_code").map_err(err)?,
                                    org_code: DivisionCode::parse(&code).map_err(|_| $crate::sql::bad_row("区划代码"))?,
                                    period: r.try_get("period").map_err(err)?,
                                    value: r.try_get("value").map_err(err)?,
                                    comparison: r.try_get("comparison").map_err(err)?,
                                    note: r.try_get("note").map_err(err)?,
                                },
                                org_name: r.try_get("org_name").map_err(err)?,
                                org_path: r.try_get("org_path").map_err(err)?,
                            })
                        })
                        .collect()
                }

                async fn data_approval(&self, scope: &Scope, org: &DivisionCode, period: &str) -> StoreResult<DataApproval> {
                    let (path, name, _) = unit_of(self.read(), org.as_str()).await?;
                    if !scope.contains(&OrgPath::from_stored(path)) {
                        return Err(StoreError::NotFound);
                    }
                    self.approval_row(org.as_str(), &name, period).await
                }

                async fn data_approvals(&self, scope: &Scope, org: &DivisionCode, level: OrgLevel, period: &str) -> StoreResult<Vec<DataApproval>> {
                    let (path, _, _) = unit_of(self.read(), org.as_str()).await?;
                    let path = narrowed(scope, &path)?;
                    let units = ::sqlx::query(
                        "SELECT o.code, o.name, a.status, a.note, a.updated_at, a.updated_by FROM org_units o \
                         LEFT JOIN data_approvals a ON a.org_code = o.code AND a.period = $1 \
                         WHERE o.path >= $2 AND o.path < $3 AND o.level = $4 AND o.valid_to IS NULL ORDER BY o.code",
                    )
                    .bind(period.to_string())
                    .bind(path.clone())
                    .bind(upper(&path))
                    .bind(level.as_str())
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    units
                        .iter()
                        .map(|r| {
                            let status: Option<String> = r.try_get("status").map_err(err)?;
                            Ok(DataApproval {
                                org_code: r.try_get("code").map_err(err)?,
                                org_name: r.try_get("name").map_err(err)?,
                                period: period.to_string(),
                                status: status.as_deref().and_then(SubmissionStatus::parse).unwrap_or(SubmissionStatus::Draft),
                                note: r.try_get::<Option<String>, _>("note").map_err(err)?.unwrap_or_default(),
                                updated_at: r.try_get::<Option<String>, _>("updated_at").map_err(err)?.unwrap_or_default(),
                                updated_by: r.try_get::<Option<String>, _>("updated_by").map_err(err)?.unwrap_or_default(),
                            })
                        })
                        .collect()
                }

                async fn data_approval_action(&self, actor: &Actor, org: &DivisionCode, period: &str, action: SubmissionAction, note: &str) -> StoreResult<DataApproval> {
                    let (p, _, _) = period_bounds(period).ok_or_else(|| StoreError::invalid(format!("期间“{period}”无效")))?;
                    let period = p.to_string();
                    match action {
                        SubmissionAction::Submit => can_write(actor)?,
                        _ => township_only(actor, "审核数据")?,
                    }
                    let mut tx = self.begin_write().await?;
                    let (path, name, _) = unit_of(&mut *tx, org.as_str()).await?;
                    let path_o = OrgPath::from_stored(path.clone());
                    if !actor.scope.contains(&path_o) {
                        return Err(StoreError::NotFound);
                    }
                    if action != SubmissionAction::Submit && actor.scope.path == path_o {
                        return Err(StoreError::Forbidden("不能审核本单位自己报送的数据，请由上级审核".into()));
                    }
                    let old = self.approval_row(org.as_str(), &name, &period).await?;
                    let next = action.apply(old.status).map_err(StoreError::Invalid)?;
                    ::sqlx::query(
                        "INSERT INTO data_approvals (org_code, org_path, period, status, note, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (org_code, period) DO UPDATE SET status = $4, note = $5, updated_at = $6, updated_by = $7",
                    )
                    .bind(org.as_str().to_string())
                    .bind(path.clone())
                    .bind(period.clone())
                    .bind(next.as_str())
                    .bind(note.trim().to_string())
                    .bind(now_text())
                    .bind(actor.username.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: action.as_str(),
                        entity: "data_approval",
                        entity_id: format!("{}/{}", org.as_str(), period),
                        scope_path: path,
                        old_value: Some(::serde_json::json!({"status": old.status.as_str()})),
                        new_value: Some(::serde_json::json!({"status": next.as_str(), "note": note.trim()})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    self.approval_row(org.as_str(), &name, &period).await
                }

                async fn measure(&self, scope: &Scope, org: &DivisionCode, m: &Measure, by: Option<OrgLevel>) -> StoreResult<Vec<MeasureRow>> {
                    let (path, _, _) = unit_of(self.read(), org.as_str()).await?;
                    let lo = narrowed(scope, &path)?;
                    let hi = upper(&lo);
                    match &m.source {
                        MeasureSource::Record(_) => {
                            let (sql, binds) = record_measure_sql(m, &lo, &hi, by)?;
                            let mut qy = ::sqlx::query(q(sql));
                            for b in binds {
                                qy = match b {
                                    Bind::Text(s) => qy.bind(s),
                                    Bind::Num(n) => qy.bind(n),
                                    Bind::Int(i) => qy.bind(i),
                                    Bind::Date(d) => qy.bind(d),
                                    Bind::Bool(x) => qy.bind(x),
                                };
                            }
                            let rows = qy.fetch_all(self.read()).await.map_err(err)?;
                            let mut out = Vec::new();
                            for r in &rows {
                                let n: i64 = r.try_get("n").map_err(err)?;
                                let v: Option<f64> = r.try_get("v").map_err(err)?;
                                let code = match by {
                                    Some(_) => {
                                        let k: String = r.try_get("k").map_err(err)?;
                                        match key_code(&k) {
                                            Some(c) => c,
                                            None => continue,
                                        }
                                    }
                                    None => org.clone(),
                                };
                                // Counting nothing is 0 records, a real zero; summing nothing is no data.
                                let value = match m.agg {
                                    MeasureAgg::Count | MeasureAgg::CountPersons | MeasureAgg::CountHouseholds => Some(v.unwrap_or(0.0)),
                                    _ => v,
                                };
                                out.push(MeasureRow { org_code: code, value, records: n });
                            }
                            Ok(out)
                        }
                        MeasureSource::DataElement(code) => {
                            let el = self.data_element(code).await?;
                            let agg = match el.aggregation.as_str() {
                                "average" => MeasureAgg::Avg,
                                "last" => MeasureAgg::Last,
                                _ => m.agg,
                            };
                            let rows = self.value_rows(m, &lo, &hi).await?;
                            Ok(aggregate_values(&rows, agg, by, org))
                        }
                    }
                }

                async fn measure_records(&self, scope: &Scope, org: &DivisionCode, m: &Measure, limit: u32) -> StoreResult<Vec<RecordRef>> {
                    let (path, _, _) = unit_of(self.read(), org.as_str()).await?;
                    let lo = narrowed(scope, &path)?;
                    let hi = upper(&lo);
                    match &m.source {
                        MeasureSource::Record(name) => {
                            let src = record_source(name).ok_or_else(|| StoreError::invalid(format!("未知的记录来源“{name}”")))?;
                            let (sql, binds) = record_list_sql(m, &lo, &hi, limit)?;
                            let mut qy = ::sqlx::query(q(sql));
                            for b in binds {
                                qy = match b {
                                    Bind::Text(s) => qy.bind(s),
                                    Bind::Num(n) => qy.bind(n),
                                    Bind::Int(i) => qy.bind(i),
                                    Bind::Date(d) => qy.bind(d),
                                    Bind::Bool(x) => qy.bind(x),
                                };
                            }
                            let rows = qy.fetch_all(self.read()).await.map_err(err)?;
                            rows.iter()
                                .map(|r| {
                                    let id: i64 = r.try_get("id").map_err(err)?;
                                    Ok(RecordRef {
                                        source: src.name.to_string(),
                                        id,
                                        org_code: r.try_get("org_code").map_err(err)?,
                                        org_name: r.try_get("org_name").map_err(err)?,
                                        date: r.try_get("d").map_err(err)?,
                                        label: r.try_get::<Option<String>, _>("label").map_err(err)?.unwrap_or_default(),
                                        value: r.try_get("v").map_err(err)?,
                                        href: src.href.map(|h| h.replace("{}", &id.to_string())),
                                    })
                                })
                                .collect()
                        }
                        MeasureSource::DataElement(code) => {
                            let el = self.data_element(code).await?;
                            let (sql, binds) = data_value_sql(m, &lo, &hi)?;
                            let mut qy = ::sqlx::query(q(sql));
                            for b in binds {
                                if let Bind::Text(s) = b {
                                    qy = qy.bind(s);
                                }
                            }
                            let rows = qy.fetch_all(self.read()).await.map_err(err)?;
                            let mut out: Vec<RecordRef> = rows
                                .iter()
                                .map(|r| {
                                    Ok(RecordRef {
                                        source: "data_value".into(),
                                        id: r.try_get("id").map_err(err)?,
                                        org_code: r.try_get("org_code").map_err(err)?,
                                        org_name: r.try_get("org_name").map_err(err)?,
                                        date: Some(r.try_get("period").map_err(err)?),
                                        label: el.name.clone(),
                                        value: Some(r.try_get("value").map_err(err)?),
                                        href: None,
                                    })
                                })
                                .collect::<StoreResult<_>>()?;
                            out.truncate(limit as usize);
                            Ok(out)
                        }
                    }
                }
            }

            impl $Store {
                async fn value_rows(&self, m: &Measure, lo: &str, hi: &str) -> StoreResult<Vec<ValueRow>> {
                    let (sql, binds) = data_value_sql(m, lo, hi)?;
                    let mut qy = ::sqlx::query(q(sql));
                    for b in binds {
                        if let Bind::Text(s) = b {
                            qy = qy.bind(s);
                        }
                    }
                    qy.fetch_all(self.read())
                        .await
                        .map_err(err)?
                        .iter()
                        .map(|r| {
                            Ok((
                                r.try_get("id").map_err(err)?,
                                r.try_get("org_code").map_err(err)?,
                                r.try_get("org_path").map_err(err)?,
                                r.try_get("period_end").map_err(err)?,
                                r.try_get("value").map_err(err)?,
                            ))
                        })
                        .collect()
                }
            }
        }
    };
}
