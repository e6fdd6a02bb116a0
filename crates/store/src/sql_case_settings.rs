//! The SQL of [`crate::case_settings::CaseSettingsStore`], shared by both backends like
//! [`crate::impl_case_store!`], whose module it borrows row readers and the limits lookup from.

/// SHA-256 of an Open311 key, the only form it is kept in. Keys are 32 random bytes, so a
/// plain hash is enough: there is nothing to guess.
pub fn open311_key_hash(key: &str) -> String {
    crate::sql_ledger::content_hash(key.trim().as_bytes())
}

/// A new random key: `x311_` and 32 random bytes in hex.
pub fn new_open311_key() -> crate::StoreResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| crate::StoreError::Backend(e.to_string()))?;
    Ok(format!("x311_{}", hex::encode(b)))
}

#[macro_export]
macro_rules! impl_case_settings_store {
    ($Store:ty, $DB:ty) => {
        mod __sql_case_settings {
            use super::*;
            use ::chrono::NaiveDate;
            use ::sqlx::Row as _;
            use $crate::audit::AuditRecord;
            use $crate::case::{CaseCategory, CaseQuery, CaseRules};
            use $crate::case_settings::*;
            use $crate::model::*;
            use $crate::sql::{bad_row, now_text};
            use $crate::case::CaseStore as _;
            use $crate::{Store as _, StoreError, StoreResult};
            use ::xiangzhi_domain::case::{CaseAction, DUE_SOON_DAYS, TimeLimits};
            use ::xiangzhi_domain::org::{DivisionCode, OrgLevel};
            use ::xiangzhi_domain::role::{Permission, Role};

            use super::__sql_case::{CATEGORY_SELECT, category_from_row, stored_limits};

            type Tx = ::sqlx::Transaction<'static, $DB>;

            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }
            fn q(sql: String) -> ::sqlx::AssertSqlSafe<String> {
                ::sqlx::AssertSqlSafe(sql)
            }

            /// Township roles and administrators configure cases; the system may too.
            fn may_configure(actor: &Actor) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !(r.can(Permission::TownshipReview) || r.can(Permission::ManageOrg)) => {
                        Err(StoreError::Forbidden("只有乡镇领导、乡镇业务员和系统管理员可以设置事件时限和类别".into()))
                    }
                    _ => Ok(()),
                }
            }

            /// A township or county in the actor's scope: `(code, path)`.
            async fn settings_unit(tx: &mut Tx, scope: &Scope, code: &DivisionCode) -> StoreResult<(String, String)> {
                let r = ::sqlx::query("SELECT code, path, level FROM org_units WHERE code = $1")
                    .bind(code.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                let path: String = r.try_get("path").map_err(err)?;
                if !path.starts_with(scope.path.as_str()) {
                    return Err(StoreError::NotFound);
                }
                let level: String = r.try_get("level").map_err(err)?;
                if !matches!(OrgLevel::parse(&level), Some(OrgLevel::Township | OrgLevel::County)) {
                    return Err(StoreError::invalid("事件时限和类别按乡镇（或县）设置"));
                }
                Ok((r.try_get("code").map_err(err)?, path))
            }

            async fn category_in_tx(tx: &mut Tx, code: &str) -> StoreResult<CaseCategory> {
                let r = ::sqlx::query(q(format!("{CATEGORY_SELECT} WHERE code = $1")))
                    .bind(code)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?
                    .ok_or_else(|| StoreError::invalid(format!("没有“{code}”这个事件类别")))?;
                category_from_row(&r)
            }

            fn label_of(label: &str) -> StoreResult<String> {
                match label.trim() {
                    "" => Err(StoreError::invalid("类别名称不能为空")),
                    t if t.chars().count() > 40 => Err(StoreError::invalid("类别名称过长（最多40字）")),
                    t => Ok(t.to_string()),
                }
            }

            #[::async_trait::async_trait]
            impl $crate::case_settings::CaseSettingsStore for $Store {
                async fn case_limits(&self, scope: &Scope, rules: &CaseRules, org: &DivisionCode) -> StoreResult<EffectiveLimits> {
                    let u = self.org_unit(scope, org).await?;
                    let mut conn = self.read().acquire().await.map_err(err)?;
                    Ok(match stored_limits(&mut *conn, u.path.as_str()).await? {
                        Some((code, limits)) => EffectiveLimits {
                            limits,
                            set_at: Some(DivisionCode::parse(&code).map_err(|_| bad_row("区划代码"))?),
                        },
                        None => EffectiveLimits { limits: rules.limits, set_at: None },
                    })
                }

                async fn set_case_limits(&self, actor: &Actor, org: &DivisionCode, limits: TimeLimits) -> StoreResult<()> {
                    may_configure(actor)?;
                    let mut tx = self.begin_write().await?;
                    let (code, path) = settings_unit(&mut tx, &actor.scope, org).await?;
                    let problems = limits_problems(&limits);
                    if !problems.is_empty() {
                        return Err(StoreError::invalid(problems.join("；")));
                    }
                    let old = ::sqlx::query("SELECT limits FROM case_time_limits WHERE org_code = $1")
                        .bind(&code)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .map(|r| r.try_get::<String, _>("limits"))
                        .transpose()
                        .map_err(err)?;
                    let text = ::serde_json::to_string(&limits).map_err(|e| StoreError::Backend(e.to_string()))?;
                    let now = now_text();
                    if old.is_some() {
                        ::sqlx::query("UPDATE case_time_limits SET limits = $1, updated_at = $2, updated_by = $3 WHERE org_code = $4")
                            .bind(&text)
                            .bind(&now)
                            .bind(&actor.username)
                            .bind(&code)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    } else {
                        ::sqlx::query(
                            "INSERT INTO case_time_limits (org_code, org_path, limits, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(&code)
                        .bind(&path)
                        .bind(&text)
                        .bind(&now)
                        .bind(&actor.username)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    }
                    let parse = |t: &str| ::serde_json::from_str::<::serde_json::Value>(t).ok();
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "set_limits",
                            entity: "case_time_limits",
                            entity_id: code,
                            scope_path: path,
                            old_value: old.as_deref().and_then(parse),
                            new_value: parse(&text),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)
                }

                async fn case_categories_in(&self, scope: &Scope) -> StoreResult<Vec<CaseCategory>> {
                    let rows = ::sqlx::query(q(format!(
                        "{CATEGORY_SELECT} ORDER BY COALESCE(parent_code, code), parent_code IS NOT NULL, sort, code"
                    )))
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    let s = scope.path.as_str();
                    let mut out = Vec::new();
                    for r in &rows {
                        let c = category_from_row(r)?;
                        // A township's own categories: for its people, and for those above it.
                        let visible = c.owner_path.as_deref().is_none_or(|o| s.starts_with(o) || o.starts_with(s));
                        if visible {
                            out.push(c);
                        }
                    }
                    // Children after their parents even when a township's child sorts first.
                    let mut ordered: Vec<CaseCategory> = out.iter().filter(|c| c.parent_code.is_none()).cloned().collect();
                    let mut i = 0;
                    while i < ordered.len() {
                        let code = ordered[i].code.clone();
                        let kids: Vec<CaseCategory> =
                            out.iter().filter(|c| c.parent_code.as_deref() == Some(code.as_str())).cloned().collect();
                        for (n, k) in kids.into_iter().enumerate() {
                            ordered.insert(i + 1 + n, k);
                        }
                        i += 1;
                    }
                    Ok(ordered)
                }

                async fn add_case_category(&self, actor: &Actor, org: &DivisionCode, c: NewCategory) -> StoreResult<CaseCategory> {
                    may_configure(actor)?;
                    let label = label_of(&c.label)?;
                    let mut tx = self.begin_write().await?;
                    let (code, path) = settings_unit(&mut tx, &actor.scope, org).await?;
                    let parent = category_in_tx(&mut tx, c.parent_code.trim()).await?;
                    if parent.owner_path.as_deref().is_some_and(|o| !path.starts_with(o)) {
                        return Err(StoreError::invalid(format!("没有“{}”这个事件类别", c.parent_code.trim())));
                    }
                    let taken = ::sqlx::query("SELECT code FROM case_categories WHERE parent_code = $1 AND label = $2")
                        .bind(&parent.code)
                        .bind(&label)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if taken.is_some() {
                        return Err(StoreError::Conflict(format!("“{}”下已有“{label}”", parent.label)));
                    }
                    let n: i64 = ::sqlx::query("SELECT COUNT(*) AS n FROM case_categories WHERE parent_code = $1")
                        .bind(&parent.code)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?
                        .try_get("n")
                        .map_err(err)?;
                    let new_code = format!("{}.{code}_{}", parent.code, n + 1);
                    ::sqlx::query(
                        "INSERT INTO case_categories (code, parent_code, kind, label, key_area, sort, owner_path) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&new_code)
                    .bind(&parent.code)
                    .bind(parent.kind.as_str())
                    .bind(&label)
                    .bind(c.key_area)
                    .bind(1000 + n)
                    .bind(&path)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "create",
                            entity: "case_category",
                            entity_id: new_code.clone(),
                            scope_path: path,
                            old_value: None,
                            new_value: Some(::serde_json::json!({"parent": parent.code, "label": label, "key_area": c.key_area})),
                        },
                    )
                    .await?;
                    let out = category_in_tx(&mut tx, &new_code).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(out)
                }

                async fn rename_case_category(&self, actor: &Actor, org: &DivisionCode, code: &str, label: &str) -> StoreResult<CaseCategory> {
                    may_configure(actor)?;
                    let label = label_of(label)?;
                    let mut tx = self.begin_write().await?;
                    let (_, path) = settings_unit(&mut tx, &actor.scope, org).await?;
                    let old = category_in_tx(&mut tx, code.trim()).await?;
                    if old.owner_path.as_deref() != Some(path.as_str()) {
                        return Err(StoreError::invalid("只能修改本乡镇添加的类别；内置类别全县通用"));
                    }
                    ::sqlx::query("UPDATE case_categories SET label = $1 WHERE code = $2")
                        .bind(&label)
                        .bind(&old.code)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    <$Store>::audit(
                        &mut tx,
                        actor,
                        AuditRecord {
                            action: "rename",
                            entity: "case_category",
                            entity_id: old.code.clone(),
                            scope_path: path,
                            old_value: Some(::serde_json::json!({"label": old.label})),
                            new_value: Some(::serde_json::json!({"label": label})),
                        },
                    )
                    .await?;
                    let out = category_in_tx(&mut tx, &old.code).await?;
                    tx.commit().await.map_err(err)?;
                    Ok(out)
                }

                async fn attach_case_file(&self, actor: &Actor, case_id: i64, name: &str, mime: &str, content: &[u8]) -> StoreResult<CaseAttachment> {
                    if let Some(Role::Auditor | Role::CountyApprover) = actor.role {
                        return Err(StoreError::Forbidden("该角色不能上传附件".into()));
                    }
                    let name = name.trim().rsplit(['/', '\\']).next().unwrap_or("").to_string();
                    let mut tx = self.begin_write().await?;
                    let r = ::sqlx::query("SELECT org_path FROM cases WHERE id = $1")
                        .bind(case_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let path: String = r.try_get("org_path").map_err(err)?;
                    if !path.starts_with(actor.scope.path.as_str()) {
                        return Err(StoreError::NotFound);
                    }
                    if let Some(p) = case_file_problem(&name, content.len()) {
                        return Err(StoreError::invalid(p));
                    }
                    let sha = $crate::sql_ledger::content_hash(content);
                    let now = now_text();
                    let exists = ::sqlx::query("SELECT sha256 FROM case_files WHERE sha256 = $1")
                        .bind(&sha)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                    if exists.is_none() {
                        ::sqlx::query("INSERT INTO case_files (sha256, size, content, created_at) VALUES ($1, $2, $3, $4)")
                            .bind(&sha)
                            .bind(content.len() as i64)
                            .bind(content)
                            .bind(&now)
                            .execute(&mut *tx)
                            .await
                            .map_err(err)?;
                    }
                    let mime = match mime.trim() {
                        "" => "application/octet-stream",
                        m => m,
                    };
                    let id: i64 = ::sqlx::query(
                        "INSERT INTO case_attachments (case_id, sha256, name, mime, size, uploaded_by, uploaded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(case_id)
                    .bind(&sha)
                    .bind(&name)
                    .bind(mime)
                    .bind(content.len() as i64)
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
                            action: "attach",
                            entity: "case",
                            entity_id: case_id.to_string(),
                            scope_path: path,
                            old_value: None,
                            new_value: Some(::serde_json::json!({"sha256": sha, "name": name, "size": content.len()})),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    Ok(CaseAttachment {
                        id,
                        case_id,
                        sha256: sha,
                        name,
                        mime: mime.to_string(),
                        size: content.len() as i64,
                        uploaded_by: actor.username.clone(),
                        uploaded_at: now,
                    })
                }

                async fn case_attachments(&self, scope: &Scope, case_id: i64) -> StoreResult<Vec<CaseAttachment>> {
                    // Scope first: a foreign case answers NotFound like everything else.
                    self.case(scope, case_id).await?;
                    let rows = ::sqlx::query(
                        "SELECT id, case_id, sha256, name, mime, size, uploaded_by, uploaded_at FROM case_attachments \
                         WHERE case_id = $1 ORDER BY id",
                    )
                    .bind(case_id)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    rows.iter()
                        .map(|r| {
                            Ok(CaseAttachment {
                                id: r.try_get("id").map_err(err)?,
                                case_id: r.try_get("case_id").map_err(err)?,
                                sha256: r.try_get("sha256").map_err(err)?,
                                name: r.try_get("name").map_err(err)?,
                                mime: r.try_get("mime").map_err(err)?,
                                size: r.try_get("size").map_err(err)?,
                                uploaded_by: r.try_get("uploaded_by").map_err(err)?,
                                uploaded_at: r.try_get("uploaded_at").map_err(err)?,
                            })
                        })
                        .collect()
                }

                async fn case_file(&self, scope: &Scope, sha256: &str) -> StoreResult<CaseFile> {
                    let r = ::sqlx::query(
                        "SELECT a.name, a.mime, f.content FROM case_attachments a JOIN cases c ON c.id = a.case_id \
                         JOIN case_files f ON f.sha256 = a.sha256 \
                         WHERE a.sha256 = $1 AND c.org_path >= $2 AND c.org_path < $3 ORDER BY a.id LIMIT 1",
                    )
                    .bind(sha256)
                    .bind(scope.path.as_str())
                    .bind(scope.path.upper_bound())
                    .fetch_optional(self.read())
                    .await
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                    Ok(CaseFile {
                        name: r.try_get("name").map_err(err)?,
                        mime: r.try_get("mime").map_err(err)?,
                        content: r.try_get("content").map_err(err)?,
                    })
                }

                async fn remind_due_cases(&self, actor: &Actor, rules: &CaseRules, today: NaiveDate) -> StoreResult<Vec<i64>> {
                    if let Some(r) = actor.role
                        && !matches!(r, Role::Admin | Role::TownshipLeader | Role::CountyApprover)
                    {
                        return Err(StoreError::Forbidden("只有领导可以批量催办".into()));
                    }
                    let due = <Self as $crate::case::CaseStore>::cases(
                        self,
                        &actor.scope,
                        &CaseQuery {
                            open_only: true,
                            due_by: Some(today + ::chrono::Duration::days(i64::from(DUE_SOON_DAYS))),
                            limit: 5000,
                            ..Default::default()
                        },
                    )
                    .await?;
                    let done_today: Vec<i64> = ::sqlx::query("SELECT case_id FROM case_events WHERE kind = 'remind' AND on_date = $1")
                        .bind(today)
                        .fetch_all(self.read())
                        .await
                        .map_err(err)?
                        .iter()
                        .map(|r| r.try_get("case_id"))
                        .collect::<Result<_, _>>()
                        .map_err(err)?;
                    let mut out = Vec::new();
                    for c in due.iter().rev() {
                        if done_today.contains(&c.id) {
                            continue;
                        }
                        let note = c.due_status(today).label();
                        match self.act_noted(actor, rules, c.id, &CaseAction::Remind, today, Some(c.version), Some(&note)).await {
                            Ok(_) => out.push(c.id),
                            // Someone acted on it meanwhile, or it sits above the actor's
                            // tier: the next run sees it again.
                            Err(StoreError::Conflict(_) | StoreError::Invalid(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(out)
                }

                async fn add_open311_key(&self, actor: &Actor, label: &str) -> StoreResult<String> {
                    if actor.role.is_some_and(|r| !r.can(Permission::ManageUsers)) {
                        return Err(StoreError::Forbidden("只有系统管理员可以发放接口密钥".into()));
                    }
                    let label = match label.trim() {
                        "" => return Err(StoreError::invalid("请填写密钥用途")),
                        l => l.to_string(),
                    };
                    let key = $crate::sql_case_settings::new_open311_key()?;
                    let hash = $crate::sql_case_settings::open311_key_hash(&key);
                    let mut tx = self.begin_write().await?;
                    let id: i64 = ::sqlx::query(
                        "INSERT INTO open311_keys (key_hash, label, active, created_at, created_by) VALUES ($1, $2, TRUE, $3, $4) RETURNING id",
                    )
                    .bind(&hash)
                    .bind(&label)
                    .bind(now_text())
                    .bind(&actor.username)
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
                            entity: "open311_key",
                            entity_id: id.to_string(),
                            scope_path: "/".into(),
                            old_value: None,
                            new_value: Some(::serde_json::json!({"label": label})),
                        },
                    )
                    .await?;
                    tx.commit().await.map_err(err)?;
                    Ok(key)
                }

                async fn open311_key_valid(&self, key: &str) -> StoreResult<bool> {
                    let r = ::sqlx::query("SELECT active FROM open311_keys WHERE key_hash = $1")
                        .bind($crate::sql_case_settings::open311_key_hash(key))
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?;
                    match r {
                        Some(r) => r.try_get::<bool, _>("active").map_err(err),
                        None => Ok(false),
                    }
                }
            }
        }
    };
}
