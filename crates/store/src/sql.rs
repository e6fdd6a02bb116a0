//! The SQL both backends share.
//!
//! SQLite and PostgreSQL accept the same dialect for everything xiangzhi asks of them (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT`, text paths compared bytewise), so the queries are
//! written once here and expanded into each backend crate with [`impl_sql_store!`]. What differs
//! (pools, how a write transaction begins, how the audit head is locked, backups) stays in the
//! backend crates, which provide these inherent items:
//!
//! - `fn read(&self) -> &sqlx::Pool<DB>`
//! - `async fn begin_write(&self) -> Result<sqlx::Transaction<'static, DB>, StoreError>`
//! - `const LOCK_AUDIT_HEAD: &'static str` (selects `last_id, last_hash`, locking where needed)
//! - `const MIGRATIONS: &'static [(i64, &'static str, &'static str)]`
//! - `async fn backup_to(&self, out: &Path) -> Result<(), StoreError>`
//! - `fn map_err(e: sqlx::Error) -> StoreError`
//!
//! A macro rather than generics over `sqlx::Database`: the bounds those need (executor
//! lifetimes, Encode/Decode for every type) cost more to read than the repetition they save.

/// Used by [`impl_sql_store!`]: the columns of an org unit as the store returns it.
pub const ORG_COLUMNS: &str = "o.code, o.name, o.level, o.parent_code, o.path, o.valid_to, o.successor_code, \
     (SELECT COUNT(*) FROM org_units c WHERE c.parent_code = o.code AND c.valid_to IS NULL) AS child_count";

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A stored value that no longer parses: the database was changed behind the program's back.
pub fn bad_row(what: &str) -> crate::StoreError {
    crate::StoreError::Backend(format!("数据库中的{what}无效"))
}

/// Now, as the text timestamps of the audit log and the registry are written.
pub fn now_text() -> String {
    crate::audit::AuditEntry::format_time(chrono::Utc::now())
}

/// Rows per multi-row INSERT: under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
pub const INSERT_CHUNK: usize = 4000;

#[macro_export]
macro_rules! impl_sql_store {
    ($Store:ty, $DB:ty) => {
        mod __sql_store {
            use super::*;
            use ::chrono::{DateTime, NaiveDate, Utc};
            use ::sqlx::Row as _;
            use ::std::collections::HashMap;
            use $crate::audit::{AuditEntry, AuditFilter, AuditHasher, AuditRecord, VerifyReport};
            use $crate::model::*;
            use $crate::sql::{bad_row, like_escape, INSERT_CHUNK, ORG_COLUMNS};
            use $crate::{StoreError, StoreResult};
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
            use ::xiangzhi_domain::role::Role;

            type Tx = ::sqlx::Transaction<'static, $DB>;
            type DbRow = <$DB as ::sqlx::Database>::Row;

            fn q(sql: String) -> ::sqlx::AssertSqlSafe<String> {
                ::sqlx::AssertSqlSafe(sql)
            }


            fn org_from_row(r: &DbRow) -> StoreResult<OrgUnit> {
                let err = <$Store>::map_err;
                let code: String = r.try_get("code").map_err(err)?;
                let level: String = r.try_get("level").map_err(err)?;
                let parent: Option<String> = r.try_get("parent_code").map_err(err)?;
                let successor: Option<String> = r.try_get("successor_code").map_err(err)?;
                Ok(OrgUnit {
                    code: DivisionCode::parse(&code).map_err(|_| bad_row("区划代码"))?,
                    name: r.try_get("name").map_err(err)?,
                    level: OrgLevel::parse(&level).ok_or_else(|| bad_row("层级"))?,
                    parent_code: parent.map(|p| DivisionCode::parse(&p)).transpose().map_err(|_| bad_row("区划代码"))?,
                    path: OrgPath::from_stored(r.try_get("path").map_err(err)?),
                    valid_to: r.try_get("valid_to").map_err(err)?,
                    successor_code: successor
                        .map(|p| DivisionCode::parse(&p))
                        .transpose()
                        .map_err(|_| bad_row("区划代码"))?,
                    child_count: r.try_get("child_count").map_err(err)?,
                })
            }

            const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.role, u.org_code, o.path AS org_path, \
                 u.active, u.password_hash, u.failed_logins, u.locked_until \
                 FROM users u JOIN org_units o ON o.code = u.org_code";

            fn user_from_row(r: &DbRow) -> StoreResult<User> {
                let err = <$Store>::map_err;
                let role: String = r.try_get("role").map_err(err)?;
                let org: String = r.try_get("org_code").map_err(err)?;
                Ok(User {
                    id: r.try_get("id").map_err(err)?,
                    username: r.try_get("username").map_err(err)?,
                    display_name: r.try_get("display_name").map_err(err)?,
                    role: Role::parse(&role).ok_or_else(|| bad_row("角色"))?,
                    org_code: DivisionCode::parse(&org).map_err(|_| bad_row("区划代码"))?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    active: r.try_get("active").map_err(err)?,
                })
            }

            fn audit_from_row(r: &DbRow) -> StoreResult<AuditEntry> {
                let err = <$Store>::map_err;
                Ok(AuditEntry {
                    id: r.try_get("id").map_err(err)?,
                    at: r.try_get("at").map_err(err)?,
                    actor_id: r.try_get("actor_id").map_err(err)?,
                    actor_name: r.try_get("actor_name").map_err(err)?,
                    ip: r.try_get("ip").map_err(err)?,
                    action: r.try_get("action").map_err(err)?,
                    entity: r.try_get("entity").map_err(err)?,
                    entity_id: r.try_get("entity_id").map_err(err)?,
                    scope_path: r.try_get("scope_path").map_err(err)?,
                    old_value: r.try_get("old_value").map_err(err)?,
                    new_value: r.try_get("new_value").map_err(err)?,
                    prev_hash: r.try_get("prev_hash").map_err(err)?,
                    hash: r.try_get("hash").map_err(err)?,
                })
            }

            fn forbid_outside(actor: &Actor, path: &OrgPath) -> StoreResult<()> {
                if actor.scope.contains(path) { Ok(()) } else { Err(StoreError::NotFound) }
            }

            impl $Store {
                /// Appends one audit row inside the caller's write transaction.
                pub(crate) async fn audit(tx: &mut Tx, actor: &Actor, rec: AuditRecord) -> StoreResult<()> {
                    let err = <$Store>::map_err;
                    let head = ::sqlx::query(<$Store>::LOCK_AUDIT_HEAD).fetch_one(&mut **tx).await.map_err(err)?;
                    let last_id: i64 = head.try_get("last_id").map_err(err)?;
                    let last_hash: String = head.try_get("last_hash").map_err(err)?;
                    let mut e = AuditEntry {
                        id: last_id + 1,
                        at: AuditEntry::format_time(Utc::now()),
                        actor_id: actor.user_id,
                        actor_name: actor.username.clone(),
                        ip: actor.ip.clone(),
                        action: rec.action.to_string(),
                        entity: rec.entity.to_string(),
                        entity_id: rec.entity_id,
                        scope_path: rec.scope_path,
                        old_value: rec.old_value.map(|v| v.to_string()),
                        new_value: rec.new_value.map(|v| v.to_string()),
                        prev_hash: last_hash.clone(),
                        hash: String::new(),
                    };
                    e.hash = e.compute_hash(&last_hash);
                    ::sqlx::query(
                        "INSERT INTO audit_log (id, at, actor_id, actor_name, ip, action, entity, entity_id, scope_path, \
                         old_value, new_value, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
                    )
                    .bind(e.id)
                    .bind(&e.at)
                    .bind(e.actor_id)
                    .bind(&e.actor_name)
                    .bind(&e.ip)
                    .bind(&e.action)
                    .bind(&e.entity)
                    .bind(&e.entity_id)
                    .bind(&e.scope_path)
                    .bind(&e.old_value)
                    .bind(&e.new_value)
                    .bind(&e.prev_hash)
                    .bind(&e.hash)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                    ::sqlx::query("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1")
                        .bind(e.id)
                        .bind(&e.hash)
                        .execute(&mut **tx)
                        .await
                        .map_err(err)?;
                    Ok(())
                }

                async fn org_in_tx(tx: &mut Tx, code: &str) -> StoreResult<OrgUnit> {
                    let row = ::sqlx::query(q(format!("SELECT {ORG_COLUMNS} FROM org_units o WHERE o.code = $1")))
                        .bind(code)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(<$Store>::map_err)?
                        .ok_or(StoreError::NotFound)?;
                    org_from_row(&row)
                }

                async fn org_event(
                    tx: &mut Tx,
                    code: &DivisionCode,
                    kind: OrgEventKind,
                    effective: NaiveDate,
                    detail: &str,
                    other: Option<&DivisionCode>,
                ) -> StoreResult<()> {
                    ::sqlx::query(
                        "INSERT INTO org_events (code, kind, effective, detail, other_code, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(code.as_str())
                    .bind(kind.as_str())
                    .bind(effective)
                    .bind(detail)
                    .bind(other.map(|c| c.as_str().to_string()))
                    .bind(Utc::now())
                    .execute(&mut **tx)
                    .await
                    .map_err(<$Store>::map_err)?;
                    Ok(())
                }

                /// Re-roots the subtree at `old` under `new`, in one statement.
                async fn move_subtree(tx: &mut Tx, old: &OrgPath, new: &OrgPath) -> StoreResult<()> {
                    ::sqlx::query(
                        "UPDATE org_units SET path = $1 || substr(path, $2) WHERE path >= $3 AND path < $4",
                    )
                    .bind(new.as_str())
                    .bind(old.as_str().len() as i32 + 1)
                    .bind(old.as_str())
                    .bind(old.upper_bound())
                    .execute(&mut **tx)
                    .await
                    .map_err(<$Store>::map_err)?;
                    Ok(())
                }

                async fn insert_units(tx: &mut Tx, rows: &[(String, String, &'static str, Option<String>, String)]) -> StoreResult<()> {
                    for chunk in rows.chunks(INSERT_CHUNK) {
                        let mut b = ::sqlx::QueryBuilder::<$DB>::new(
                            "INSERT INTO org_units (code, name, level, parent_code, path) ",
                        );
                        b.push_values(chunk, |mut r, (code, name, level, parent, path)| {
                            r.push_bind(code.clone())
                                .push_bind(name.clone())
                                .push_bind(*level)
                                .push_bind(parent.clone())
                                .push_bind(path.clone());
                        });
                        b.build().execute(&mut **tx).await.map_err(<$Store>::map_err)?;
                    }
                    Ok(())
                }
            }

            #[::async_trait::async_trait]
            impl $crate::Store for $Store {
                fn backend(&self) -> &'static str {
                    <$Store>::BACKEND
                }

                async fn migrate(&self) -> StoreResult<()> {
                    self.run_migrations(i64::MAX).await?;
                    // Programs are data; the seeded ones appear once and stay as admins edit them.
                    self.seed_programs().await
                }

                async fn migrate_to(&self, version: i64) -> StoreResult<()> {
                    self.run_migrations(version).await
                }

                async fn close(&self) -> StoreResult<()> {
                    <$Store>::close_pools(self).await
                }

                fn known_migrations(&self) -> Vec<(i64, &'static str)> {
                    <$Store>::MIGRATIONS.iter().map(|(v, name, _)| (*v, *name)).collect()
                }

                async fn schema_version(&self) -> StoreResult<i64> {
                    let row = ::sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
                        .fetch_one(self.read())
                        .await
                        .map_err(<$Store>::map_err)?;
                    row.try_get("v").map_err(<$Store>::map_err)
                }

                async fn import_org_units(&self, actor: &Actor, units: &[NewOrgUnit]) -> StoreResult<OrgImportSummary> {
                    if actor.scope.path != OrgPath::root() {
                        return Err(StoreError::Forbidden("只有系统管理员可以导入区划".into()));
                    }
                    // Everything already in the tree, to diff against: one scan beats 665k lookups.
                    let mut existing: HashMap<String, (String, Option<String>, String)> = HashMap::new();
                    {
                        use ::futures_util::TryStreamExt as _;
                        let mut rows = ::sqlx::query("SELECT code, name, parent_code, path FROM org_units").fetch(self.read());
                        while let Some(r) = rows.try_next().await.map_err(<$Store>::map_err)? {
                            let code: String = r.try_get("code").map_err(<$Store>::map_err)?;
                            existing.insert(
                                code,
                                (
                                    r.try_get("name").map_err(<$Store>::map_err)?,
                                    r.try_get("parent_code").map_err(<$Store>::map_err)?,
                                    r.try_get("path").map_err(<$Store>::map_err)?,
                                ),
                            );
                        }
                    }
                    let plan = $crate::org_import::plan(units, &existing)?;
                    let summary = plan.summary.clone();
                    if plan.is_empty() {
                        return Ok(summary);
                    }
                    let mut tx = self.begin_write().await?;
                    <$Store>::insert_units(&mut tx, &plan.inserts).await?;
                    let today = Utc::now().date_naive();
                    for (code, old_name, new_name) in &plan.renames {
                        ::sqlx::query("UPDATE org_units SET name = $1 WHERE code = $2")
                            .bind(new_name)
                            .bind(code.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(<$Store>::map_err)?;
                        <$Store>::org_event(&mut tx, code, OrgEventKind::Rename, today, &format!("{old_name} → {new_name}"), None).await?;
                    }
                    for (code, parent, old_path, new_path) in &plan.moves {
                        ::sqlx::query("UPDATE org_units SET parent_code = $1 WHERE code = $2")
                            .bind(parent.as_str())
                            .bind(code.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(<$Store>::map_err)?;
                        <$Store>::move_subtree(&mut tx, old_path, new_path).await?;
                        <$Store>::org_event(&mut tx, code, OrgEventKind::Move, today, &format!("改隶 {parent}"), Some(parent)).await?;
                    }
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "import",
                            entity: "org_unit",
                            entity_id: "*".into(),
                            scope_path: "/".into(),
                            old_value: None,
                            new_value: Some(::serde_json::to_value(&summary).unwrap_or_default()),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)?;
                    Ok(summary)
                }

                async fn org_unit(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<OrgUnit> {
                    let row = ::sqlx::query(q(format!(
                        "SELECT {ORG_COLUMNS} FROM org_units o WHERE o.code = $1 AND o.path >= $2 AND o.path < $3"
                    )))
                    .bind(code.as_str())
                    .bind(scope.path.as_str())
                    .bind(scope.path.upper_bound())
                    .fetch_optional(self.read())
                    .await
                    .map_err(<$Store>::map_err)?
                    .ok_or(StoreError::NotFound)?;
                    org_from_row(&row)
                }

                async fn resolve_org_unit(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<OrgUnit> {
                    let mut unit = self.org_unit(scope, code).await?;
                    for _ in 0..16 {
                        match unit.successor_code.clone() {
                            Some(next) => unit = self.org_unit(scope, &next).await?,
                            None => return Ok(unit),
                        }
                    }
                    Err(StoreError::invalid("区划合并链过长，可能存在循环"))
                }

                async fn org_children(&self, scope: &Scope, parent: Option<&DivisionCode>) -> StoreResult<Vec<OrgUnit>> {
                    let rows = match parent {
                        Some(p) => {
                            self.org_unit(scope, p).await?;
                            ::sqlx::query(q(format!(
                                "SELECT {ORG_COLUMNS} FROM org_units o WHERE o.parent_code = $1 AND o.valid_to IS NULL \
                                 AND o.path >= $2 AND o.path < $3 ORDER BY o.code"
                            )))
                            .bind(p.as_str())
                            .bind(scope.path.as_str())
                            .bind(scope.path.upper_bound())
                            .fetch_all(self.read())
                            .await
                        }
                        None if scope.path == OrgPath::root() => {
                            ::sqlx::query(q(format!(
                                "SELECT {ORG_COLUMNS} FROM org_units o WHERE o.parent_code IS NULL AND o.valid_to IS NULL ORDER BY o.code"
                            )))
                            .fetch_all(self.read())
                            .await
                        }
                        None => {
                            ::sqlx::query(q(format!("SELECT {ORG_COLUMNS} FROM org_units o WHERE o.path = $1")))
                                .bind(scope.path.as_str())
                                .fetch_all(self.read())
                                .await
                        }
                    }
                    .map_err(<$Store>::map_err)?;
                    rows.iter().map(org_from_row).collect()
                }

                async fn org_subtree(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<Vec<OrgUnit>> {
                    let root = self.org_unit(scope, code).await?;
                    let rows = ::sqlx::query(q(format!(
                        "SELECT {ORG_COLUMNS} FROM org_units o WHERE o.path >= $1 AND o.path < $2 AND o.valid_to IS NULL ORDER BY o.path"
                    )))
                    .bind(root.path.as_str())
                    .bind(root.path.upper_bound())
                    .fetch_all(self.read())
                    .await
                    .map_err(<$Store>::map_err)?;
                    rows.iter().map(org_from_row).collect()
                }

                async fn org_search(&self, scope: &Scope, query: &str, limit: u32) -> StoreResult<Vec<OrgUnit>> {
                    let query = query.trim();
                    if query.is_empty() {
                        return Ok(Vec::new());
                    }
                    let pattern = like_escape(query);
                    let rows = ::sqlx::query(q(format!(
                        "SELECT {ORG_COLUMNS} FROM org_units o WHERE (o.name LIKE $1 ESCAPE '\\' OR o.code LIKE $2 ESCAPE '\\') \
                         AND o.path >= $3 AND o.path < $4 ORDER BY length(o.code), o.code LIMIT $5"
                    )))
                    .bind(format!("%{pattern}%"))
                    .bind(format!("{pattern}%"))
                    .bind(scope.path.as_str())
                    .bind(scope.path.upper_bound())
                    .bind(i64::from(limit.min(500)))
                    .fetch_all(self.read())
                    .await
                    .map_err(<$Store>::map_err)?;
                    rows.iter().map(org_from_row).collect()
                }

                async fn org_count(&self, scope: &Scope) -> StoreResult<u64> {
                    let row = ::sqlx::query("SELECT COUNT(*) AS n FROM org_units WHERE path >= $1 AND path < $2")
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_one(self.read())
                        .await
                        .map_err(<$Store>::map_err)?;
                    let n: i64 = row.try_get("n").map_err(<$Store>::map_err)?;
                    Ok(n as u64)
                }

                async fn org_history(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<Vec<OrgEvent>> {
                    self.org_unit(scope, code).await?;
                    let rows = ::sqlx::query(
                        "SELECT code, kind, effective, detail, other_code FROM org_events WHERE code = $1 ORDER BY effective, id",
                    )
                    .bind(code.as_str())
                    .fetch_all(self.read())
                    .await
                    .map_err(<$Store>::map_err)?;
                    rows.iter()
                        .map(|r| {
                            let err = <$Store>::map_err;
                            let kind: String = r.try_get("kind").map_err(err)?;
                            let other: Option<String> = r.try_get("other_code").map_err(err)?;
                            Ok(OrgEvent {
                                code: code.clone(),
                                kind: OrgEventKind::parse(&kind).ok_or_else(|| bad_row("事件类型"))?,
                                effective: r.try_get("effective").map_err(err)?,
                                detail: r.try_get("detail").map_err(err)?,
                                other_code: other.and_then(|c| DivisionCode::parse(&c).ok()),
                            })
                        })
                        .collect()
                }

                async fn add_grid(&self, actor: &Actor, village: &DivisionCode, name: &str) -> StoreResult<OrgUnit> {
                    let name = $crate::org_import::check_name(name)?;
                    let mut tx = self.begin_write().await?;
                    // Locks the village's row (PostgreSQL) so that two grids added at once
                    // are numbered one after the other instead of both taking the next number.
                    ::sqlx::query("UPDATE org_units SET name = name WHERE code = $1")
                        .bind(village.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    let v = <$Store>::org_in_tx(&mut tx, village.as_str()).await?;
                    forbid_outside(actor, &v.path)?;
                    if v.level != OrgLevel::Village || !v.is_active() {
                        return Err(StoreError::invalid(format!("“{}”不是现行的村/社区，不能在其下设网格", v.name)));
                    }
                    let last: Option<String> = ::sqlx::query(
                        "SELECT MAX(code) AS m FROM org_units WHERE parent_code = $1",
                    )
                    .bind(village.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .and_then(|r| r.try_get("m"))
                    .map_err(<$Store>::map_err)?;
                    let next = last.map(|c| c[12..].parse::<u16>().unwrap_or(0) + 1).unwrap_or(1);
                    let code = village.grid(next).ok_or_else(|| StoreError::invalid("该村网格编号已满（最多 999 个）"))?;
                    let path = v.path.child(&code);
                    <$Store>::insert_units(
                        &mut tx,
                        &[(code.to_string(), name.clone(), OrgLevel::Grid.as_str(), Some(village.to_string()), path.to_string())],
                    )
                    .await?;
                    let today = Utc::now().date_naive();
                    <$Store>::org_event(&mut tx, &code, OrgEventKind::Create, today, &name, Some(village)).await?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "create",
                            entity: "org_unit",
                            entity_id: code.to_string(),
                            scope_path: path.to_string(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({"code": code.as_str(), "name": name, "parent": village.as_str()})),
                        },
                    )
                    .await?;
                    let unit = <$Store>::org_in_tx(&mut tx, code.as_str()).await?;
                    tx.commit().await.map_err(<$Store>::map_err)?;
                    Ok(unit)
                }

                async fn rename_org_unit(&self, actor: &Actor, code: &DivisionCode, name: &str, effective: NaiveDate) -> StoreResult<OrgUnit> {
                    let name = $crate::org_import::check_name(name)?;
                    let mut tx = self.begin_write().await?;
                    let old = <$Store>::org_in_tx(&mut tx, code.as_str()).await?;
                    forbid_outside(actor, &old.path)?;
                    if old.name == name {
                        return Ok(old);
                    }
                    ::sqlx::query("UPDATE org_units SET name = $1 WHERE code = $2")
                        .bind(&name)
                        .bind(code.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    <$Store>::org_event(&mut tx, code, OrgEventKind::Rename, effective, &format!("{} → {}", old.name, name), None).await?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "update",
                            entity: "org_unit",
                            entity_id: code.to_string(),
                            scope_path: old.path.to_string(),
                            old_value: Some(::serde_json::json!({"name": old.name})),
                            new_value: Some(::serde_json::json!({"name": name, "effective": effective})),
                        },
                    )
                    .await?;
                    let unit = <$Store>::org_in_tx(&mut tx, code.as_str()).await?;
                    tx.commit().await.map_err(<$Store>::map_err)?;
                    Ok(unit)
                }

                async fn merge_org_units(&self, actor: &Actor, from: &DivisionCode, into: &DivisionCode, effective: NaiveDate) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let f = <$Store>::org_in_tx(&mut tx, from.as_str()).await?;
                    let t = <$Store>::org_in_tx(&mut tx, into.as_str()).await?;
                    forbid_outside(actor, &f.path)?;
                    forbid_outside(actor, &t.path)?;
                    if f.code == t.code || f.level != t.level {
                        return Err(StoreError::invalid("只能合并到同一层级的另一个单位"));
                    }
                    if !f.is_active() || !t.is_active() {
                        return Err(StoreError::invalid("已撤销的单位不能再合并"));
                    }
                    let children = ::sqlx::query("SELECT code, path FROM org_units WHERE parent_code = $1 AND valid_to IS NULL")
                        .bind(from.as_str())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    for c in &children {
                        let code: String = c.try_get("code").map_err(<$Store>::map_err)?;
                        let old_path = OrgPath::from_stored(c.try_get("path").map_err(<$Store>::map_err)?);
                        let child = DivisionCode::parse(&code).map_err(|_| bad_row("区划代码"))?;
                        <$Store>::move_subtree(&mut tx, &old_path, &t.path.child(&child)).await?;
                        ::sqlx::query("UPDATE org_units SET parent_code = $1 WHERE code = $2")
                            .bind(into.as_str())
                            .bind(&code)
                            .execute(&mut *tx)
                            .await
                            .map_err(<$Store>::map_err)?;
                    }
                    ::sqlx::query("UPDATE org_units SET valid_to = $1, successor_code = $2 WHERE code = $3")
                        .bind(effective)
                        .bind(into.as_str())
                        .bind(from.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    let detail = format!("{} 并入 {}", f.name, t.name);
                    <$Store>::org_event(&mut tx, from, OrgEventKind::Merge, effective, &detail, Some(into)).await?;
                    <$Store>::org_event(&mut tx, into, OrgEventKind::Merge, effective, &detail, Some(from)).await?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "merge",
                            entity: "org_unit",
                            entity_id: from.to_string(),
                            scope_path: f.path.to_string(),
                            old_value: Some(::serde_json::json!({"code": from.as_str(), "children": children.len()})),
                            new_value: Some(::serde_json::json!({"into": into.as_str(), "effective": effective})),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)
                }

                async fn split_org_unit(
                    &self,
                    actor: &Actor,
                    from: &DivisionCode,
                    new_code: &DivisionCode,
                    new_name: &str,
                    children: &[DivisionCode],
                    effective: NaiveDate,
                ) -> StoreResult<OrgUnit> {
                    let new_name = $crate::org_import::check_name(new_name)?;
                    let mut tx = self.begin_write().await?;
                    let f = <$Store>::org_in_tx(&mut tx, from.as_str()).await?;
                    forbid_outside(actor, &f.path)?;
                    if new_code.level() != f.level {
                        return Err(StoreError::invalid(format!("新单位代码“{new_code}”与“{}”不在同一层级", f.name)));
                    }
                    if <$Store>::org_in_tx(&mut tx, new_code.as_str()).await.is_ok() {
                        return Err(StoreError::Conflict(format!("区划代码“{new_code}”已被使用")));
                    }
                    let parent_path = match &f.parent_code {
                        Some(p) => <$Store>::org_in_tx(&mut tx, p.as_str()).await?.path,
                        None => OrgPath::root(),
                    };
                    let path = parent_path.child(new_code);
                    forbid_outside(actor, &path)?;
                    <$Store>::insert_units(
                        &mut tx,
                        &[(
                            new_code.to_string(),
                            new_name.clone(),
                            f.level.as_str(),
                            f.parent_code.as_ref().map(|c| c.to_string()),
                            path.to_string(),
                        )],
                    )
                    .await?;
                    for child in children {
                        let c = <$Store>::org_in_tx(&mut tx, child.as_str()).await?;
                        if c.parent_code.as_ref() != Some(from) || !c.is_active() {
                            return Err(StoreError::invalid(format!("“{}”不是“{}”的下级单位", c.name, f.name)));
                        }
                        <$Store>::move_subtree(&mut tx, &c.path, &path.child(child)).await?;
                        ::sqlx::query("UPDATE org_units SET parent_code = $1 WHERE code = $2")
                            .bind(new_code.as_str())
                            .bind(child.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(<$Store>::map_err)?;
                    }
                    let detail = format!("自 {} 析出 {}（{} 个下级单位）", f.name, new_name, children.len());
                    <$Store>::org_event(&mut tx, from, OrgEventKind::Split, effective, &detail, Some(new_code)).await?;
                    <$Store>::org_event(&mut tx, new_code, OrgEventKind::Split, effective, &detail, Some(from)).await?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "split",
                            entity: "org_unit",
                            entity_id: new_code.to_string(),
                            scope_path: path.to_string(),
                            old_value: Some(::serde_json::json!({"from": from.as_str()})),
                            new_value: Some(::serde_json::json!({
                                "code": new_code.as_str(), "name": new_name, "effective": effective,
                                "children": children.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                            })),
                        },
                    )
                    .await?;
                    let unit = <$Store>::org_in_tx(&mut tx, new_code.as_str()).await?;
                    tx.commit().await.map_err(<$Store>::map_err)?;
                    Ok(unit)
                }

                async fn create_user(&self, actor: &Actor, user: NewUser) -> StoreResult<User> {
                    let username = user.username.trim().to_string();
                    if username.is_empty() || username.chars().count() > 64 || username.chars().any(|c| c.is_control() || c.is_whitespace()) {
                        return Err(StoreError::invalid("用户名须为 1-64 个字符，且不含空格"));
                    }
                    let display_name = $crate::org_import::check_name(&user.display_name)?;
                    let mut tx = self.begin_write().await?;
                    let org = <$Store>::org_in_tx(&mut tx, user.org_code.as_str())
                        .await
                        .map_err(|_| StoreError::invalid(format!("所属单位“{}”不存在", user.org_code)))?;
                    forbid_outside(actor, &org.path)?;
                    let taken = ::sqlx::query("SELECT id FROM users WHERE username = $1")
                        .bind(&username)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    if taken.is_some() {
                        return Err(StoreError::Conflict(format!("用户名“{username}”已存在")));
                    }
                    let id: i64 = ::sqlx::query(
                        "INSERT INTO users (username, display_name, role, org_code, password_hash, active, failed_logins, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, 0, $7) RETURNING id",
                    )
                    .bind(&username)
                    .bind(&display_name)
                    .bind(user.role.as_str())
                    .bind(user.org_code.as_str())
                    .bind(&user.password_hash)
                    .bind(true)
                    .bind(Utc::now())
                    .fetch_one(&mut *tx)
                    .await
                    .and_then(|r| r.try_get("id"))
                    .map_err(<$Store>::map_err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "create",
                            entity: "user",
                            entity_id: id.to_string(),
                            scope_path: org.path.to_string(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({
                                "username": username, "display_name": display_name,
                                "role": user.role.as_str(), "org": user.org_code.as_str(),
                            })),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)?;
                    self.user(&Scope::all(), id).await
                }

                async fn user(&self, scope: &Scope, id: i64) -> StoreResult<User> {
                    let row = ::sqlx::query(q(format!("{USER_SELECT} WHERE u.id = $1 AND o.path >= $2 AND o.path < $3")))
                        .bind(id)
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_optional(self.read())
                        .await
                        .map_err(<$Store>::map_err)?
                        .ok_or(StoreError::NotFound)?;
                    user_from_row(&row)
                }

                async fn list_users(&self, scope: &Scope) -> StoreResult<Vec<User>> {
                    let rows = ::sqlx::query(q(format!("{USER_SELECT} WHERE o.path >= $1 AND o.path < $2 ORDER BY o.path, u.username")))
                        .bind(scope.path.as_str())
                        .bind(scope.path.upper_bound())
                        .fetch_all(self.read())
                        .await
                        .map_err(<$Store>::map_err)?;
                    rows.iter().map(user_from_row).collect()
                }

                async fn set_user_active(&self, actor: &Actor, id: i64, active: bool) -> StoreResult<User> {
                    let before = self.user(&actor.scope, id).await?;
                    if actor.user_id == Some(id) && !active {
                        return Err(StoreError::invalid("不能停用自己的账号"));
                    }
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                        .bind(active)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    if !active {
                        ::sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await.map_err(<$Store>::map_err)?;
                    }
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "update",
                            entity: "user",
                            entity_id: id.to_string(),
                            scope_path: before.org_path.to_string(),
                            old_value: Some(::serde_json::json!({"active": before.active})),
                            new_value: Some(::serde_json::json!({"active": active})),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)?;
                    self.user(&actor.scope, id).await
                }

                async fn set_password(&self, actor: &Actor, id: i64, password_hash: &str) -> StoreResult<()> {
                    let user = self.user(&actor.scope, id).await?;
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query("UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2")
                        .bind(password_hash)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    ::sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await.map_err(<$Store>::map_err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "set_password",
                            entity: "user",
                            entity_id: id.to_string(),
                            scope_path: user.org_path.to_string(),
                            old_value: None,
                            new_value: None,
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)
                }

                async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
                    let row = ::sqlx::query(q(format!("{USER_SELECT} WHERE u.username = $1")))
                        .bind(username.trim())
                        .fetch_optional(self.read())
                        .await
                        .map_err(<$Store>::map_err)?;
                    let Some(row) = row else { return Ok(None) };
                    let err = <$Store>::map_err;
                    Ok(Some(Credentials {
                        user: user_from_row(&row)?,
                        password_hash: row.try_get("password_hash").map_err(err)?,
                        failed_logins: row.try_get("failed_logins").map_err(err)?,
                        locked_until: row.try_get("locked_until").map_err(err)?,
                    }))
                }

                async fn record_login_failure(&self, username: &str, ip: Option<&str>, max: i64, lock_until: DateTime<Utc>) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let row = ::sqlx::query(q(format!("{USER_SELECT} WHERE u.username = $1")))
                        .bind(username.trim())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    let (user_id, path, failures) = match &row {
                        Some(r) => {
                            let failures: i64 = r.try_get("failed_logins").map_err(<$Store>::map_err)?;
                            let u = user_from_row(r)?;
                            (Some(u.id), u.org_path.to_string(), failures + 1)
                        }
                        None => (None, "/".to_string(), 0),
                    };
                    let locked = user_id.is_some() && failures >= max;
                    if let Some(id) = user_id {
                        ::sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
                            .bind(if locked { 0 } else { failures })
                            .bind(if locked { Some(lock_until) } else { None })
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(<$Store>::map_err)?;
                    }
                    let actor = Actor {
                        user_id,
                        username: username.trim().chars().take(64).collect(),
                        role: None,
                        ip: ip.map(str::to_string),
                        scope: Scope::all(),
                    };
                    <$Store>::audit(
                        &mut tx,
                        &actor,
                        AuditRecord {
                            action: if locked { "login_locked" } else { "login_failed" },
                            entity: "user",
                            entity_id: user_id.map(|i| i.to_string()).unwrap_or_default(),
                            scope_path: path,
                            old_value: None,
                            new_value: Some(::serde_json::json!({"failures": failures, "locked_until": locked.then_some(lock_until)})),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)
                }

                async fn create_session(&self, user_id: i64, ip: Option<&str>, token_hash: &str, csrf_token: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
                    let user = self.user(&Scope::all(), user_id).await?;
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(token_hash)
                        .bind(user_id)
                        .bind(csrf_token)
                        .bind(Utc::now())
                        .bind(expires_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    ::sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    ::sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(Utc::now()).execute(&mut *tx).await.map_err(<$Store>::map_err)?;
                    let actor = Actor {
                        user_id: Some(user.id),
                        username: user.username.clone(),
                        role: Some(user.role),
                        ip: ip.map(str::to_string),
                        scope: user.scope(),
                    };
                    <$Store>::audit(
                        &mut tx,
                        &actor,
                        AuditRecord {
                            action: "login",
                            entity: "user",
                            entity_id: user.id.to_string(),
                            scope_path: user.org_path.to_string(),
                            old_value: None,
                            new_value: None,
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)
                }

                async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Session>> {
                    let row = ::sqlx::query(q(format!(
                        "{} , s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
                         JOIN org_units o ON o.code = u.org_code WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = $3",
                        USER_SELECT.split(" FROM ").next().unwrap_or_default()
                    )))
                    .bind(token_hash)
                    .bind(now)
                    .bind(true)
                    .fetch_optional(self.read())
                    .await
                    .map_err(<$Store>::map_err)?;
                    let Some(row) = row else { return Ok(None) };
                    Ok(Some(Session {
                        user: user_from_row(&row)?,
                        csrf_token: row.try_get("csrf_token").map_err(<$Store>::map_err)?,
                        expires_at: row.try_get("expires_at").map_err(<$Store>::map_err)?,
                    }))
                }

                async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                    let Some(session) = self.session(token_hash, Utc::now()).await? else { return Ok(()) };
                    let user = session.user;
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(<$Store>::map_err)?;
                    let actor = Actor { user_id: Some(user.id), username: user.username.clone(), role: Some(user.role), ip: None, scope: user.scope() };
                    <$Store>::audit(
                        &mut tx,
                        &actor,
                        AuditRecord {
                            action: "logout",
                            entity: "user",
                            entity_id: user.id.to_string(),
                            scope_path: user.org_path.to_string(),
                            old_value: None,
                            new_value: None,
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(<$Store>::map_err)
                }

                async fn audit_list(&self, scope: &Scope, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
                    let mut b = ::sqlx::QueryBuilder::<$DB>::new("SELECT * FROM audit_log WHERE scope_path >= ");
                    b.push_bind(scope.path.to_string());
                    b.push(" AND scope_path < ");
                    b.push_bind(scope.path.upper_bound());
                    if let Some(v) = &filter.entity {
                        b.push(" AND entity = ").push_bind(v.clone());
                    }
                    if let Some(v) = &filter.entity_id {
                        b.push(" AND entity_id = ").push_bind(v.clone());
                    }
                    if let Some(v) = &filter.actor {
                        b.push(" AND actor_name = ").push_bind(v.clone());
                    }
                    if let Some(v) = &filter.action {
                        b.push(" AND action = ").push_bind(v.clone());
                    }
                    if let Some(v) = &filter.since {
                        b.push(" AND at >= ").push_bind(v.clone());
                    }
                    if let Some(v) = &filter.until {
                        b.push(" AND at < ").push_bind(v.clone());
                    }
                    if let Some(v) = filter.before_id {
                        b.push(" AND id < ").push_bind(v);
                    }
                    b.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(filter.limit.clamp(1, 1000)));
                    let rows = b.build().fetch_all(self.read()).await.map_err(<$Store>::map_err)?;
                    rows.iter().map(audit_from_row).collect()
                }

                async fn audit_verify(&self) -> StoreResult<VerifyReport> {
                    use ::futures_util::TryStreamExt as _;
                    let mut hasher = AuditHasher::default();
                    let mut rows = ::sqlx::query("SELECT * FROM audit_log ORDER BY id").fetch(self.read());
                    while let Some(r) = rows.try_next().await.map_err(<$Store>::map_err)? {
                        let e = audit_from_row(&r)?;
                        if let Err(b) = hasher.feed(&e) {
                            return Ok(VerifyReport { rows: hasher.rows(), first_break: Some(b) });
                        }
                    }
                    drop(rows);
                    let head = ::sqlx::query("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
                        .fetch_optional(self.read())
                        .await
                        .map_err(<$Store>::map_err)?;
                    let head = match head {
                        Some(r) => Some((
                            r.try_get("last_id").map_err(<$Store>::map_err)?,
                            r.try_get("last_hash").map_err(<$Store>::map_err)?,
                        )),
                        None => None,
                    };
                    Ok(hasher.finish(head))
                }

                async fn data_version(&self) -> StoreResult<i64> {
                    let v: Option<i64> = ::sqlx::query_scalar("SELECT last_id FROM audit_head WHERE id = 1")
                        .fetch_optional(self.read())
                        .await
                        .map_err(<$Store>::map_err)?;
                    Ok(v.unwrap_or(0))
                }

                async fn backup(&self, out: &::std::path::Path) -> StoreResult<()> {
                    self.backup_to(out).await
                }
            }

            impl $Store {
                async fn run_migrations(&self, up_to: i64) -> StoreResult<()> {
                    let err = <$Store>::map_err;
                    self.check_ours().await?;
                    let mut tx = self.begin_write().await?;
                    ::sqlx::query(
                        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    let applied: Vec<i64> = ::sqlx::query("SELECT version FROM schema_migrations")
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?
                        .iter()
                        .map(|r| r.try_get::<i64, _>("version"))
                        .collect::<Result<_, _>>()
                        .map_err(err)?;
                    for (version, name, sql) in <$Store>::MIGRATIONS {
                        if applied.contains(version) || *version > up_to {
                            continue;
                        }
                        ::sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(|e| {
                            StoreError::Backend(format!("迁移 {version} {name} 失败：{e}"))
                        })?;
                        ::sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                            .bind(*version)
                            .bind(*name)
                            .bind(AuditEntry::format_time(Utc::now()))
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    tx.commit().await.map_err(err)
                }
            }
        }
    };
}
