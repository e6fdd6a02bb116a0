//! One-off cash payouts (临时救助) and in-kind distributions (棉被, 大衣): the year's list with
//! its totals by program and item, and the form that records one for a household or person
//! picked from the registry within scope. The store checks the role, the scope and the
//! amounts again and writes the audit; a refusal comes back on the form in Chinese.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use xiangzhi_domain::assistance::{Program, TEMPORARY_RELIEF};
use xiangzhi_domain::disclosure::mask_name;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::role::Permission;
use xiangzhi_store::StoreError;
use xiangzhi_store::assistance::{NewPayout, PayoutKind};

use crate::assistance_pages::{given, today};
use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::pickers::{self, Pick};
use crate::state::AppState;

/// What the store says when a role may not write; checked here first so that such a user
/// is refused before any record is looked up.
const NO_WRITE: &str = "该角色不能登记发放";

#[derive(Deserialize, Default)]
pub struct PayoutQuery {
    year: Option<String>,
    program: Option<String>,
    ok: Option<String>,
}

/// A line of the year's totals.
pub struct TotalRow {
    program: String,
    kind: &'static str,
    item: String,
    payouts: i64,
    households: i64,
    persons: i64,
    /// Empty for a distribution in kind.
    yuan: String,
    wan: String,
    /// Empty for cash.
    quantity: String,
}

/// A payout as the list shows it: the recipient's name masked.
pub struct LineRow {
    paid_on: NaiveDate,
    program: String,
    kind: &'static str,
    recipient: String,
    village: String,
    what: String,
    note: String,
}

#[derive(Template)]
#[template(path = "assistance_payouts.html")]
struct PayoutsPage {
    chrome: Chrome,
    year: i32,
    program: String,
    programs: Vec<(String, String)>,
    totals: Vec<TotalRow>,
    lines: Vec<LineRow>,
    can_record: bool,
    notice: bool,
}

fn parse_year(s: Option<&str>) -> AppResult<i32> {
    match s {
        None => Ok(today().year()),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (1949..=2200).contains(y))
            .ok_or_else(|| AppError::bad(format!("年份“{y}”应为四位数字，如 2023"))),
    }
}

fn program_name(programs: &[Program], code: &str) -> String {
    programs
        .iter()
        .find(|p| p.code == code)
        .map_or_else(|| code.to_string(), |p| p.name.clone())
}

/// `GET /assistance/payouts?year=&program=`: the year's payouts in scope with their totals.
pub async fn payouts(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<PayoutQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let year = parse_year(given(&q.year))?;
    let programs = state.store.programs().await?;
    let program = given(&q.program).map(str::to_string);
    if let Some(c) = &program
        && !programs.iter().any(|p| &p.code == c)
    {
        return Err(AppError::bad(format!("没有代码为“{c}”的救助项目")));
    }
    let totals = state
        .store
        .payout_totals(&scope, year)
        .await?
        .into_iter()
        .filter(|t| program.as_ref().is_none_or(|c| &t.program_code == c))
        .map(|t| {
            let cash = t.kind == PayoutKind::Cash;
            TotalRow {
                program: program_name(&programs, &t.program_code),
                kind: t.kind.label(),
                item: t.item.unwrap_or_default(),
                payouts: t.payouts,
                households: t.households,
                persons: t.persons,
                yuan: if cash {
                    t.amount.to_string()
                } else {
                    String::new()
                },
                wan: if cash {
                    t.amount.to_wan(4)
                } else {
                    String::new()
                },
                quantity: if cash {
                    String::new()
                } else {
                    t.quantity.to_string()
                },
            }
        })
        .collect();
    let list = state
        .store
        .payouts(&scope, program.as_deref(), Some(year))
        .await?;
    let mut villages: HashMap<String, String> = HashMap::new();
    let mut lines = Vec::with_capacity(list.len());
    for p in list {
        let code = p.org_code.to_string();
        if !villages.contains_key(&code) {
            let name = state.store.org_unit(&scope, &p.org_code).await?.name;
            villages.insert(code.clone(), name);
        }
        let what = match (p.amount, &p.item, p.quantity) {
            (Some(a), _, _) => format!("{a} 元"),
            (None, Some(item), Some(n)) => format!("{item} × {n}"),
            _ => String::new(),
        };
        let recipient = mask_name(&p.recipient);
        lines.push(LineRow {
            paid_on: p.paid_on,
            program: program_name(&programs, &p.program_code),
            kind: p.kind.label(),
            recipient: if p.person_id.is_some() {
                recipient
            } else {
                format!("{recipient}（户）")
            },
            village: villages.get(&code).cloned().unwrap_or_default(),
            what,
            note: p.note,
        });
    }
    Ok(render(PayoutsPage {
        chrome: Chrome::of(&me),
        year,
        program: program.unwrap_or_default(),
        programs: programs
            .iter()
            .map(|p| (p.code.clone(), p.name.clone()))
            .collect(),
        totals,
        lines,
        can_record: me.can(Permission::Write),
        notice: q.ok.is_some(),
    }))
}

/// The form as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PayoutForm {
    kind: String,
    program: String,
    /// `household` or `person`.
    to: String,
    /// The picked person's `id:N` token.
    person: String,
    q: String,
    paid_on: String,
    amount: String,
    item: String,
    quantity: String,
    note: String,
    /// `search` to look the person up without saving.
    go: String,
}

#[derive(Template)]
#[template(path = "assistance_payout_new.html")]
struct PayoutFormPage {
    chrome: Chrome,
    f: PayoutForm,
    programs: Vec<(String, String)>,
    person: Option<Pick>,
    candidates: Vec<Pick>,
    errors: Vec<String>,
}

async fn form_page(
    state: &AppState,
    me: &CurrentUser,
    f: PayoutForm,
    person: Option<Pick>,
    candidates: Vec<Pick>,
    errors: Vec<String>,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let programs = state
        .store
        .programs()
        .await?
        .into_iter()
        .map(|p| (p.code, p.name))
        .collect();
    let mut res = render(PayoutFormPage {
        chrome: Chrome::of(me),
        f,
        programs,
        person,
        candidates,
        errors,
    });
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    Ok(res)
}

/// `GET /assistance/payouts/new`: an empty form, 临时救助 in cash to a household by default.
pub async fn new_payout(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let f = PayoutForm {
        kind: PayoutKind::Cash.as_str().into(),
        program: TEMPORARY_RELIEF.into(),
        to: "household".into(),
        paid_on: today().to_string(),
        ..Default::default()
    };
    form_page(&state, &me, f, None, Vec::new(), Vec::new()).await
}

/// What the form says to pay, checked: `(amount, item, quantity)`.
type Goods = (Option<Money>, Option<String>, Option<i64>);

fn goods(kind: Option<PayoutKind>, f: &PayoutForm, errors: &mut Vec<String>) -> Option<Goods> {
    match kind? {
        PayoutKind::Cash => match Money::parse_yuan(&f.amount) {
            Ok(a) if a > Money::ZERO => Some((Some(a), None, None)),
            Ok(_) => {
                errors.push("发放金额应大于0".into());
                None
            }
            Err(e) => {
                errors.push(format!("发放金额：{e}"));
                None
            }
        },
        PayoutKind::InKind => {
            let item = f.item.trim();
            if item.is_empty() {
                errors.push("实物发放请填写物品名称，如 棉被、大衣".into());
            }
            let quantity = f.quantity.trim();
            let n = quantity.parse::<i64>().ok().filter(|n| *n > 0);
            if n.is_none() {
                errors.push(format!("数量“{quantity}”应为大于0的整数"));
            }
            if item.is_empty() {
                return None;
            }
            n.map(|n| (None, Some(item.to_string()), Some(n)))
        }
    }
}

/// `POST /assistance/payouts`: records the payout, or shows the form again with what is wrong.
pub async fn record_payout(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(mut f): Form<PayoutForm>,
) -> AppResult<Response> {
    if !me.can(Permission::Write) {
        return Err(AppError::forbidden(NO_WRITE));
    }
    // The person first: someone outside the scope is "not found" whatever else is wrong.
    let searching = f.go == "search";
    let pickers::PersonPick {
        person,
        candidates,
        mut errors,
    } = pickers::pick_person(&state, &me, &f.person, &mut f.q, searching).await?;
    if let Some(p) = &person {
        f.person = p.token.clone();
    }
    if searching {
        return form_page(&state, &me, f, person, candidates, errors).await;
    }
    if person.is_none() && errors.is_empty() {
        errors.push("请先查找并选择发放对象".into());
    }
    let program = state
        .store
        .programs()
        .await?
        .into_iter()
        .find(|p| p.code == f.program.trim());
    if program.is_none() {
        errors.push("请选择救助项目".into());
    }
    let kind = PayoutKind::parse(f.kind.trim());
    if kind.is_none() {
        errors.push("请选择发放方式：资金或实物".into());
    }
    let to_household = match f.to.trim() {
        "household" => Some(true),
        "person" => Some(false),
        _ => {
            errors.push("请选择按户还是按人发放".into());
            None
        }
    };
    let paid_on = match NaiveDate::parse_from_str(f.paid_on.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(format!("发放日期“{}”格式应为 2024-03-01", f.paid_on.trim()));
            None
        }
    };
    let goods = goods(kind, &f, &mut errors);
    let (Some(pick), Some(program), Some(kind), Some(to_household), Some(paid_on), Some(goods)) =
        (person.clone(), program, kind, to_household, paid_on, goods)
    else {
        return form_page(&state, &me, f, person, candidates, errors).await;
    };
    if !errors.is_empty() {
        return form_page(&state, &me, f, person, candidates, errors).await;
    }
    let household_id = state.store.person(&me.scope(), pick.id).await?.household_id;
    if to_household && household_id.is_none() {
        let m = "该居民未登记所在户，不能按户发放，请改为按人发放或先在户籍中登记".to_string();
        return form_page(&state, &me, f, person, candidates, vec![m]).await;
    }
    let (amount, item, quantity) = goods;
    let new = NewPayout {
        kind,
        program: program.code.clone(),
        enrollment_id: None,
        household_id,
        person_id: (!to_household).then_some(pick.id),
        paid_on,
        amount,
        item,
        quantity,
        note: f.note.trim().to_string(),
    };
    match state.store.record_payout(&me.actor(), new).await {
        Ok(p) => Ok(Redirect::to(&format!(
            "/assistance/payouts?year={}&program={}&ok=1",
            p.paid_on.year(),
            p.program_code
        ))
        .into_response()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            form_page(&state, &me, f, person, candidates, vec![m]).await
        }
        Err(e) => Err(AppError::from(e)),
    }
}
