//! Pre-parse checks for ZIP-based workbooks: sizes from the central directory, then one
//! streaming pass (fixed buffer, nothing kept) that counts the real decompressed bytes and
//! finds each worksheet's extent, so that oversized or bomb-like files are refused before
//! calamine builds anything in memory.

use std::io::{Cursor, Read};

use crate::read::{Limits, ReadError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZipKind {
    Xlsx,
    Ods,
    Word,
    Presentation,
    Other,
}

/// Entries whose ratio of uncompressed to compressed size exceeds this, past
/// `RATIO_MIN_SIZE`, are treated as bombs. Real sheet XML compresses 10–100x.
const MAX_RATIO: u64 = 250;
const RATIO_MIN_SIZE: u64 = 16 << 20;
const MAX_ENTRIES: usize = 10_000;

pub(crate) fn inspect_zip(bytes: &[u8], limits: &Limits) -> Result<ZipKind, ReadError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ReadError::Corrupt(format!("压缩结构无法读取（{e}）")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(ReadError::Bomb);
    }
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|c| c.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| ReadError::Corrupt(format!("压缩结构无法读取（{e}）")))?;
    let has = |n: &str| names.iter().any(|x| x == n);
    let kind = if has("xl/workbook.xml") || has("xl/workbook.bin") {
        ZipKind::Xlsx
    } else if has("content.xml") && has("mimetype") {
        ZipKind::Ods
    } else if has("word/document.xml") {
        ZipKind::Word
    } else if has("ppt/presentation.xml") {
        ZipKind::Presentation
    } else {
        ZipKind::Other
    };
    if kind != ZipKind::Xlsx {
        return Ok(kind);
    }
    if has("xl/workbook.bin") && !has("xl/workbook.xml") {
        return Err(ReadError::Unsupported("XLSB（二进制工作簿）".into()));
    }

    // 1. declared sizes from the central directory
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|e| ReadError::Corrupt(format!("压缩结构无法读取（{e}）")))?;
        let (size, packed) = (f.size(), f.compressed_size().max(1));
        if size > RATIO_MIN_SIZE && size / packed > MAX_RATIO {
            return Err(ReadError::Bomb);
        }
        declared = declared.saturating_add(size);
    }
    if declared > limits.max_uncompressed_bytes {
        return Err(ReadError::Uncompressed {
            max_mb: limits.max_uncompressed_bytes >> 20,
        });
    }

    // 2. stream every entry, counting real bytes and scanning worksheets
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for name in &names {
        let is_sheet = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        let is_sst = name == "xl/sharedStrings.xml";
        let mut entry = zip
            .by_name(name)
            .map_err(|e| ReadError::Corrupt(format!("「{name}」无法读取（{e}）")))?;
        if entry.encrypted() {
            return Err(ReadError::Encrypted);
        }
        let mut scan = XmlScan::default();
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| ReadError::Corrupt(format!("「{name}」解压失败（{e}）")))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > limits.max_uncompressed_bytes {
                return Err(ReadError::Uncompressed {
                    max_mb: limits.max_uncompressed_bytes >> 20,
                });
            }
            if is_sheet || is_sst {
                scan.feed(&buf[..n]);
                if is_sheet {
                    scan.check(limits)?;
                }
                if is_sst && scan.unique_strings > limits.max_cells {
                    return Err(ReadError::TooManyCells {
                        max: limits.max_cells,
                    });
                }
            }
        }
    }
    Ok(kind)
}

/// A tiny tag scanner: enough to read `<dimension ref>`, `<row r>`, `<c r>` and
/// `<sst uniqueCount>` from a byte stream without an XML parser or a DOM.
#[derive(Default)]
struct XmlScan {
    in_tag: bool,
    tag: Vec<u8>,
    row: u64,
    col: u64,
    max_row: u64,
    max_col: u64,
    min_row: Option<u64>,
    min_col: Option<u64>,
    dimension: Option<(u64, u64)>,
    unique_strings: u64,
}

fn attr<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i + name.len() + 2 < tag.len() {
        if tag[i].is_ascii_whitespace()
            && tag[i + 1..].starts_with(name)
            && tag.get(i + 1 + name.len()) == Some(&b'=')
        {
            let q = *tag.get(i + 2 + name.len())?;
            if q != b'"' && q != b'\'' {
                return None;
            }
            let start = i + 3 + name.len();
            let end = tag[start..].iter().position(|&b| b == q)? + start;
            return Some(&tag[start..end]);
        }
        i += 1;
    }
    None
}

/// "XFD1048576" → (row 1048576, col 16384), both 1-based.
fn cell_ref(r: &[u8]) -> Option<(u64, u64)> {
    let r = r.strip_prefix(b"$").unwrap_or(r);
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let col = r[..letters].iter().fold(0u64, |acc, b| {
        acc * 26 + (b.to_ascii_uppercase() - b'A' + 1) as u64
    });
    let rest = &r[letters..];
    let rest = rest.strip_prefix(b"$").unwrap_or(rest);
    let row: u64 = std::str::from_utf8(rest).ok()?.parse().ok()?;
    Some((row, col))
}

impl XmlScan {
    fn feed(&mut self, data: &[u8]) {
        for &b in data {
            if self.in_tag {
                if b == b'>' {
                    self.in_tag = false;
                    let tag = std::mem::take(&mut self.tag);
                    self.tag_done(&tag);
                    self.tag = tag;
                    self.tag.clear();
                } else if self.tag.len() < 512 {
                    self.tag.push(b);
                }
            } else if b == b'<' {
                self.in_tag = true;
                self.tag.clear();
            }
        }
    }

    fn tag_done(&mut self, tag: &[u8]) {
        let name_end = tag
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(tag.len());
        let full = &tag[..name_end];
        let name = match full.iter().position(|&b| b == b':') {
            Some(i) => &full[i + 1..],
            None => full,
        };
        let self_closing = tag.last() == Some(&b'/');
        match name {
            b"dimension" => {
                if let Some(r) = attr(tag, b"ref") {
                    let last = r.split(|&b| b == b':').next_back().unwrap_or(r);
                    self.dimension = cell_ref(last);
                }
            }
            b"row" => {
                self.row = attr(tag, b"r")
                    .and_then(|r| std::str::from_utf8(r).ok()?.parse().ok())
                    .unwrap_or(self.row + 1);
                self.col = 0;
            }
            b"c" => {
                let (row, col) = attr(tag, b"r")
                    .and_then(cell_ref)
                    .unwrap_or((self.row.max(1), self.col + 1));
                self.row = row;
                self.col = col;
                if !self_closing {
                    self.max_row = self.max_row.max(row);
                    self.max_col = self.max_col.max(col);
                    self.min_row = Some(self.min_row.map_or(row, |m| m.min(row)));
                    self.min_col = Some(self.min_col.map_or(col, |m| m.min(col)));
                }
            }
            b"sst" => {
                self.unique_strings = attr(tag, b"uniqueCount")
                    .and_then(|r| std::str::from_utf8(r).ok()?.parse().ok())
                    .unwrap_or(0);
            }
            _ => {}
        }
    }

    fn check(&self, limits: &Limits) -> Result<(), ReadError> {
        let (dim_rows, dim_cols) = self.dimension.unwrap_or((0, 0));
        let rows = self.max_row.max(dim_rows);
        let cols = self.max_col.max(dim_cols);
        if rows > limits.max_rows as u64 {
            return Err(ReadError::TooManyRows {
                rows,
                max: limits.max_rows,
            });
        }
        if cols > limits.max_columns as u64 {
            return Err(ReadError::TooManyColumns {
                columns: cols,
                max: limits.max_columns,
            });
        }
        if let (Some(r0), Some(c0)) = (self.min_row, self.min_col) {
            let cells = (self.max_row - r0 + 1) * (self.max_col - c0 + 1);
            if cells > limits.max_cells {
                return Err(ReadError::TooManyCells {
                    max: limits.max_cells,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_extent_across_chunks() {
        let xml = br#"<worksheet><dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" s="2"/></row><row r="7" spans="1:2"><c r="B7"><v>1</v></c></row></sheetData></worksheet>"#;
        let mut s = XmlScan::default();
        for chunk in xml.chunks(7) {
            s.feed(chunk);
        }
        assert_eq!(s.dimension, Some((3, 3)));
        assert_eq!((s.max_row, s.max_col), (7, 2));
        assert_eq!((s.min_row, s.min_col), (Some(1), Some(1)));
        assert_eq!(cell_ref(b"XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(attr(b"row r=\"5\" spans=\"1:2\"", b"r"), Some(&b"5"[..]));
    }
}
