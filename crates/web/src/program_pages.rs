//! 项目配置: the assistance programs as data. Everyone may read them; a county-level
//! administrator edits names, standards (one per line), the review cycle, notice days, step
//! time limits, delegation, incompatible programs and the monitoring income line. The store
//! validates (Chinese errors) and audits each change with the old and new configuration.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use xiangzhi_domain::assistance::{PayBasis, Program, Standard};
use xiangzhi_domain::money::Money;
use xiangzhi_domain::role::Permission;

use crate::assistance_pages::OkQuery;
use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

/// Programs apply to every unit: only an administrator at county level or above edits them
/// (the store refuses anyone else too; checked here first so a refused form is not parsed).
fn may_edit(me: &CurrentUser) -> bool {
    me.can(Permission::ManageOrg) && me.user.org_path.depth() <= 3
}

fn require_edit(me: &CurrentUser) -> AppResult<()> {
    me.require(Permission::ManageOrg)?;
    if may_edit(me) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "救助项目全县通用，只有县级及以上的系统管理员可以修改",
        ))
    }
}

#[derive(Template)]
#[template(path = "programs.html")]
struct ProgramsPage {
    chrome: Chrome,
    programs: Vec<Program>,
}

pub async fn programs(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    Ok(render(ProgramsPage {
        chrome: Chrome::of(&me),
        programs: state.store.programs().await?,
    }))
}

fn standard_line(s: &Standard) -> String {
    let basis = s.basis.label();
    let cat = if s.category.is_empty() {
        "-"
    } else {
        s.category.as_str()
    };
    let mut line = format!("{} {cat} {} {basis}", s.year, s.amount);
    if !s.area.is_empty() {
        line.push(' ');
        line.push_str(&s.area);
    }
    line
}

/// `年度 类别 金额 每人|每户 [区划代码]`, one standard per line; `-` for any category.
fn parse_standards(text: &str) -> AppResult<Vec<Standard>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line
            .split([' ', ',', '，', '\t'])
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            continue;
        }
        let n = i + 1;
        if !(4..=5).contains(&parts.len()) {
            return Err(AppError::bad(format!(
                "发放标准第{n}行应为“年度 类别 金额 每人或每户 [区划代码]”，如“2023 rural 640 每人”"
            )));
        }
        let year = parts[0]
            .parse()
            .map_err(|_| AppError::bad(format!("发放标准第{n}行：年度“{}”无效", parts[0])))?;
        let amount = Money::parse_yuan(parts[2])
            .map_err(|_| AppError::bad(format!("发放标准第{n}行：金额“{}”无效", parts[2])))?;
        let basis = match parts[3] {
            "每人" | "per_person" => PayBasis::PerPerson,
            "每户" | "per_household" => PayBasis::PerHousehold,
            other => {
                return Err(AppError::bad(format!(
                    "发放标准第{n}行：“{other}”应为每人或每户"
                )));
            }
        };
        out.push(Standard {
            year,
            area: parts.get(4).map(|a| a.to_string()).unwrap_or_default(),
            category: if parts[1] == "-" {
                String::new()
            } else {
                parts[1].to_string()
            },
            amount,
            basis,
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "program.html")]
struct ProgramPage {
    chrome: Chrome,
    p: Program,
    others: Vec<(String, String, bool)>,
    standards: String,
    income_line: String,
    editable: bool,
    notice: bool,
}

pub async fn program(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let all = state.store.programs().await?;
    let p = all
        .iter()
        .find(|p| p.code == code)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok(render(ProgramPage {
        chrome: Chrome::of(&me),
        others: all
            .iter()
            .filter(|o| o.code != p.code)
            .map(|o| {
                (
                    o.code.clone(),
                    o.name.clone(),
                    p.is_incompatible_with(&o.code),
                )
            })
            .collect(),
        standards: p
            .standards
            .iter()
            .map(standard_line)
            .collect::<Vec<_>>()
            .join("\n"),
        income_line: p.income_line.map(|m| m.to_string()).unwrap_or_default(),
        editable: may_edit(&me),
        notice: q.ok.is_some(),
        p,
    }))
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

fn number(form: &[(String, String)], name: &str, what: &str) -> AppResult<u32> {
    let v = field(form, name);
    v.parse()
        .map_err(|_| AppError::bad(format!("{what}应为整数，现为“{v}”")))
}

pub async fn save_program(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    require_edit(&me)?;
    let mut p = state
        .store
        .programs()
        .await?
        .into_iter()
        .find(|p| p.code == code)
        .ok_or(AppError::NotFound)?;
    p.name = field(&form, "name").to_string();
    p.notice_days = number(&form, "notice_days", "公示天数")?;
    p.review_months = number(&form, "review_months", "复核周期")?;
    p.limits.village_review = number(&form, "lim_village_review", "村级评议时限")?;
    p.limits.public_notice = number(&form, "lim_public_notice", "公示时限")?;
    p.limits.township_review = number(&form, "lim_township_review", "乡镇审核时限")?;
    p.limits.county_approval = number(&form, "lim_county_approval", "县级审批时限")?;
    p.township_approves = !field(&form, "township_approves").is_empty();
    p.means_tested = !field(&form, "means_tested").is_empty();
    p.incompatible = form
        .iter()
        .filter(|(k, v)| k == "incompatible" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    p.standards = parse_standards(field(&form, "standards"))?;
    p.income_line = match field(&form, "income_line") {
        "" => None,
        v => Some(
            Money::parse_yuan(v)
                .map_err(|_| AppError::bad(format!("监测收入标准“{v}”应为金额")))?,
        ),
    };
    state.store.save_program(&me.actor(), &p).await?;
    Ok(Redirect::to(&format!("/assistance/programs/{code}?ok=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standards_round_trip_through_their_text() {
        let p = Program::seeded().remove(0);
        let text: Vec<String> = p.standards.iter().map(standard_line).collect();
        assert_eq!(parse_standards(&text.join("\n")).unwrap(), p.standards);
        let e = parse_standards("2023 rural 640").unwrap_err();
        assert!(e.message().contains("第1行"), "{}", e.message());
        let e = parse_standards("\n2023 rural 640 每月").unwrap_err();
        assert!(e.message().contains("第2行"), "{}", e.message());
    }
}
