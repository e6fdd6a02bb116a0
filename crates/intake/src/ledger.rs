//! A ledger's spreadsheet round trip: template (headers from the definition, drop-downs,
//! pre-filled roster rows, locked system columns), upload parsing into import rows with
//! row-level Chinese errors, and export.

use xiangzhi_domain::citizen_id::CitizenId;
use xiangzhi_domain::ledger::{
    FieldDef, FieldType, FieldValue, LedgerDefinition, Values, parse_input,
};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_exchange::convert;
use xiangzhi_exchange::write::{TemplateColumn, TemplateSpec, XlsxExport, template_xlsx};
use xiangzhi_exchange::{Cell, ColumnSpec, Limits, ReadError, RowError, Sheet, read_table_with};
use xiangzhi_store::ledger::{EntryImportRow, EntryInput, Ledger, LedgerEntry};
use xiangzhi_store::registry::{EnterpriseQuery, IdOwner, RegistryStore};
use xiangzhi_store::{Scope, StoreError};

pub const COL_ID: &str = "记录编号";
pub const COL_ORG: &str = "单位代码";
pub const COL_ORG_NAME: &str = "填报单位";
pub const COL_PERIOD: &str = "期间";
pub const COL_SUBJECT: &str = "对象代码";
pub const COL_SUBJECT_LABEL: &str = "对象";

fn system_columns(def: &LedgerDefinition) -> Vec<TemplateColumn> {
    let mut cols = vec![
        TemplateColumn::new(COL_ID)
            .derived()
            .note("系统编号，新增行留空"),
        TemplateColumn::new(COL_ORG)
            .as_text()
            .note("填报单位的区划代码"),
        TemplateColumn::new(COL_ORG_NAME).derived(),
        TemplateColumn::new(COL_PERIOD)
            .as_text()
            .note(match def.period_type() {
                Some(t) => format!("{}，如 2023、202301、2023Q1", t.label()),
                None => "不分期，留空".into(),
            }),
    ];
    if def.roster != xiangzhi_domain::ledger::Roster::None {
        cols.push(TemplateColumn::new(COL_SUBJECT).derived());
        cols.push(TemplateColumn::new(COL_SUBJECT_LABEL).derived());
    }
    cols
}

fn field_column(f: &FieldDef) -> TemplateColumn {
    let mut c = TemplateColumn::new(f.header());
    if f.required {
        c = c.required();
    }
    match f.kind {
        FieldType::Choice => c.choices = f.options.clone(),
        FieldType::Bool => c.choices = vec!["是".into(), "否".into()],
        FieldType::Text | FieldType::Org => c = c.as_text(),
        _ => {}
    }
    let mut note = f.kind.label().to_string();
    if let Some(min) = f.min {
        note.push_str(&format!("，不小于{min}"));
    }
    if let Some(max) = f.max {
        note.push_str(&format!("，不大于{max}"));
    }
    if f.kind == FieldType::MultiChoice {
        note.push_str(&format!("，可多选，用“、”分隔：{}", f.options.join("、")));
    }
    match f.kind {
        FieldType::Person => note.push_str("，填身份证号（或系统编号）"),
        FieldType::Household => note.push_str("，填户号（或系统编号）"),
        FieldType::Enterprise => note.push_str("，填统一社会信用代码（或系统编号）"),
        k if k.is_reference() => note.push_str("，填系统编号"),
        _ => {}
    }
    if f.kind == FieldType::Attachment {
        note.push_str("，只能在网页上传，此列仅供查看");
    }
    if let Some(h) = &f.help {
        note.push_str(&format!("；{h}"));
    }
    c.note(note)
}

fn entry_cells(def: &LedgerDefinition, e: &LedgerEntry) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Int(e.id),
        Cell::Text(e.org_code.as_str().into()),
        Cell::Text(e.org_name.clone()),
        Cell::Text(e.period.clone()),
    ];
    if def.roster != xiangzhi_domain::ledger::Roster::None {
        cells.push(Cell::Text(e.subject.clone().unwrap_or_default()));
        cells.push(Cell::Text(e.subject_label.clone().unwrap_or_default()));
    }
    for f in &def.fields {
        cells.push(match e.values.get(&f.key) {
            None => Cell::Empty,
            Some(v) => match (f.kind, v.as_f64()) {
                (FieldType::Integer, Some(x)) => Cell::Int(x as i64),
                (FieldType::Decimal, Some(x)) => Cell::Float(x),
                _ => Cell::Text(v.display(f)),
            },
        });
    }
    cells
}

/// The template for one unit and period, with its existing (or roster) rows filled in.
pub fn template(
    ledger: &Ledger,
    unit_name: &str,
    period: &str,
    rows: &[LedgerEntry],
) -> anyhow::Result<Vec<u8>> {
    let def = &ledger.definition;
    let mut columns = system_columns(def);
    columns.extend(def.fields.iter().map(field_column));
    let mut instructions = vec![
        format!("台账：{}（{}，第{}版）", def.name, def.code, ledger.version),
        format!(
            "负责部门：{}；填报单位：{}",
            def.department,
            def.level.label()
        ),
        "灰色列由系统填写，请勿修改；新增记录请在下方空行填写，记录编号留空。".into(),
        "填好后在系统中上传：先预览，全部正确才会写入；有错误时可下载错误报告。".into(),
    ];
    for r in &def.rules {
        instructions.push(format!("校验：{}", r.message));
    }
    let spec = TemplateSpec {
        sheet_name: def.name.chars().take(28).collect(),
        title: Some(format!(
            "{unit_name}{}{}",
            if period.is_empty() {
                String::new()
            } else {
                format!("{period} ")
            },
            def.name
        )),
        columns,
        rows: rows.iter().map(|e| entry_cells(def, e)).collect(),
        instructions,
        input_rows: (rows.len() as u32 + 200).max(300),
    };
    Ok(template_xlsx(&spec)?)
}

fn specs(def: &LedgerDefinition) -> Vec<ColumnSpec> {
    let mut s = vec![
        ColumnSpec::optional(COL_ID),
        ColumnSpec::optional(COL_ORG),
        ColumnSpec::optional(COL_ORG_NAME),
        ColumnSpec::optional(COL_PERIOD),
        ColumnSpec::optional(COL_SUBJECT),
        ColumnSpec::optional(COL_SUBJECT_LABEL),
    ];
    for f in &def.fields {
        let spec = if f.required {
            ColumnSpec::required(f.header())
        } else {
            ColumnSpec::optional(f.header())
        };
        s.push(spec.alias(f.label.clone()));
    }
    s
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        _ => c.display(),
    }
}

/// A read upload: the rows to import and the problems found before the store saw them.
pub struct Upload {
    pub sheet: Sheet,
    pub rows: Vec<EntryImportRow>,
    pub errors: Vec<RowError>,
    /// Reference cells written as the clerk knows them (身份证号, 户号, 信用代码), to be turned
    /// into record ids by [`resolve_references`] before the rows are imported.
    pub lookups: Vec<RefLookup>,
}

/// One reference cell still to resolve against the registry.
#[derive(Debug, Clone)]
pub struct RefLookup {
    pub line: usize,
    pub column: String,
    pub field: String,
    pub kind: FieldType,
    pub text: String,
}

/// A system id is a short number; anything else in a reference column is a natural key.
fn system_id(s: &str) -> Option<i64> {
    (s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Reads an uploaded file for `ledger`; a row without unit or period takes the defaults.
pub fn parse_upload(
    ledger: &Ledger,
    bytes: &[u8],
    file_name: &str,
    default_org: Option<&DivisionCode>,
    default_period: &str,
) -> Result<Upload, ReadError> {
    let def = &ledger.definition;
    let sheet = read_table_with(bytes, file_name, &specs(def), &Limits::default())?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut lookups = Vec::new();
    for row in &sheet.rows {
        let text = |name: &str| cell_text(sheet.field(row, name).cell).trim().to_string();
        let mut bad = false;
        let id = match text(COL_ID) {
            s if s.is_empty() => None,
            s => match s.parse::<i64>() {
                Ok(i) => Some(i),
                Err(_) => {
                    errors.push(RowError::new(
                        row.line,
                        COL_ID,
                        format!("“{s}”不是记录编号"),
                    ));
                    bad = true;
                    None
                }
            },
        };
        let org = match text(COL_ORG) {
            s if s.is_empty() => default_org.cloned(),
            s => match DivisionCode::parse(&s) {
                Ok(c) => Some(c),
                Err(e) => {
                    errors.push(RowError::new(row.line, COL_ORG, e.to_string()));
                    bad = true;
                    None
                }
            },
        };
        let Some(org) = org else {
            if !bad {
                errors.push(RowError::new(row.line, COL_ORG, "未填写"));
            }
            continue;
        };
        let period = match text(COL_PERIOD) {
            s if s.is_empty() => default_period.to_string(),
            s => s,
        };
        let subject = Some(text(COL_SUBJECT)).filter(|s| !s.is_empty());
        let mut values = Values::new();
        let mut row_lookups = Vec::new();
        for f in &def.fields {
            let header = f.header();
            let field = sheet.field(row, &header);
            let raw = cell_text(field.cell);
            let parsed = match f.kind {
                FieldType::Person | FieldType::Household | FieldType::Enterprise => {
                    match field.parse(convert::id_text) {
                        Err(e) => Err(e.reason),
                        Ok(None) => Ok(None),
                        Ok(Some(s)) => match system_id(&s) {
                            Some(i) => Ok(Some(FieldValue::Int(i))),
                            None => {
                                row_lookups.push(RefLookup {
                                    line: row.line,
                                    column: field.column.to_string(),
                                    field: f.key.clone(),
                                    kind: f.kind,
                                    text: s,
                                });
                                Ok(None)
                            }
                        },
                    }
                }
                // Files travel only through the web form; the column just names them.
                FieldType::Attachment => Ok(None),
                _ => parse_input(f, &raw),
            };
            match parsed {
                Ok(Some(v)) => {
                    values.insert(f.key.clone(), v);
                }
                Ok(None) => {}
                Err(m) => {
                    errors.push(RowError::new(row.line, field.column, m));
                    bad = true;
                }
            }
        }
        // A pre-filled roster row left empty is not an entry.
        if row_lookups.is_empty() {
            if values.is_empty() && id.is_none() && subject.is_none() {
                continue;
            }
            if values.is_empty() && subject.is_some() {
                continue;
            }
        }
        if !bad {
            lookups.extend(row_lookups);
            rows.push(EntryImportRow {
                line: row.line,
                entry: EntryInput {
                    id,
                    org_code: org,
                    period,
                    subject,
                    subject_label: Some(text(COL_SUBJECT_LABEL)).filter(|s| !s.is_empty()),
                    values,
                },
            });
        }
    }
    Ok(Upload {
        sheet,
        rows,
        errors,
        lookups,
    })
}

/// Turns the natural keys of [`Upload::lookups`] into record ids, within `scope` only: a key
/// outside it is reported like a key that does not exist, so an upload cannot probe other
/// villages. A row with an unresolved key is dropped and its problem added to `errors`.
pub async fn resolve_references<S: RegistryStore + ?Sized>(
    store: &S,
    scope: &Scope,
    up: &mut Upload,
) -> Result<(), StoreError> {
    let mut failed = std::collections::BTreeSet::new();
    for l in std::mem::take(&mut up.lookups) {
        match resolve_one(store, scope, &l).await? {
            Ok(id) => {
                if let Some(r) = up.rows.iter_mut().find(|r| r.line == l.line) {
                    r.entry.values.insert(l.field.clone(), FieldValue::Int(id));
                }
            }
            Err(reason) => {
                up.errors
                    .push(RowError::new(l.line, l.column.clone(), reason));
                failed.insert(l.line);
            }
        }
    }
    up.rows.retain(|r| !failed.contains(&r.line));
    up.errors.sort_by_key(|e| e.line);
    Ok(())
}

async fn resolve_one<S: RegistryStore + ?Sized>(
    store: &S,
    scope: &Scope,
    l: &RefLookup,
) -> Result<Result<i64, String>, StoreError> {
    Ok(match l.kind {
        FieldType::Person => match CitizenId::parse(&l.text) {
            Err(e) => Err(format!("不是有效的身份证号：{e}")),
            Ok(id) => match store.citizen_id_owner(scope, &id).await? {
                IdOwner::InScope { person_id, .. } => Ok(person_id),
                IdOwner::Elsewhere | IdOwner::Nobody => {
                    Err(format!("本辖区没有身份证号为 {} 的人员", id.masked()))
                }
            },
        },
        FieldType::Household => match store.household_by_no(scope, &l.text).await {
            Ok(h) => Ok(h.id),
            Err(StoreError::NotFound) => Err(format!("本辖区没有户号为“{}”的户", l.text)),
            Err(e) => return Err(e),
        },
        FieldType::Enterprise => {
            let code = l.text.to_uppercase();
            let found = store
                .enterprise_search(
                    scope,
                    &EnterpriseQuery {
                        q: Some(code.clone()),
                        limit: 20,
                        ..Default::default()
                    },
                )
                .await?;
            match found.iter().find(|e| e.credit_code == code) {
                Some(e) => Ok(e.id),
                None => Err(format!("本辖区没有统一社会信用代码为“{code}”的企业")),
            }
        }
        _ => Err("不是可引用的字段".to_string()),
    })
}

/// All rows of a ledger as XLSX, streaming.
pub fn export(ledger: &Ledger, rows: &[LedgerEntry]) -> anyhow::Result<Vec<u8>> {
    let def = &ledger.definition;
    let mut headers: Vec<String> = system_columns(def).iter().map(|c| c.name.clone()).collect();
    headers.extend(def.fields.iter().map(|f| f.header()));
    let mut x = XlsxExport::new(&def.name.chars().take(28).collect::<String>(), &headers)?;
    for e in rows {
        x.write_row(&entry_cells(def, e))?;
    }
    Ok(x.finish()?)
}

/// The uploaded sheet with an error column, for the clerk to fix and upload again.
pub fn error_report(sheet: &Sheet, errors: &[RowError]) -> anyhow::Result<Vec<u8>> {
    Ok(xiangzhi_exchange::write::error_report_xlsx(sheet, errors)?)
}
