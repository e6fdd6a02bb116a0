//! The bank's payment file (代发文件) of a payroll: one row per pending line with an amount,
//! carrying the payee's citizen ID and bank account in full — the one place they leave the
//! store for a payroll. Shared by the payroll page's download and `xiangzhi payroll export`.

use xiangzhi_domain::money::Money;
use xiangzhi_exchange::Cell;
use xiangzhi_exchange::write::{WriteError, XlsxExport};
use xiangzhi_store::assistance::{BankLine, Payroll};

fn yuan_cell(m: Money) -> Cell {
    Cell::Float(m.fen() as f64 / 100.0)
}

pub fn bank_xlsx(payroll: &Payroll, lines: &[BankLine]) -> Result<Vec<u8>, WriteError> {
    let mut x = XlsxExport::new(
        "代发",
        &[
            "序号",
            "姓名",
            "身份证号",
            "金额（元）",
            "开户银行",
            "银行账号",
            "村（社区）",
            "明细编号",
            "摘要",
        ],
    )?;
    let memo = format!("{}{}", payroll.period, payroll.program_name);
    for (i, l) in lines.iter().enumerate() {
        x.write_row(&[
            Cell::Int(i as i64 + 1),
            Cell::Text(l.name.clone()),
            Cell::Text(l.citizen_id.clone()),
            yuan_cell(l.amount),
            Cell::Text(l.bank_name.clone()),
            Cell::Text(l.account.clone()),
            Cell::Text(l.village.clone()),
            Cell::Int(l.line_id),
            Cell::Text(memo.clone()),
        ])?;
    }
    x.finish()
}
