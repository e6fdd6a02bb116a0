//! What the 社会治理 forms pick from: registry persons and enterprises (searched within scope the
//! way ledger reference fields search, see [`crate::ledger_pages::ref_search`]) and the units of
//! the user's scope. A form keeps what was picked as `id:N` tokens and offers the search's
//! candidates as checkboxes, so no script is needed.

use xiangzhi_domain::ledger::{FieldType, FieldValue};
use xiangzhi_domain::org::OrgLevel;
use xiangzhi_store::{Scope, Store};

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// A record offered or already picked: its `id:N` token and how it is shown (ID masked).
#[derive(Clone, Debug)]
pub struct Pick {
    pub token: String,
    pub id: i64,
    pub label: String,
}

pub fn parse_token(s: &str) -> Option<i64> {
    s.trim().strip_prefix("id:")?.parse().ok()
}

/// The label of a picked record; `NotFound` outside the scope.
async fn label_of(
    store: &std::sync::Arc<dyn Store>,
    scope: &Scope,
    kind: FieldType,
    id: i64,
) -> AppResult<String> {
    Ok(match kind {
        FieldType::Person => {
            let p = store.person(scope, id).await?;
            format!("{}（{}，{}）", p.name, p.citizen_id_masked, p.org_name)
        }
        FieldType::Enterprise => {
            let e = store.enterprise(scope, id).await?;
            format!("{}（{}）", e.name, e.credit_code)
        }
        _ => return Err(AppError::NotFound),
    })
}

/// The records picked so far (tokens from the form), checked against the scope again.
pub async fn picked(
    state: &AppState,
    me: &CurrentUser,
    kind: FieldType,
    tokens: &[String],
) -> AppResult<Vec<Pick>> {
    let scope = me.scope();
    let mut out: Vec<Pick> = Vec::new();
    for t in tokens {
        let Some(id) = parse_token(t) else {
            return Err(AppError::bad("提交的选择无效，请重新查找"));
        };
        if out.iter().any(|p| p.id == id) {
            continue;
        }
        out.push(Pick {
            token: format!("id:{id}"),
            id,
            label: label_of(&state.store, &scope, kind, id).await?,
        });
    }
    Ok(out)
}

/// Candidates for what was typed, within scope.
pub async fn search(
    state: &AppState,
    me: &CurrentUser,
    kind: FieldType,
    q: &str,
) -> AppResult<Vec<Pick>> {
    let found = crate::ledger_pages::ref_search(&state.store, &me.scope(), kind, q).await?;
    Ok(found
        .into_iter()
        .filter_map(|(v, label)| match v {
            FieldValue::Int(id) => Some(Pick {
                token: format!("id:{id}"),
                id,
                label,
            }),
            _ => None,
        })
        .collect())
}

/// Where a form's person picker stands after a post.
pub struct PersonPick {
    /// The person picked: from the form's token, or the only one the search found.
    pub person: Option<Pick>,
    /// The search's candidates, when the user has to choose.
    pub candidates: Vec<Pick>,
    /// What the user has to mend, in Chinese.
    pub errors: Vec<String>,
}

/// Reads a person picker: `token` is what was picked before (`id:N`, checked against the
/// scope again: `NotFound` outside it), `q` what was typed to search. When saving
/// (`searching` false), a search that finds one person picks them and clears `q`.
pub async fn pick_person(
    state: &AppState,
    me: &CurrentUser,
    token: &str,
    q: &mut String,
    searching: bool,
) -> AppResult<PersonPick> {
    let mut out = PersonPick {
        person: match token.trim() {
            "" => None,
            t => picked(state, me, FieldType::Person, &[t.to_string()])
                .await?
                .into_iter()
                .next(),
        },
        candidates: Vec::new(),
        errors: Vec::new(),
    };
    if !q.trim().is_empty() {
        let found = search(state, me, FieldType::Person, q).await?;
        match found.len() {
            0 => out.errors.push(format!("在本辖区内没有找到“{}”", q.trim())),
            1 if !searching => {
                out.person = found.into_iter().next();
                q.clear();
            }
            n => {
                if !searching {
                    out.errors.push(format!("找到{n}人，请选择一人"));
                }
                out.candidates = found;
            }
        }
    }
    Ok(out)
}

/// A unit a record can be placed at: `(code, label)`, the label indented by depth.
pub type UnitChoice = (String, String);

/// The scope's root and two levels below it (a township's villages and grids; a county's
/// townships and villages): enough to place a case, task or project without a script.
pub async fn units(state: &AppState, me: &CurrentUser) -> AppResult<Vec<UnitChoice>> {
    let scope = me.scope();
    let mut out = Vec::new();
    let roots = state.store.org_children(&scope, None).await?;
    for root in roots.iter().filter(|u| u.is_active()) {
        out.push((root.code.to_string(), root.name.clone()));
        if root.level == OrgLevel::Grid {
            continue;
        }
        for child in state.store.org_children(&scope, Some(&root.code)).await? {
            if !child.is_active() {
                continue;
            }
            out.push((child.code.to_string(), format!("　{}", child.name)));
            if child.level == OrgLevel::Grid || child.child_count == 0 {
                continue;
            }
            for g in state.store.org_children(&scope, Some(&child.code)).await? {
                if g.is_active() {
                    out.push((g.code.to_string(), format!("　　{}", g.name)));
                }
            }
        }
    }
    Ok(out)
}
