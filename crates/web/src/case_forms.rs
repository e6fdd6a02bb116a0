//! The form that registers a case (登记): category from the township's tree, parties picked from
//! the registry within scope, the unit (grid, village or township) and place, risk colour and
//! attachments. Multipart, so files travel with it. On any error the form comes back with
//! everything as typed (files excepted: a browser cannot be handed them back) and nothing is
//! stored: attachments are checked before the case is registered.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use xiangzhi_domain::case::RiskColor;
use xiangzhi_domain::ledger::FieldType;
use xiangzhi_store::case::{CaseRules, NewCase, PartyInput, PartyRole};
use xiangzhi_store::case_settings::case_file_problem;

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::{Chrome, parse_code};
use crate::pickers::{self, Pick, UnitChoice};
use crate::state::AppState;

/// How a case came in, as the form offers it.
const SOURCES: [(&str, &str); 5] = [
    ("window", "窗口来访"),
    ("grid", "网格巡查"),
    ("hotline", "12345热线"),
    ("letter", "来信"),
    ("other", "其他"),
];

/// A picked party: the person and the role they have in the case.
pub struct PartyView {
    pick: Pick,
    role: &'static str,
    role_label: &'static str,
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewCasePage {
    chrome: Chrome,
    categories: Vec<(String, String, bool)>,
    units: Vec<UnitChoice>,
    sources: Vec<(&'static str, &'static str)>,
    risks: Vec<(&'static str, &'static str)>,
    roles: Vec<(&'static str, &'static str)>,
    f: CaseFormData,
    parties: Vec<PartyView>,
    candidates: Vec<Pick>,
    errors: Vec<String>,
}

/// What the form holds, as typed.
#[derive(Default)]
pub struct CaseFormData {
    category: String,
    title: String,
    description: String,
    org: String,
    location: String,
    risk: String,
    source: String,
    urgent: bool,
    /// `id:N|role` of the parties picked so far, and any ticked candidates.
    parties: Vec<String>,
    party_q: String,
    party_role: String,
    /// Names of parties who are not in the registry, one per line.
    other_parties: String,
    files: Vec<(String, String, Vec<u8>)>,
    go: String,
}

async fn read_form(mut form: Multipart) -> AppResult<CaseFormData> {
    let mut f = CaseFormData::default();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::bad("提交的表单无法读取"))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "files" {
            let file_name = field.file_name().unwrap_or("附件").to_string();
            let mime = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| AppError::bad("附件上传不完整"))?;
            if !bytes.is_empty() {
                f.files.push((file_name, mime, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.unwrap_or_default();
        match name.as_str() {
            "category" => f.category = text,
            "title" => f.title = text,
            "description" => f.description = text,
            "org" => f.org = text,
            "location" => f.location = text,
            "risk" => f.risk = text,
            "source" => f.source = text,
            "urgent" => f.urgent = !text.is_empty(),
            "party" => f.parties.push(text),
            "party_q" => f.party_q = text,
            "party_role" => f.party_role = text,
            "other_parties" => f.other_parties = text,
            "go" => f.go = text,
            _ => {}
        }
    }
    Ok(f)
}

fn role_of(s: &str) -> PartyRole {
    PartyRole::parse(s).unwrap_or(PartyRole::Applicant)
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    f: CaseFormData,
    parties: Vec<PartyView>,
    candidates: Vec<Pick>,
    errors: Vec<String>,
) -> AppResult<Response> {
    let categories = state
        .store
        .case_categories_in(&me.scope())
        .await?
        .into_iter()
        .map(|c| {
            let root = c.parent_code.is_none();
            let label = if root {
                c.label
            } else {
                format!("　{}", c.label)
            };
            (c.code, label, root)
        })
        .collect();
    Ok(render(NewCasePage {
        chrome: Chrome::of(me),
        categories,
        units: pickers::units(state, me).await?,
        sources: SOURCES.to_vec(),
        risks: RiskColor::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        roles: PartyRole::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        f,
        parties,
        candidates,
        errors,
    }))
}

pub async fn new_case(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let f = CaseFormData {
        source: "window".into(),
        org: me.user.org_code.to_string(),
        ..Default::default()
    };
    page(&state, &me, f, Vec::new(), Vec::new(), Vec::new()).await
}

/// The parties picked so far, each checked against the scope again.
async fn picked_parties(
    state: &AppState,
    me: &CurrentUser,
    tokens: &[String],
) -> AppResult<Vec<PartyView>> {
    let mut out: Vec<PartyView> = Vec::new();
    for t in tokens {
        let (tok, role) = t.split_once('|').unwrap_or((t.as_str(), "applicant"));
        let role = role_of(role);
        for pick in pickers::picked(state, me, FieldType::Person, &[tok.to_string()]).await? {
            if !out.iter().any(|p| p.pick.id == pick.id) {
                out.push(PartyView {
                    pick,
                    role: role.as_str(),
                    role_label: role.label(),
                });
            }
        }
    }
    Ok(out)
}

pub async fn create_case(
    State(state): State<AppState>,
    me: CurrentUser,
    form: Multipart,
) -> AppResult<Response> {
    let mut f = read_form(form).await?;
    let mut errors = Vec::new();
    let mut parties = picked_parties(&state, &me, &f.parties).await?;
    let mut candidates = Vec::new();
    let role = role_of(&f.party_role);
    f.party_role = role.as_str().to_string();
    if !f.party_q.trim().is_empty() {
        let found = pickers::search(&state, &me, FieldType::Person, &f.party_q).await?;
        match found.len() {
            0 => errors.push(format!(
                "在本辖区内没有找到“{}”，不在人口库的当事人请写在“其他当事人”中",
                f.party_q.trim()
            )),
            1 if f.go != "search" => {
                let pick = found.into_iter().next().expect("one");
                if !parties.iter().any(|p| p.pick.id == pick.id) {
                    parties.push(PartyView {
                        pick,
                        role: role.as_str(),
                        role_label: role.label(),
                    });
                }
                f.party_q.clear();
            }
            n => {
                candidates = found
                    .into_iter()
                    .filter(|c| !parties.iter().any(|p| p.pick.id == c.id))
                    .collect();
                if f.go != "search" {
                    errors.push(format!("当事人找到{n}人，请勾选后再提交"));
                }
            }
        }
    }
    f.parties = parties
        .iter()
        .map(|p| format!("{}|{}", p.pick.token, p.role))
        .collect();
    for (name, _, bytes) in &f.files {
        if let Some(p) = case_file_problem(name, bytes.len()) {
            errors.push(p);
        }
    }
    if f.go == "search" || !errors.is_empty() {
        if !f.files.is_empty() {
            errors.push("附件未保存，请重新选择".into());
        }
        return page(&state, &me, f, parties, candidates, errors).await;
    }
    let org = parse_code(&f.org)?;
    let risk = match f.risk.trim() {
        "" => None,
        r => Some(RiskColor::parse(r).ok_or_else(|| AppError::bad("未知的风险等级"))?),
    };
    let mut party_inputs: Vec<PartyInput> = parties
        .iter()
        .map(|p| PartyInput {
            person_id: Some(p.pick.id),
            name: String::new(),
            role: role_of(p.role),
        })
        .collect();
    for name in f
        .other_parties
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        party_inputs.push(PartyInput {
            person_id: None,
            name: name.to_string(),
            role: PartyRole::Other,
        });
    }
    let source = if SOURCES.iter().any(|(c, _)| *c == f.source.trim()) {
        f.source.trim().to_string()
    } else {
        "other".to_string()
    };
    let new = NewCase {
        category: f.category.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        org_code: org,
        location: f.location.clone(),
        urgent: f.urgent,
        risk,
        source,
        parties: party_inputs,
        registered_on: Utc::now().date_naive(),
    };
    let case = match state
        .store
        .register_case(&me.actor(), &CaseRules::default(), new)
        .await
    {
        Ok(c) => c,
        Err(xiangzhi_store::StoreError::Invalid(m)) => {
            if !f.files.is_empty() {
                errors.push("附件未保存，请重新选择".into());
            }
            errors.insert(0, m);
            return page(&state, &me, f, parties, candidates, errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    for (name, mime, bytes) in &f.files {
        state
            .store
            .attach_case_file(&me.actor(), case.id, name, mime, bytes)
            .await?;
    }
    Ok(Redirect::to(&format!("/cases/{}?ok=1", case.id)).into_response())
}
