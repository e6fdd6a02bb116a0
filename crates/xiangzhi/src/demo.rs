//! The demo township: 连城乡 of 临川区, 抚州市, 江西省 — the "X乡" of the seed document, with its
//! twelve real villages (头昌村 and 舍头村 among them), grids under each, and one user per role.
//! Later parts add their demo records here. Loading twice changes nothing.

use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;
use xiangzhi_store::{Actor, NewUser, Scope, Store};

use crate::divisions;

pub const COUNTY: &str = "361002";
pub const TOWNSHIP: &str = "361002201";
pub const TOUCHANG: &str = "361002201211";
pub const PASSWORD: &str = "xiangzhi2023";
const GRIDS_PER_VILLAGE: [&str; 3] = ["第一网格", "第二网格", "第三网格"];

#[derive(Debug, Clone, Serialize)]
pub struct Login {
    pub username: &'static str,
    pub role: Role,
    pub org_name: String,
}

/// `(username, display name, role, org code)`; the grid worker's grid is created first.
fn demo_users() -> [(&'static str, &'static str, Role, String); 7] {
    [
        ("admin", "系统管理员", Role::Admin, COUNTY.into()),
        ("leader", "王乡长", Role::TownshipLeader, TOWNSHIP.into()),
        ("clerk", "李办事员", Role::TownshipClerk, TOWNSHIP.into()),
        ("cadre", "张村主任", Role::VillageCadre, TOUCHANG.into()),
        (
            "grid",
            "刘网格员",
            Role::GridWorker,
            format!("{TOUCHANG}001"),
        ),
        ("county", "赵审批员", Role::CountyApprover, COUNTY.into()),
        ("auditor", "陈审计员", Role::Auditor, COUNTY.into()),
    ]
}

pub async fn load(store: &Arc<dyn Store>) -> Result<Vec<Login>> {
    let actor = Actor::system("demo");
    let all = Scope::all();
    let county = DivisionCode::parse(COUNTY).expect("valid");
    if store.org_unit(&all, &county).await.is_err() {
        let dir = divisions::find_default_dir().context(
            "找不到区划数据目录 shared/data/divisions-2023；请设置环境变量 XIANGZHI_DIVISIONS 指向它",
        )?;
        let units = divisions::read_dir(&dir, Some(&county), |_, _| {})?;
        store.import_org_units(&actor, &units).await?;
    }
    let township = DivisionCode::parse(TOWNSHIP).expect("valid");
    for village in store.org_children(&all, Some(&township)).await? {
        if village.child_count == 0 {
            for name in GRIDS_PER_VILLAGE {
                store.add_grid(&actor, &village.code, name).await?;
            }
        }
    }
    crate::demo_registry::load(store, &township).await?;
    crate::demo_assistance::load(store, &township).await?;
    crate::demo_ledgers::load(store, &township).await?;
    xiangzhi_report::service::install_builtins(store.as_ref(), &actor).await?;
    let existing = store.list_users(&all).await?;
    let mut logins = Vec::new();
    let hash = xiangzhi_web::password::hash(PASSWORD);
    for (username, display_name, role, org) in demo_users() {
        let org_code = DivisionCode::parse(&org).expect("valid");
        if !existing.iter().any(|u| u.username == username) {
            let new = NewUser {
                username: username.into(),
                display_name: display_name.into(),
                role,
                org_code: org_code.clone(),
                password_hash: hash.clone(),
            };
            store.create_user(&actor, new).await?;
        }
        let org_name = store.org_unit(&all, &org_code).await?.name;
        logins.push(Login {
            username,
            role,
            org_name,
        });
    }
    // Cases are handled by the demo users, so they come after them.
    crate::demo_cases::load(store, &township).await?;
    // Indicators read every kind of record, so they come last.
    crate::demo_indicators::load(store, &township).await?;
    Ok(logins)
}
