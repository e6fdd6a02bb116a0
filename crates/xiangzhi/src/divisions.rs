//! Reading the national division files (统计用区划代码): provinces.csv, cities.csv, areas.csv,
//! streets.csv and villages.csv(.gz), as published in the `china-division` layout.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::NewOrgUnit;

/// `(file stem, column holding the parent code)`, top level first.
const FILES: [(&str, Option<&str>); 5] = [
    ("provinces", None),
    ("cities", Some("provinceCode")),
    ("areas", Some("cityCode")),
    ("streets", Some("areaCode")),
    ("villages", Some("streetCode")),
];

/// Reads every level, keeping only `under` (and its ancestors, so the tree stays rooted).
/// Bad rows are collected and reported together with file and line.
pub fn read_dir(
    dir: &Path,
    under: Option<&DivisionCode>,
    mut progress: impl FnMut(&str, u64),
) -> Result<Vec<NewOrgUnit>> {
    let mut units = Vec::new();
    let mut problems = Vec::new();
    for (stem, parent_col) in FILES {
        let (reader, name) = open(dir, stem)?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(reader);
        let headers = csv
            .headers()
            .with_context(|| format!("{name}：无法读取表头"))?
            .clone();
        let col = |n: &str| headers.iter().position(|h| h.trim() == n);
        let (Some(code_i), Some(name_i)) = (col("code"), col("name")) else {
            bail!(
                "{name}：缺少 code 或 name 列（表头为：{}）",
                headers.iter().collect::<Vec<_>>().join(",")
            );
        };
        let parent_i = match parent_col {
            Some(p) => Some(col(p).with_context(|| format!("{name}：缺少 {p} 列"))?),
            None => None,
        };
        let mut n = 0u64;
        for (i, record) in csv.records().enumerate() {
            let line = i + 2;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("{name} 第 {line} 行：格式错误（{e}）"));
                    continue;
                }
            };
            let raw_code = record.get(code_i).unwrap_or("");
            let code = match DivisionCode::parse(raw_code) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("{name} 第 {line} 行：{e}"));
                    continue;
                }
            };
            if let Some(u) = under {
                let keep =
                    code.as_str().starts_with(u.as_str()) || u.as_str().starts_with(code.as_str());
                if !keep {
                    continue;
                }
            }
            let parent_code =
                match parent_i.map(|p| DivisionCode::parse(record.get(p).unwrap_or(""))) {
                    None => None,
                    Some(Ok(p)) => Some(p),
                    Some(Err(e)) => {
                        problems.push(format!("{name} 第 {line} 行：上级{e}"));
                        continue;
                    }
                };
            units.push(NewOrgUnit {
                code,
                name: record.get(name_i).unwrap_or("").to_string(),
                parent_code,
            });
            n += 1;
            if n.is_multiple_of(50_000) {
                progress(stem, n);
            }
        }
        progress(stem, n);
    }
    if !problems.is_empty() {
        let total = problems.len();
        problems.truncate(20);
        bail!(
            "区划文件有 {total} 处错误，未导入任何数据：\n{}",
            problems.join("\n")
        );
    }
    if units.is_empty() {
        bail!(
            "区划文件中没有找到任何单位{}",
            under
                .map(|u| format!("（代码 {u} 之下）"))
                .unwrap_or_default()
        );
    }
    Ok(units)
}

fn open(dir: &Path, stem: &str) -> Result<(Box<dyn Read>, String)> {
    let plain = dir.join(format!("{stem}.csv"));
    let gz = dir.join(format!("{stem}.csv.gz"));
    if plain.exists() {
        let f = File::open(&plain).with_context(|| format!("无法打开 {}", plain.display()))?;
        Ok((
            Box::new(BufReader::with_capacity(1 << 20, f)),
            format!("{stem}.csv"),
        ))
    } else if gz.exists() {
        let f = File::open(&gz).with_context(|| format!("无法打开 {}", gz.display()))?;
        Ok((
            Box::new(BufReader::with_capacity(
                1 << 20,
                GzDecoder::new(BufReader::new(f)),
            )),
            format!("{stem}.csv.gz"),
        ))
    } else {
        bail!(
            "目录 {} 中缺少 {stem}.csv（或 {stem}.csv.gz）",
            dir.display()
        )
    }
}

/// Where the 2023 division files are: `XIANGZHI_DIVISIONS`, or `shared/data/divisions-2023`
/// beside or above the working directory, or beside the source tree.
pub fn find_default_dir() -> Option<std::path::PathBuf> {
    if let Ok(d) = std::env::var("XIANGZHI_DIVISIONS") {
        return Some(d.into());
    }
    let rel = Path::new("shared/data/divisions-2023");
    let cwd = std::env::current_dir().ok()?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    for base in cwd.ancestors().chain(source.ancestors()) {
        let candidate = base.join(rel);
        if candidate.join("provinces.csv").exists() {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A division directory with the given file contents (header lines included).
    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let defaults: HashMap<&str, &str> = [
            ("provinces", "code,name\n36,\"江西省\"\n"),
            ("cities", "code,name,provinceCode\n3610,\"抚州市\",36\n"),
            ("areas", "code,name,cityCode,provinceCode\n361002,\"临川区\",3610,36\n"),
            ("streets", "code,name,areaCode,provinceCode,cityCode\n361002201,\"连城乡\",361002,36,3610\n"),
            (
                "villages",
                "code,name,streetCode,provinceCode,cityCode,areaCode\n361002201211,\"头昌村委会\",361002201,36,3610,361002\n",
            ),
        ]
        .into();
        for (stem, content) in defaults {
            let content = files
                .iter()
                .find(|(s, _)| *s == stem)
                .map(|(_, c)| *c)
                .unwrap_or(content);
            std::fs::write(dir.path().join(format!("{stem}.csv")), content).unwrap();
        }
        dir
    }

    fn read(dir: &tempfile::TempDir) -> Result<Vec<NewOrgUnit>> {
        read_dir(dir.path(), None, |_, _| {})
    }

    #[test]
    fn reads_every_level_with_parents() {
        let units = read(&dir_with(&[])).unwrap();
        assert_eq!(units.len(), 5);
        let village = units
            .iter()
            .find(|u| u.code.as_str() == "361002201211")
            .unwrap();
        assert_eq!(village.parent_code.as_ref().unwrap().as_str(), "361002201");
        assert_eq!(village.name, "头昌村委会");
    }

    #[test]
    fn under_keeps_the_subtree_and_its_ancestors() {
        let dir = dir_with(&[(
            "cities",
            "code,name,provinceCode\n3610,\"抚州市\",36\n3601,\"南昌市\",36\n",
        )]);
        let under = DivisionCode::parse("3610").unwrap();
        let units = read_dir(dir.path(), Some(&under), |_, _| {}).unwrap();
        assert!(units.iter().any(|u| u.code.as_str() == "36"));
        assert!(!units.iter().any(|u| u.code.as_str() == "3601"));
    }

    #[test]
    fn bad_codes_and_malformed_rows_are_all_reported() {
        let dir = dir_with(&[(
            "villages",
            "code,name,streetCode,provinceCode,cityCode,areaCode\n36100220121X,\"坏村\",361002201,36,3610,361002\n3610022012,\"短码\",361002201,36,3610,361002\n361002201212,\"断行\n",
        )]);
        let err = read(&dir).unwrap_err().to_string();
        assert!(err.contains("3 处错误"), "{err}");
        assert!(
            err.contains("只能由数字组成") && err.contains("位数不对"),
            "{err}"
        );
        assert!(err.contains("villages.csv 第 2 行"), "{err}");
    }

    #[test]
    fn missing_files_and_columns_are_named() {
        let dir = dir_with(&[]);
        std::fs::remove_file(dir.path().join("streets.csv")).unwrap();
        assert!(
            read(&dir)
                .unwrap_err()
                .to_string()
                .contains("缺少 streets.csv")
        );
        let dir = dir_with(&[("cities", "code,name\n3610,\"抚州市\"\n")]);
        assert!(
            read(&dir)
                .unwrap_err()
                .to_string()
                .contains("缺少 provinceCode 列")
        );
    }

    #[test]
    fn gzipped_villages_are_read() {
        use std::io::Write;
        let dir = dir_with(&[]);
        let plain = std::fs::read(dir.path().join("villages.csv")).unwrap();
        std::fs::remove_file(dir.path().join("villages.csv")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        std::fs::write(dir.path().join("villages.csv.gz"), gz.finish().unwrap()).unwrap();
        assert_eq!(read(&dir).unwrap().len(), 5);
    }
}
