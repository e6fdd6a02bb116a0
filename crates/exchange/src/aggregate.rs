//! Aggregate data exchange with DHIS2: dataValueSets JSON and IHE ADX XML, with codes as
//! identifiers (`idScheme=CODE`), so a county running DHIS2 can take xiangzhi's figures.
//!
//! Both formats carry the same [`DataValueRecord`]s; reading a file written here gives the
//! same records back. Periods are DHIS2 codes in the records (`2023`, `2023Q1`, `202301`);
//! ADX writes them as ISO 8601 `start/duration` (`2023-01-01/P1Y`) as the profile requires.
//! Values are kept as text, as both formats do: meaning (numbers, units) is the caller's.

use serde::{Deserialize, Serialize};
use xiangzhi_domain::period::{Period, PeriodType};

/// The namespace of IHE ADX messages.
pub const ADX_NAMESPACE: &str = "urn:ihe:qrph:adx:2015";

/// One value of a data element for a unit and period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataValueRecord {
    pub data_element: String,
    pub period: String,
    pub org_unit: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AggregateError {
    #[error("文件格式错误：{0}")]
    Format(String),
    #[error("第{index}条数据：{reason}")]
    Value { index: usize, reason: String },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataValueSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_set: Option<String>,
    data_values: Vec<DataValueRecord>,
}

/// DHIS2 `dataValueSets` JSON (import with `idScheme=CODE`).
pub fn write_dhis2(data_set: Option<&str>, values: &[DataValueRecord]) -> String {
    let set = DataValueSet {
        data_set: data_set.map(str::to_string),
        data_values: values.to_vec(),
    };
    serde_json::to_string_pretty(&set).unwrap_or_default()
}

pub fn read_dhis2(text: &str) -> Result<Vec<DataValueRecord>, AggregateError> {
    let set: DataValueSet =
        serde_json::from_str(text).map_err(|e| AggregateError::Format(e.to_string()))?;
    for (i, v) in set.data_values.iter().enumerate() {
        check(i + 1, v)?;
    }
    Ok(set.data_values)
}

fn check(index: usize, v: &DataValueRecord) -> Result<(), AggregateError> {
    let bad = |reason: String| AggregateError::Value { index, reason };
    if v.data_element.trim().is_empty() || v.org_unit.trim().is_empty() {
        return Err(bad("缺少数据项或单位代码".into()));
    }
    Period::parse(&v.period).map_err(|_| bad(format!("期间“{}”无效", v.period)))?;
    Ok(())
}

/// ISO 8601 `start/duration` of a period: `2023-01-01/P1Y`, `2023-04-01/P3M`.
pub fn adx_period(code: &str) -> Option<String> {
    let p = Period::parse(code).ok()?;
    let dur = match p.period_type() {
        PeriodType::Day => "P1D",
        PeriodType::Week => "P7D",
        PeriodType::Month => "P1M",
        PeriodType::Quarter => "P3M",
        PeriodType::SixMonth => "P6M",
        PeriodType::Year => "P1Y",
    };
    Some(format!("{}/{dur}", p.start().format("%Y-%m-%d")))
}

/// The DHIS2 code of an ADX period, if it names exactly one period.
pub fn period_from_adx(s: &str) -> Option<String> {
    let (start, dur) = s.split_once('/')?;
    let start = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d").ok()?;
    let t = match dur {
        "P1D" => PeriodType::Day,
        "P7D" | "P1W" => PeriodType::Week,
        "P1M" => PeriodType::Month,
        "P3M" => PeriodType::Quarter,
        "P6M" => PeriodType::SixMonth,
        "P1Y" => PeriodType::Year,
        _ => return None,
    };
    let p = Period::containing(start, t);
    (p.start() == start).then(|| p.to_string())
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// An ADX message: one `<group>` per unit and period, in first-seen order.
pub fn write_adx(
    data_set: &str,
    exported: &str,
    values: &[DataValueRecord],
) -> Result<String, AggregateError> {
    let mut groups: Vec<((String, String), Vec<&DataValueRecord>)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        check(i + 1, v)?;
        let key = (v.org_unit.clone(), v.period.clone());
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(v),
            None => groups.push((key, vec![v])),
        }
    }
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<adx xmlns=\"{ADX_NAMESPACE}\" exported=\"{}\">\n",
        esc(exported)
    );
    for ((org, period), vs) in groups {
        let p = adx_period(&period)
            .ok_or_else(|| AggregateError::Format(format!("期间“{period}”无效")))?;
        out.push_str(&format!(
            "  <group orgUnit=\"{}\" period=\"{}\" dataSet=\"{}\">\n",
            esc(&org),
            esc(&p),
            esc(data_set)
        ));
        for v in vs {
            out.push_str(&format!(
                "    <dataValue dataElement=\"{}\" value=\"{}\"",
                esc(&v.data_element),
                esc(&v.value)
            ));
            match &v.comment {
                Some(c) => out.push_str(&format!(
                    ">\n      <annotation>{}</annotation>\n    </dataValue>\n",
                    esc(c)
                )),
                None => out.push_str("/>\n"),
            }
        }
        out.push_str("  </group>\n");
    }
    out.push_str("</adx>\n");
    Ok(out)
}

pub fn read_adx(text: &str) -> Result<Vec<DataValueRecord>, AggregateError> {
    let doc =
        roxmltree::Document::parse(text).map_err(|e| AggregateError::Format(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "adx" || root.tag_name().namespace() != Some(ADX_NAMESPACE) {
        return Err(AggregateError::Format(format!(
            "根元素应为 {ADX_NAMESPACE} 命名空间的 adx"
        )));
    }
    let mut out = Vec::new();
    for g in root.children().filter(|n| n.is_element()) {
        if g.tag_name().name() != "group" {
            return Err(AggregateError::Format(format!(
                "未知元素 {}",
                g.tag_name().name()
            )));
        }
        let attr = |n: &roxmltree::Node, a: &str| -> Result<String, AggregateError> {
            n.attribute(a).map(str::to_string).ok_or_else(|| {
                AggregateError::Format(format!("{} 缺少属性 {a}", n.tag_name().name()))
            })
        };
        let org = attr(&g, "orgUnit")?;
        let adx_p = attr(&g, "period")?;
        let period = period_from_adx(&adx_p)
            .ok_or_else(|| AggregateError::Format(format!("期间“{adx_p}”无效")))?;
        for v in g.children().filter(|n| n.is_element()) {
            if v.tag_name().name() != "dataValue" {
                return Err(AggregateError::Format(format!(
                    "未知元素 {}",
                    v.tag_name().name()
                )));
            }
            let comment = v
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == "annotation")
                .map(|n| n.text().unwrap_or("").to_string());
            out.push(DataValueRecord {
                data_element: attr(&v, "dataElement")?,
                period: period.clone(),
                org_unit: org.clone(),
                value: attr(&v, "value")?,
                comment,
            });
        }
    }
    for (i, v) in out.iter().enumerate() {
        check(i + 1, v)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<DataValueRecord> {
        vec![
            DataValueRecord {
                data_element: "FISCAL_REVENUE".into(),
                period: "2023".into(),
                org_unit: "361002201".into(),
                value: "1200000000".into(),
                comment: Some("2023年完成财税1200万元 <&\"'>".into()),
            },
            DataValueRecord {
                data_element: "FOREST_COVERAGE".into(),
                period: "2023Q2".into(),
                org_unit: "361002201211".into(),
                value: "56.2".into(),
                comment: None,
            },
            DataValueRecord {
                data_element: "X".into(),
                period: "2024W05".into(),
                org_unit: "361002201".into(),
                value: "1".into(),
                comment: None,
            },
        ]
    }

    #[test]
    fn dhis2_round_trip() {
        let text = write_dhis2(Some("XIANGZHI"), &sample());
        assert!(text.contains("\"dataElement\": \"FISCAL_REVENUE\""));
        assert_eq!(read_dhis2(&text).unwrap(), sample());
    }

    #[test]
    fn adx_round_trip() {
        let text = write_adx("XIANGZHI", "2026-01-01T00:00:00Z", &sample()).unwrap();
        assert!(text.contains("period=\"2023-04-01/P3M\""));
        assert_eq!(read_adx(&text).unwrap(), sample());
    }

    #[test]
    fn adx_periods() {
        for code in ["2023", "2023S2", "2023Q4", "202302", "2024W01", "20240229"] {
            let a = adx_period(code).unwrap();
            assert_eq!(period_from_adx(&a).as_deref(), Some(code), "{a}");
        }
        assert_eq!(period_from_adx("2023-02-01/P1Y"), None);
    }

    #[test]
    fn bad_input_is_refused_in_chinese() {
        assert!(read_adx("<adx/>").is_err());
        let bad =
            r#"{"dataValues":[{"dataElement":"A","period":"2023X","orgUnit":"1","value":"1"}]}"#;
        let e = read_dhis2(bad).unwrap_err();
        assert!(e.to_string().contains("期间"), "{e}");
    }
}
