//! The SQL of report templates and finalised reports, shared by both backends like
//! [`crate::impl_sql_store!`] (read its header).

#[macro_export]
macro_rules! impl_report_store {
    ($Store:ty, $DB:ty) => {
        mod __sql_report {
            use super::*;
            use ::sqlx::Row as _;
            use $crate::audit::AuditRecord;
            use $crate::model::*;
            use $crate::report::*;
            use $crate::sql::{bad_row, now_text};
            use $crate::{StoreError, StoreResult};
            use ::xiangzhi_domain::org::{DivisionCode, OrgPath};
            use ::xiangzhi_domain::role::Permission;

            type DbRow = <$DB as ::sqlx::Database>::Row;

            fn err(e: ::sqlx::Error) -> StoreError {
                <$Store>::map_err(e)
            }

            fn township_staff(actor: &Actor, what: &str) -> StoreResult<()> {
                match actor.role {
                    Some(r) if !(r.can(Permission::TownshipReview) || r.can(Permission::ManageOrg)) => {
                        Err(StoreError::Forbidden(format!("只有乡镇业务人员或管理员可以{what}")))
                    }
                    _ => Ok(()),
                }
            }

            const TEMPLATE_SELECT: &str = "SELECT t.code, v.name, t.org_path, v.version, t.current_version, v.body, v.created_at, v.created_by \
                 FROM report_templates t JOIN report_template_versions v ON v.template_code = t.code";

            fn template_from_row(r: &DbRow) -> StoreResult<ReportTemplate> {
                Ok(ReportTemplate {
                    code: r.try_get("code").map_err(err)?,
                    name: r.try_get("name").map_err(err)?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    version: r.try_get("version").map_err(err)?,
                    current_version: r.try_get("current_version").map_err(err)?,
                    body: r.try_get("body").map_err(err)?,
                    created_at: r.try_get("created_at").map_err(err)?,
                    created_by: r.try_get("created_by").map_err(err)?,
                })
            }

            const FINAL_SELECT: &str = "SELECT id, template_code, template_version, org_code, org_path, period, \
                 content_hash, frozen, finalised_at, finalised_by FROM report_finals";

            fn final_from_row(r: &DbRow) -> StoreResult<ReportFinal> {
                let org: String = r.try_get("org_code").map_err(err)?;
                Ok(ReportFinal {
                    id: r.try_get("id").map_err(err)?,
                    template_code: r.try_get("template_code").map_err(err)?,
                    template_version: r.try_get("template_version").map_err(err)?,
                    org_code: DivisionCode::parse(&org).map_err(|_| bad_row("区划代码"))?,
                    org_path: OrgPath::from_stored(r.try_get("org_path").map_err(err)?),
                    period: r.try_get("period").map_err(err)?,
                    content_hash: r.try_get("content_hash").map_err(err)?,
                    frozen: r.try_get("frozen").map_err(err)?,
                    finalised_at: r.try_get("finalised_at").map_err(err)?,
                    finalised_by: r.try_get("finalised_by").map_err(err)?,
                })
            }

            fn valid_code(code: &str) -> bool {
                code.len() <= 64
                    && code.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            }

            #[::async_trait::async_trait]
            impl $crate::report::ReportStore for $Store {
                async fn report_templates(&self, scope: &Scope) -> StoreResult<Vec<ReportTemplate>> {
                    // A township has a handful of templates: filtering here is simpler than
                    // expressing "above or below" in SQL.
                    let rows = ::sqlx::query(::sqlx::AssertSqlSafe(format!(
                        "{TEMPLATE_SELECT} WHERE v.version = t.current_version ORDER BY t.code"
                    )))
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    let all = rows.iter().map(template_from_row).collect::<StoreResult<Vec<_>>>()?;
                    Ok(all.into_iter().filter(|t| template_visible(scope, &t.org_path)).collect())
                }

                async fn report_template(&self, scope: &Scope, code: &str, version: Option<i64>) -> StoreResult<ReportTemplate> {
                    let r = match version {
                        Some(v) => ::sqlx::query(::sqlx::AssertSqlSafe(format!("{TEMPLATE_SELECT} WHERE t.code = $1 AND v.version = $2")))
                            .bind(code)
                            .bind(v)
                            .fetch_optional(self.read())
                            .await,
                        None => ::sqlx::query(::sqlx::AssertSqlSafe(format!("{TEMPLATE_SELECT} WHERE t.code = $1 AND v.version = t.current_version")))
                            .bind(code)
                            .fetch_optional(self.read())
                            .await,
                    }
                    .map_err(err)?
                    .ok_or(StoreError::NotFound)?;
                    let t = template_from_row(&r)?;
                    if template_visible(scope, &t.org_path) { Ok(t) } else { Err(StoreError::NotFound) }
                }

                async fn report_template_versions(&self, scope: &Scope, code: &str) -> StoreResult<Vec<TemplateVersion>> {
                    self.report_template(scope, code, None).await?;
                    let rows = ::sqlx::query(
                        "SELECT version, name, created_at, created_by FROM report_template_versions \
                         WHERE template_code = $1 ORDER BY version DESC",
                    )
                    .bind(code)
                    .fetch_all(self.read())
                    .await
                    .map_err(err)?;
                    if rows.is_empty() {
                        return Err(StoreError::NotFound);
                    }
                    rows.iter()
                        .map(|r| {
                            Ok(TemplateVersion {
                                version: r.try_get("version").map_err(err)?,
                                name: r.try_get("name").map_err(err)?,
                                created_at: r.try_get("created_at").map_err(err)?,
                                created_by: r.try_get("created_by").map_err(err)?,
                            })
                        })
                        .collect()
                }

                async fn save_report_template(
                    &self,
                    actor: &Actor,
                    code: &str,
                    name: &str,
                    body: &str,
                ) -> StoreResult<(ReportTemplate, SaveOutcome)> {
                    township_staff(actor, "修改报告模板")?;
                    if !valid_code(code) {
                        return Err(StoreError::invalid("模板代码只能由小写字母、数字和下划线组成，并以字母开头（最多64个字符）"));
                    }
                    let name = name.trim();
                    if name.is_empty() || name.chars().count() > 100 {
                        return Err(StoreError::invalid("模板名称不能为空，最多100个字"));
                    }
                    if body.trim().is_empty() {
                        return Err(StoreError::invalid("模板内容不能为空"));
                    }
                    if body.chars().count() > MAX_TEMPLATE_CHARS {
                        return Err(StoreError::invalid(format!("模板内容过长（最多{MAX_TEMPLATE_CHARS}字）")));
                    }
                    let mut tx = self.begin_write().await?;
                    let cur = ::sqlx::query(::sqlx::AssertSqlSafe(format!(
                        "{TEMPLATE_SELECT} WHERE t.code = $1 AND v.version = t.current_version"
                    )))
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?
                    .as_ref()
                    .map(template_from_row)
                    .transpose()?;
                    if let Some(c) = &cur {
                        if !template_visible(&actor.scope, &c.org_path) {
                            return Err(StoreError::NotFound);
                        }
                        if !actor.scope.contains(&c.org_path) {
                            return Err(StoreError::Forbidden("该模板由上级单位维护，请另存为新模板后修改".into()));
                        }
                    }
                    if let Some(c) = &cur
                        && c.name == name
                        && c.body == body
                    {
                        return Ok((c.clone(), SaveOutcome::Unchanged));
                    }
                    let now = now_text();
                    let owner = cur.as_ref().map_or_else(|| actor.scope.path.clone(), |c| c.org_path.clone());
                    let (version, outcome) = match &cur {
                        None => {
                            ::sqlx::query("INSERT INTO report_templates (code, name, org_path, current_version, created_at) VALUES ($1, $2, $3, 1, $4)")
                                .bind(code)
                                .bind(name)
                                .bind(actor.scope.path.as_str())
                                .bind(&now)
                                .execute(&mut *tx)
                                .await
                                .map_err(err)?;
                            (1, SaveOutcome::Created)
                        }
                        Some(c) => {
                            ::sqlx::query("UPDATE report_templates SET current_version = $1, name = $2 WHERE code = $3")
                                .bind(c.current_version + 1)
                                .bind(name)
                                .bind(code)
                                .execute(&mut *tx)
                                .await
                                .map_err(err)?;
                            (c.current_version + 1, SaveOutcome::NewVersion)
                        }
                    };
                    ::sqlx::query(
                        "INSERT INTO report_template_versions (template_code, version, name, body, created_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(code)
                    .bind(version)
                    .bind(name)
                    .bind(body)
                    .bind(&now)
                    .bind(&actor.username)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: if cur.is_some() { "report_template_version" } else { "report_template_create" },
                        entity: "report_template",
                        entity_id: code.to_owned(),
                        scope_path: owner.as_str().to_owned(),
                        old_value: cur.as_ref().map(|c| ::serde_json::json!({"version": c.version, "name": c.name})),
                        new_value: Some(::serde_json::json!({"version": version, "name": name, "body": body})),
                    })
                    .await?;
                    tx.commit().await.map_err(err)?;
                    let saved = ReportTemplate {
                        code: code.to_owned(),
                        name: name.to_owned(),
                        org_path: owner,
                        version,
                        current_version: version,
                        body: body.to_owned(),
                        created_at: now,
                        created_by: actor.username.clone(),
                    };
                    Ok((saved, outcome))
                }

                async fn finalise_report(&self, actor: &Actor, new: NewReportFinal) -> StoreResult<ReportFinal> {
                    let hash_ok = new.content_hash.len() == 64
                        && new.content_hash.chars().all(|c| c.is_ascii_hexdigit());
                    if !hash_ok {
                        return Err(StoreError::invalid("内容校验值无效"));
                    }
                    if ::xiangzhi_domain::period::Period::parse(&new.period).is_err() {
                        return Err(StoreError::invalid(format!("期间“{}”无效", new.period)));
                    }
                    let mut tx = self.begin_write().await?;
                    let path: Option<String> = ::sqlx::query("SELECT path FROM org_units WHERE code = $1")
                        .bind(new.org.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?
                        .map(|r| r.try_get("path"))
                        .transpose()
                        .map_err(err)?;
                    let path = OrgPath::from_stored(path.ok_or(StoreError::NotFound)?);
                    if !actor.scope.contains(&path) {
                        return Err(StoreError::NotFound);
                    }
                    township_staff(actor, "定稿报告")?;
                    let owner: Option<String> = ::sqlx::query(
                        "SELECT t.org_path FROM report_templates t JOIN report_template_versions v ON v.template_code = t.code \
                         WHERE t.code = $1 AND v.version = $2",
                    )
                    .bind(&new.template_code)
                    .bind(new.template_version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?
                    .map(|r| r.try_get("org_path"))
                    .transpose()
                    .map_err(err)?;
                    match owner {
                        None => return Err(StoreError::invalid("报告模板或其版本不存在")),
                        Some(o) if !template_visible(&actor.scope, &OrgPath::from_stored(o.clone())) => {
                            return Err(StoreError::NotFound);
                        }
                        Some(_) => {}
                    }
                    let now = now_text();
                    let r = ::sqlx::query(
                        "INSERT INTO report_finals (template_code, template_version, org_code, org_path, period, content_hash, frozen, finalised_at, finalised_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(&new.template_code)
                    .bind(new.template_version)
                    .bind(new.org.as_str())
                    .bind(path.as_str())
                    .bind(&new.period)
                    .bind(&new.content_hash)
                    .bind(&new.frozen)
                    .bind(&now)
                    .bind(&actor.username)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?;
                    let id: i64 = r.try_get("id").map_err(err)?;
                    <$Store>::audit(&mut tx, actor, AuditRecord {
                        action: "report_finalise",
                        entity: "report_final",
                        entity_id: id.to_string(),
                        scope_path: path.as_str().to_owned(),
                        old_value: None,
                        new_value: Some(::serde_json::json!({
                            "template": new.template_code,
                            "version": new.template_version,
                            "org": new.org.as_str(),
                            "period": new.period,
                            "content_hash": new.content_hash,
                        })),
                    })
                    .await?;
                    tx.commit().await.map_err(err)?;
                    Ok(ReportFinal {
                        id,
                        template_code: new.template_code,
                        template_version: new.template_version,
                        org_code: new.org,
                        org_path: path,
                        period: new.period,
                        content_hash: new.content_hash,
                        frozen: new.frozen,
                        finalised_at: now,
                        finalised_by: actor.username.clone(),
                    })
                }

                async fn report_finals(
                    &self,
                    scope: &Scope,
                    template_code: Option<&str>,
                    org: Option<&DivisionCode>,
                    period: Option<&str>,
                ) -> StoreResult<Vec<ReportFinal>> {
                    // The scope is a path prefix: a range on the index.
                    let mut sql = format!("{FINAL_SELECT} WHERE org_path >= $1 AND org_path < $2");
                    let mut n = 2;
                    let mut push = |sql: &mut String, col: &str| {
                        n += 1;
                        sql.push_str(&format!(" AND {col} = ${n}"));
                    };
                    if template_code.is_some() {
                        push(&mut sql, "template_code");
                    }
                    if org.is_some() {
                        push(&mut sql, "org_code");
                    }
                    if period.is_some() {
                        push(&mut sql, "period");
                    }
                    sql.push_str(" ORDER BY id DESC");
                    let prefix = scope.path.as_str();
                    let mut qy = ::sqlx::query(::sqlx::AssertSqlSafe(sql))
                        .bind(prefix)
                        .bind(scope.path.upper_bound());
                    if let Some(t) = template_code {
                        qy = qy.bind(t);
                    }
                    if let Some(o) = org {
                        qy = qy.bind(o.as_str());
                    }
                    if let Some(p) = period {
                        qy = qy.bind(p);
                    }
                    let rows = qy.fetch_all(self.read()).await.map_err(err)?;
                    rows.iter().map(final_from_row).collect()
                }

                async fn report_final(&self, scope: &Scope, id: i64) -> StoreResult<ReportFinal> {
                    let r = ::sqlx::query(::sqlx::AssertSqlSafe(format!("{FINAL_SELECT} WHERE id = $1")))
                        .bind(id)
                        .fetch_optional(self.read())
                        .await
                        .map_err(err)?
                        .ok_or(StoreError::NotFound)?;
                    let f = final_from_row(&r)?;
                    if scope.contains(&f.org_path) { Ok(f) } else { Err(StoreError::NotFound) }
                }
            }
        }
    };
}
