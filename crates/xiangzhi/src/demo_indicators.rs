//! The seed indicator pack for the demo township: data elements, the indicators of the 2023
//! summary, the targets of its plan, and the entered values of the few figures no record type
//! covers (财税收入, 森林覆盖率, 工作专班). Every other figure is computed from the demo's
//! records. Installing twice changes nothing.

use std::sync::Arc;

use anyhow::Result;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_engine::pack;
use xiangzhi_store::{Actor, Store};

pub async fn load(store: &Arc<dyn Store>, township: &DivisionCode) -> Result<pack::Installed> {
    let actor = Actor::system("demo");
    Ok(pack::install(store.as_ref(), &actor, &pack::builtin(), Some(township)).await?)
}
