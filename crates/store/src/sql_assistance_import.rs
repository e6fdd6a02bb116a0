//! 存量导入 of assistance: a roster and monthly payment sheets kept before xiangzhi, shared by
//! both backends like [`crate::impl_sql_store!`] (read its header).
//!
//! Every row is checked in memory against what one read of the registry, the enrollments and
//! the payrolls gives, and every issue is reported at once; only a file without issues is
//! written, in one transaction. Reads are by chunks of keys, so a county's 360,000 payments
//! take a few hundred statements, not one per row.

#[macro_export]
macro_rules! impl_assistance_import {
    ($Store:ty, $DB:ty) => {
        mod __sql_assistance_import {
            use super::*;
            use ::chrono::{Months, NaiveDate};
            use ::sqlx::Row as _;
            use ::std::collections::{BTreeMap, HashMap, HashSet};
            use $crate::assistance::*;
            use $crate::audit::AuditRecord;
            use $crate::bulk::Val;
            use $crate::model::*;
            use $crate::registry::{ImportIssue, ImportOutcome};
            use $crate::sql::now_text;
            use $crate::sql_assistance::{date_text, opt_date, date};
            use $crate::{Store as _, StoreError, StoreResult};
            use ::xiangzhi_domain::assistance::{EnrollUnit, Frequency, Program};
            use ::xiangzhi_domain::assistance_lifecycle::{ApplySource, EnrollmentStatus, Step};
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel};
            use ::xiangzhi_domain::period::{Period, PeriodType};
            use ::xiangzhi_domain::role::Permission;

            type Tx = ::sqlx::Transaction<'static, $DB>;

            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }

            /// A person found by citizen ID.
            struct Found {
                id: i64,
                household_id: Option<i64>,
                org_code: String,
                org_path: String,
                registered: bool,
            }

            struct HouseholdRow {
                no: String,
                org_code: String,
                org_path: String,
            }

            /// Who an enrollment is for, as the duplicate rule sees it: the household for a
            /// household program, the person for a person program.
            type SubjectKey = (String, Option<i64>, Option<i64>);

            fn may_import(actor: &Actor) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !r.can(Permission::TownshipReview) => {
                        Err(StoreError::Forbidden("只有乡镇审核人员可以导入存量名单或发放记录".into()))
                    }
                    _ => Ok(()),
                }
            }

            fn issue(line: usize, column: &str, reason: impl Into<String>) -> ImportIssue {
                ImportIssue { line, column: column.into(), reason: reason.into() }
            }

            fn find_program<'a>(programs: &'a [Program], s: &str) -> Option<&'a Program> {
                let s = s.trim();
                programs.iter().find(|p| p.code == s || p.name == s)
            }

            /// Whether the unit with path `path` is `unit` or lies below it: a file may name the
            /// village of a person the registry has in one of its grids.
            fn lies_in(path: &str, unit: &DivisionCode) -> bool {
                path.contains(&format!("/{}/", unit.as_str()))
            }

            /// The path of `code` within `path` (`/36/3610/361002/` for 361002 in a grid's path).
            fn path_to(path: &str, code: &str) -> Option<String> {
                let at = path.find(&format!("/{code}/"))?;
                Some(path[..at + code.len() + 2].to_string())
            }

            impl $Store {
                async fn persons_by_hash(tx: &mut Tx, hashes: &HashSet<String>) -> StoreResult<HashMap<String, Found>> {
                    let hashes: Vec<&String> = hashes.iter().collect();
                    let mut out = HashMap::with_capacity(hashes.len());
                    for chunk in hashes.chunks(1000) {
                        let mut qb = ::sqlx::QueryBuilder::<$DB>::new(
                            "SELECT id, id_hash, household_id, org_code, org_path, status FROM persons WHERE id_hash IN (",
                        );
                        let mut sep = qb.separated(", ");
                        for h in chunk {
                            sep.push_bind((*h).clone());
                        }
                        qb.push(")");
                        for r in qb.build().fetch_all(&mut **tx).await.map_err(err)? {
                            let status: String = r.try_get("status").map_err(err)?;
                            out.insert(
                                r.try_get("id_hash").map_err(err)?,
                                Found {
                                    id: r.try_get("id").map_err(err)?,
                                    household_id: r.try_get("household_id").map_err(err)?,
                                    org_code: r.try_get("org_code").map_err(err)?,
                                    org_path: r.try_get("org_path").map_err(err)?,
                                    registered: status == "registered",
                                },
                            );
                        }
                    }
                    Ok(out)
                }

                async fn households_by_id(tx: &mut Tx, ids: &HashSet<i64>) -> StoreResult<HashMap<i64, HouseholdRow>> {
                    let ids: Vec<i64> = ids.iter().copied().collect();
                    let mut out = HashMap::with_capacity(ids.len());
                    for chunk in ids.chunks(1000) {
                        let mut qb = ::sqlx::QueryBuilder::<$DB>::new(
                            "SELECT id, household_no, org_code, org_path FROM households WHERE status = 'active' AND id IN (",
                        );
                        let mut sep = qb.separated(", ");
                        for h in chunk {
                            sep.push_bind(*h);
                        }
                        qb.push(")");
                        for r in qb.build().fetch_all(&mut **tx).await.map_err(err)? {
                            out.insert(
                                r.try_get("id").map_err(err)?,
                                HouseholdRow {
                                    no: r.try_get("household_no").map_err(err)?,
                                    org_code: r.try_get("org_code").map_err(err)?,
                                    org_path: r.try_get("org_path").map_err(err)?,
                                },
                            );
                        }
                    }
                    Ok(out)
                }

                /// The persons of the file, by row, with their hashes computed once.
                async fn persons_of<'r, I: Iterator<Item = &'r ::xiangzhi_domain::citizen_id::CitizenId>>(
                    &self,
                    tx: &mut Tx,
                    ids: I,
                ) -> StoreResult<(Vec<String>, HashMap<String, Found>)> {
                    let hashes: Vec<String> = ids.map(|id| self.vault().lookup(id.as_str())).collect();
                    let distinct: HashSet<String> = hashes.iter().cloned().collect();
                    let found = Self::persons_by_hash(tx, &distinct).await?;
                    Ok((hashes, found))
                }

                pub(crate) async fn import_enrollments_in(
                    &self,
                    actor: &Actor,
                    org: &DivisionCode,
                    rows: &[EnrollmentImportRow],
                    dry_run: bool,
                ) -> StoreResult<ImportOutcome> {
                    may_import(actor)?;
                    let root = self.org_unit(&actor.scope, org).await?;
                    let programs = self.programs().await?;
                    let today = ::chrono::Local::now().date_naive();
                    let mut tx = self.begin_write().await?;
                    let (hashes, persons) = self.persons_of(&mut tx, rows.iter().map(|r| &r.citizen_id)).await?;
                    let hids: HashSet<i64> = persons.values().filter_map(|p| p.household_id).collect();
                    let households = Self::households_by_id(&mut tx, &hids).await?;
                    let mut open: HashSet<SubjectKey> = HashSet::new();
                    for r in ::sqlx::query("SELECT program_code, household_id, person_id FROM enrollments WHERE status NOT IN ('rejected', 'exited')")
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?
                    {
                        let person: Option<i64> = r.try_get("person_id").map_err(err)?;
                        let household: Option<i64> = if person.is_some() { None } else { r.try_get("household_id").map_err(err)? };
                        open.insert((r.try_get("program_code").map_err(err)?, household, person));
                    }

                    struct Plan<'a> {
                        row: &'a EnrollmentImportRow,
                        program: &'a Program,
                        category: String,
                        household_id: Option<i64>,
                        person_id: Option<i64>,
                        org_code: String,
                        org_path: String,
                    }
                    let mut issues = Vec::new();
                    let mut plan = Vec::with_capacity(rows.len());
                    let mut seen: HashSet<SubjectKey> = HashSet::new();
                    for (r, hash) in rows.iter().zip(&hashes) {
                        let line = r.line;
                        let Some(prog) = find_program(&programs, &r.program) else {
                            issues.push(issue(line, "项目", format!("没有“{}”这个救助项目", r.program.trim())));
                            continue;
                        };
                        let category = if prog.categories.is_empty() {
                            if !r.category.trim().is_empty() {
                                issues.push(issue(line, "类别", format!("“{}”不分类别，请留空", prog.name)));
                                continue;
                            }
                            String::new()
                        } else {
                            let c = r.category.trim();
                            match prog.categories.iter().find(|k| k.code == c || k.label == c) {
                                Some(k) => k.code.clone(),
                                None => {
                                    let opts: Vec<&str> = prog.categories.iter().map(|k| k.label.as_str()).collect();
                                    issues.push(issue(line, "类别", format!("“{}”的类别应为：{}", prog.name, opts.join("、"))));
                                    continue;
                                }
                            }
                        };
                        let Some(p) = persons.get(hash).filter(|p| p.org_path.starts_with(root.path.as_str())) else {
                            issues.push(issue(line, "身份证号", format!("{}的人口库中没有此人，请先导入人员", root.name)));
                            continue;
                        };
                        if !p.registered && r.exit.is_none() {
                            issues.push(issue(line, "状态", "此人已不在册（死亡或迁出），不能在保；请填写退出日期"));
                            continue;
                        }
                        if r.org_code.as_ref().is_some_and(|c| !lies_in(&p.org_path, c)) {
                            issues.push(issue(line, "所属网格", "与人口库中此人所在的网格（村）不一致"));
                            continue;
                        }
                        let hh = p.household_id.and_then(|h| households.get(&h).map(|x| (h, x)));
                        if let Some(no) = r.household_no.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                            if hh.map(|(_, x)| x.no.as_str()) != Some(no) {
                                issues.push(issue(line, "户号", "与人口库中此人的户号不一致"));
                                continue;
                            }
                        }
                        let (household_id, person_id, org_code, org_path) = match prog.unit {
                            EnrollUnit::Household => {
                                let Some((h, x)) = hh else {
                                    issues.push(issue(line, "身份证号", format!("“{}”按户纳入，此人尚未登记在册的户", prog.name)));
                                    continue;
                                };
                                (Some(h), None, x.org_code.clone(), x.org_path.clone())
                            }
                            EnrollUnit::Person => (p.household_id, Some(p.id), p.org_code.clone(), p.org_path.clone()),
                        };
                        if r.start_on > today {
                            issues.push(issue(line, "纳入日期", "不能晚于今天"));
                            continue;
                        }
                        if let Some((d, _)) = r.exit {
                            if d < r.start_on || d > today {
                                issues.push(issue(line, "退出日期", "应在纳入日期与今天之间"));
                                continue;
                            }
                        } else {
                            let key = (prog.code.clone(), if person_id.is_none() { household_id } else { None }, person_id);
                            let who = if person_id.is_none() { "户" } else { "人员" };
                            if open.contains(&key) {
                                issues.push(issue(line, "身份证号", format!("该{who}已在“{}”中（或正在办理）", prog.name)));
                                continue;
                            }
                            if !seen.insert(key) {
                                issues.push(issue(line, "身份证号", format!("文件中重复：该{who}在“{}”中出现两次", prog.name)));
                                continue;
                            }
                        }
                        plan.push(Plan { row: r, program: prog, category, household_id, person_id, org_code, org_path });
                    }
                    if dry_run || !issues.is_empty() {
                        return Ok(ImportOutcome::of_new(plan.len(), issues, false));
                    }
                    let now = now_text();
                    // Dates as the text every other enrollment write stores.
                    struct Dates {
                        start: String,
                        since: String,
                        next_review: Option<String>,
                        exit: Option<String>,
                    }
                    let dates: Vec<Dates> = plan
                        .iter()
                        .map(|p| {
                            let r = p.row;
                            // The next 复核 on the program's cycle from the start, not before
                            // today: the roster stands for the reviews done on paper.
                            let next_review = (r.exit.is_none() && p.program.review_months > 0).then(|| {
                                let mut d = r.start_on;
                                while d < today {
                                    d = d + Months::new(p.program.review_months);
                                }
                                date_text(d)
                            });
                            Dates {
                                start: date_text(r.start_on),
                                since: date_text(r.exit.map_or(r.start_on, |(d, _)| d)),
                                next_review,
                                exit: r.exit.map(|(d, _)| date_text(d)),
                            }
                        })
                        .collect();
                    let mut values = Vec::with_capacity(plan.len() * $crate::bulk::ENROLLMENTS.width());
                    for (p, dt) in plan.iter().zip(&dates) {
                        let status = if p.row.exit.is_some() { EnrollmentStatus::Exited } else { EnrollmentStatus::Active };
                        values.extend([
                            Val::Text(&p.program.code),
                            p.household_id.into(),
                            p.person_id.into(),
                            Val::Text(&p.category),
                            Val::Text(ApplySource::Import.as_str()),
                            Val::Text(&p.org_code),
                            Val::Text(&p.org_path),
                            Val::Text(status.as_str()),
                            Val::Text(&actor.username),
                            Val::Text(&dt.start),
                            Val::Text(&dt.since),
                            Val::Text(&dt.start),
                            dt.next_review.as_deref().into(),
                            dt.exit.as_deref().into(),
                            p.row.exit.map(|(_, why)| why.as_str()).into(),
                            Val::Text(""),
                            Val::Text(&now),
                        ]);
                    }
                    let ids = <$Store>::bulk_insert(&mut tx, &$crate::bulk::ENROLLMENTS, &values, true).await?;
                    drop(values);
                    let opinions: Vec<String> = plan.iter().map(|p| format!("存量名单第{}行", p.row.line)).collect();
                    let mut steps = Vec::with_capacity(plan.len() * $crate::bulk::ENROLLMENT_STEPS.width());
                    for (((p, dt), id), opinion) in plan.iter().zip(&dates).zip(&ids).zip(&opinions) {
                        steps.extend([Val::Int(*id), Val::Text(Step::Import.as_str()), Val::Null, Val::Text(opinion), Val::Text(&dt.start), Val::Text(&actor.username), Val::Text(&now)]);
                        if let (Some((_, why)), Some(exit)) = (p.row.exit, &dt.exit) {
                            steps.extend([Val::Int(*id), Val::Text(Step::Exit.as_str()), Val::Null, Val::Text(why.label()), Val::Text(exit), Val::Text(&actor.username), Val::Text(&now)]);
                        }
                    }
                    <$Store>::bulk_insert(&mut tx, &$crate::bulk::ENROLLMENT_STEPS, &steps, false).await?;
                    drop(steps);
                    let (first, last) = (ids.first(), ids.last());
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "enrollment_import",
                        entity: "enrollment",
                        entity_id: org.as_str().to_string(),
                        scope_path: root.path.as_str().to_string(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"rows": rows.len(), "enrollments": plan.len(), "first_id": first, "last_id": last})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(ImportOutcome::of_new(plan.len(), issues, true))
                }

                pub(crate) async fn import_payouts_in(
                    &self,
                    actor: &Actor,
                    org: &DivisionCode,
                    rows: &[PayoutImportRow],
                    dry_run: bool,
                ) -> StoreResult<ImportOutcome> {
                    may_import(actor)?;
                    let root = self.org_unit(&actor.scope, org).await?;
                    let programs = self.programs().await?;
                    let mut tx = self.begin_write().await?;
                    let (hashes, persons) = self.persons_of(&mut tx, rows.iter().map(|r| &r.citizen_id)).await?;
                    let lo = root.path.as_str().to_string();
                    let hi = root.path.upper_bound();

                    struct Spell {
                        id: i64,
                        household_id: Option<i64>,
                        start: NaiveDate,
                        exit: Option<NaiveDate>,
                    }
                    let mut spells: HashMap<SubjectKey, Vec<Spell>> = HashMap::new();
                    for r in ::sqlx::query("SELECT id, program_code, household_id, person_id, start_on, exit_on FROM enrollments \
                                            WHERE status IN ('active', 'exited') AND start_on IS NOT NULL AND org_path >= $1 AND org_path < $2")
                        .bind(&lo)
                        .bind(&hi)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?
                    {
                        let person: Option<i64> = r.try_get("person_id").map_err(err)?;
                        let household: Option<i64> = r.try_get("household_id").map_err(err)?;
                        let start: String = r.try_get("start_on").map_err(err)?;
                        spells
                            .entry((r.try_get("program_code").map_err(err)?, if person.is_some() { None } else { household }, person))
                            .or_default()
                            .push(Spell { id: r.try_get("id").map_err(err)?, household_id: household, start: date(&start)?, exit: opt_date(r.try_get("exit_on").map_err(err)?)? });
                    }
                    // Persons a household enrollment covers, as payroll generation counts them,
                    // read for the enrolled households only (by the household index).
                    let households: Vec<i64> = spells
                        .iter()
                        .filter(|(k, _)| k.2.is_none())
                        .flat_map(|(_, v)| v.iter().filter_map(|s| s.household_id))
                        .collect::<HashSet<i64>>()
                        .into_iter()
                        .collect();
                    let mut members: HashMap<i64, i64> = HashMap::new();
                    for chunk in households.chunks(1000) {
                        let mut qb = ::sqlx::QueryBuilder::<$DB>::new(
                            "SELECT household_id, COUNT(*) AS n FROM persons WHERE status = 'registered' AND household_id IN (",
                        );
                        let mut sep = qb.separated(", ");
                        for h in chunk {
                            sep.push_bind(*h);
                        }
                        qb.push(") GROUP BY household_id");
                        for r in qb.build().fetch_all(&mut *tx).await.map_err(err)? {
                            members.insert(r.try_get("household_id").map_err(err)?, r.try_get("n").map_err(err)?);
                        }
                    }
                    let mut payrolls: HashSet<(String, String, String)> = HashSet::new();
                    for r in ::sqlx::query("SELECT program_code, org_code, period FROM payrolls WHERE org_path >= $1 AND org_path < $2")
                        .bind(&lo)
                        .bind(&hi)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?
                    {
                        payrolls.insert((r.try_get("program_code").map_err(err)?, r.try_get("org_code").map_err(err)?, r.try_get("period").map_err(err)?));
                    }
                    // Payrolls below a township would split the township's month; a root below
                    // one (a village's own sheets) pays as the root.
                    let per_township = root.level <= OrgLevel::Township;

                    struct Line {
                        enrollment: i64,
                        person: i64,
                        household: Option<i64>,
                        org: String,
                        path: String,
                        persons: i64,
                        fen: i64,
                    }
                    let mut groups: BTreeMap<(String, String, String), (String, Vec<Line>)> = BTreeMap::new();
                    let mut issues = Vec::new();
                    let mut paid: HashSet<(i64, String)> = HashSet::new();
                    let mut lines = 0usize;
                    for (r, hash) in rows.iter().zip(&hashes) {
                        let line = r.line;
                        let Some(prog) = find_program(&programs, &r.program) else {
                            issues.push(issue(line, "项目", format!("没有“{}”这个救助项目", r.program.trim())));
                            continue;
                        };
                        if prog.frequency != Frequency::Monthly {
                            issues.push(issue(line, "项目", format!("“{}”{}，不按月发放；请在该项目中逐笔登记", prog.name, prog.frequency.label())));
                            continue;
                        }
                        let Some(month) = Period::parse(r.period.trim()).ok().filter(|p| p.period_type() == PeriodType::Month) else {
                            issues.push(issue(line, "期间", format!("“{}”不是月份，应如 202305", r.period.trim())));
                            continue;
                        };
                        if r.amount.fen() <= 0 {
                            issues.push(issue(line, "金额（元）", "应大于零"));
                            continue;
                        }
                        let Some(p) = persons.get(hash).filter(|p| p.org_path.starts_with(root.path.as_str())) else {
                            issues.push(issue(line, "身份证号", format!("{}的人口库中没有此人，请先导入人员", root.name)));
                            continue;
                        };
                        if r.org_code.as_ref().is_some_and(|c| !lies_in(&p.org_path, c)) {
                            issues.push(issue(line, "所属网格", "与人口库中此人所在的网格（村）不一致"));
                            continue;
                        }
                        let key = match prog.unit {
                            EnrollUnit::Household => (prog.code.clone(), p.household_id, None),
                            EnrollUnit::Person => (prog.code.clone(), None, Some(p.id)),
                        };
                        let (from, to) = (month.start(), month.end());
                        let spell = spells
                            .get(&key)
                            .and_then(|v| v.iter().find(|s| s.start <= to && s.exit.is_none_or(|e| e >= from)));
                        let Some(spell) = spell.filter(|_| key.1.is_some() || key.2.is_some()) else {
                            issues.push(issue(line, "身份证号", format!("该{}在“{}”中没有覆盖{}的纳入记录，请先导入存量名单", if key.2.is_none() { "户" } else { "人员" }, prog.name, month.label())));
                            continue;
                        };
                        let month_code = month.to_string();
                        if !paid.insert((spell.id, month_code.clone())) {
                            issues.push(issue(line, "期间", format!("文件中重复：同一纳入记录在{}发放两次", month.label())));
                            continue;
                        }
                        let (unit_code, unit_path) = if per_township {
                            let Some(t) = $crate::sql_ledger::code_at_level(&p.org_path, OrgLevel::Township) else {
                                issues.push(issue(line, "身份证号", "此人不在任何乡镇之下，无法归入乡镇的发放表"));
                                continue;
                            };
                            let path = path_to(&p.org_path, t).unwrap_or_default();
                            (t.to_string(), path)
                        } else {
                            (root.code.as_str().to_string(), root.path.as_str().to_string())
                        };
                        let gk = (prog.code.clone(), unit_code, month_code);
                        if payrolls.contains(&gk) {
                            issues.push(issue(line, "期间", format!("该单位{}的“{}”发放表已经存在，不能重复导入", month.label(), prog.name)));
                            continue;
                        }
                        let persons_covered = match prog.unit {
                            EnrollUnit::Person => 1,
                            EnrollUnit::Household => spell.household_id.and_then(|h| members.get(&h).copied()).unwrap_or(1),
                        };
                        groups.entry(gk).or_insert_with(|| (unit_path, Vec::new())).1.push(Line {
                            enrollment: spell.id,
                            person: p.id,
                            household: p.household_id,
                            org: p.org_code.clone(),
                            path: p.org_path.clone(),
                            persons: persons_covered,
                            fen: r.amount.fen(),
                        });
                        lines += 1;
                    }
                    if dry_run || !issues.is_empty() {
                        return Ok(ImportOutcome::of_new(lines, issues, false));
                    }
                    let now = now_text();
                    let mut total_all: i64 = 0;
                    // Every line in one bulk insert after the payrolls: a COPY per payroll (2,600
                    // of them for a county's year) waited on the network each time, 40 ms apiece.
                    let mut values = Vec::with_capacity(lines * $crate::bulk::PAYROLL_LINES.width());
                    for ((program, unit_code, period), (unit_path, ls)) in &groups {
                        let total = ls.iter().try_fold(0i64, |a, l| a.checked_add(l.fen)).ok_or_else(|| StoreError::invalid("发放总额超出范围"))?;
                        total_all = total_all.saturating_add(total);
                        let id: i64 = ::sqlx::query(
                            "INSERT INTO payrolls (program_code, org_code, org_path, period, status, line_count, total_fen, created_by, created_at, approved_by, approved_at) \
                             VALUES ($1, $2, $3, $4, 'reconciled', $5, $6, $7, $8, $7, $8) RETURNING id",
                        )
                        .bind(program)
                        .bind(unit_code)
                        .bind(unit_path)
                        .bind(period)
                        .bind(ls.len() as i64)
                        .bind(total)
                        .bind(&actor.username)
                        .bind(&now)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?
                        .try_get("id")
                        .map_err(err)?;
                        for l in ls {
                            values.extend([
                                Val::Int(id),
                                Val::Int(l.enrollment),
                                Val::Int(l.person),
                                l.household.into(),
                                Val::Text(&l.org),
                                Val::Text(&l.path),
                                Val::Int(l.persons),
                                Val::Int(l.fen),
                                Val::Text("paid"),
                                Val::Text("存量导入"),
                            ]);
                        }
                    }
                    <$Store>::bulk_insert(&mut tx, &$crate::bulk::PAYROLL_LINES, &values, false).await?;
                    drop(values);
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "payout_import",
                        entity: "payroll",
                        entity_id: org.as_str().to_string(),
                        scope_path: root.path.as_str().to_string(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({"rows": rows.len(), "payrolls": groups.len(), "lines": lines, "total_fen": total_all})),
                    }).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(ImportOutcome::of_new(lines, issues, true))
                }
            }
        }
    };
}
