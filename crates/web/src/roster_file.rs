//! The roster as XLSX (名单): one row per enrollment, with no citizen ID and no phone.
//! Shared by the roster page's download and `xiangzhi roster export`; text cells are
//! neutralised against formulas by [`XlsxExport`].

use chrono::NaiveDate;
use xiangzhi_exchange::Cell;
use xiangzhi_exchange::write::{WriteError, XlsxExport};
use xiangzhi_store::assistance::{Enrollment, EnrollmentQuery};
use xiangzhi_store::{AssistanceStore, Scope, StoreResult};

/// Rows fetched per page when reading a whole roster.
const PAGE: u32 = 5000;

/// Every enrollment in `scope` matching `query` (its `after_id` and `limit` are ignored),
/// paged through the store in id order.
pub async fn all_enrollments<S: AssistanceStore + ?Sized>(
    store: &S,
    scope: &Scope,
    query: &EnrollmentQuery,
) -> StoreResult<Vec<Enrollment>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .enrollments(
                scope,
                &EnrollmentQuery {
                    after_id: after,
                    limit: PAGE,
                    ..query.clone()
                },
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        out.extend(page);
    }
    Ok(out)
}

fn date_cell(d: Option<NaiveDate>) -> Cell {
    d.map_or(Cell::Empty, |d| Cell::Text(d.to_string()))
}

/// The roster's workbook: no ID, no phone.
pub fn roster_xlsx(rows: &[Enrollment]) -> Result<Vec<u8>, WriteError> {
    let mut x = XlsxExport::new(
        "名单",
        &[
            "序号",
            "项目",
            "类别",
            "户号",
            "姓名（户主）",
            "人数",
            "所属单位",
            "状态",
            "申请日期",
            "纳入日期",
            "下次复核",
            "退出日期",
            "退出原因",
        ],
    )?;
    for (i, e) in rows.iter().enumerate() {
        x.write_row(&[
            Cell::Int(i as i64 + 1),
            Cell::Text(e.program_name.clone()),
            Cell::Text(e.category_label.clone()),
            e.household_no.clone().map_or(Cell::Empty, Cell::Text),
            Cell::Text(e.subject_name.clone()),
            Cell::Int(e.members),
            Cell::Text(e.org_name.clone()),
            Cell::Text(e.state.status.label().into()),
            Cell::Text(e.applied_on.to_string()),
            date_cell(e.state.start_on),
            date_cell(e.state.next_review),
            date_cell(e.state.exit_on),
            e.state
                .exit_reason
                .map_or(Cell::Empty, |r| Cell::Text(r.label().into())),
        ])?;
    }
    x.finish()
}
