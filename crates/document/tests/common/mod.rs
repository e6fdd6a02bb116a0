//! Shared test fixtures: a sample document and the reference seed text.
#![allow(dead_code)]

use std::path::PathBuf;

use xiangzhi_document::{Block, Document, Inline};

/// Path of the reference document (`shared/` lies beside the repository).
pub fn seed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seed/000_dfb12432eec8a521.txt")
}

/// A few paragraphs of the seed, used when `shared/` is not beside the repo.
const SEED_EXCERPT: &str = "X乡2023年工作总结及2024年工作计划
2023年X乡在区委、区政府和乡党委的坚强领导下，坚持以习近平新时代中国特色社会主义思想为指导，科学统筹经济社会发展，全乡经济社会实现了良好的发展态势。
一、2023年工作总结
（一）坚持稳中求进基调，开创高质量发展新局面
稳定农业产业，保持稳中有进。2023年完成粮食种植面积3.76万亩，产量1.65万吨；蔬菜种植面积0.8万亩，产量2.6万吨；水果期末面积0.41万亩，产量0.38万吨；生猪出栏0.74万头；活家禽出栏11.62万只，同比均实现增长。
（二）坚持惠民生增福祉，民生事业发展新篇章
关注重点人群，兜底保障到位。全乡2023年新增城乡低保15户22人，认定低保边缘家庭8户14人，做到应保尽保，特困人员护理率达100％。临时救助16户16人，发放临时救助金2.105万元。
二、2024年工作计划
一是继续巩固拓展脱贫攻坚成果。加强脱贫户动态化管理和健全防止返贫致贫监测和帮扶机制，坚决筑牢不出现规模性返贫致贫的底线。
";

/// The seed text: the full reference document when available.
pub fn seed_text() -> String {
    match std::fs::read_to_string(seed_path()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "注意：未找到参考文档 {}（{e}），改用内置摘录",
                seed_path().display()
            );
            SEED_EXCERPT.to_owned()
        }
    }
}

const CN_DIGITS: &str = "一二三四五六七八九十";

/// Turn the plain seed text into a Document: first line is the title,
/// `一、…` lines are level-1 headings, `（一）…` lines level-2 headings (their
/// numbers are stripped, the writers number them again), the rest paragraphs.
pub fn seed_document(text: &str) -> Document {
    let mut lines = text
        .lines()
        .map(|l| l.replace("##paidbegin##", "").replace("##paidend##", ""))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    let mut doc = Document::new(lines.next().unwrap_or_default());
    for line in lines {
        let short = line.chars().count() <= 40;
        if let Some(rest) = strip_level1(&line).filter(|_| short) {
            doc.blocks.push(Block::heading(1, rest));
        } else if let Some(rest) = strip_level2(&line).filter(|_| short) {
            doc.blocks.push(Block::heading(2, rest));
        } else {
            doc.blocks.push(Block::paragraph(line));
        }
    }
    doc.issuer = Some("X乡人民政府".into());
    doc.date = Some("2024年1月5日".into());
    doc
}

fn strip_level1(line: &str) -> Option<&str> {
    let n = line.chars().take_while(|c| CN_DIGITS.contains(*c)).count();
    if n == 0 {
        return None;
    }
    let rest = &line[n * 3..];
    rest.strip_prefix('、')
}

fn strip_level2(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('（')?;
    let n = rest.chars().take_while(|c| CN_DIGITS.contains(*c)).count();
    if n == 0 {
        return None;
    }
    rest[n * 3..].strip_prefix('）')
}

/// A small document exercising every block and inline kind.
pub fn sample_document() -> Document {
    Document {
        title: "X乡2023年工作总结及2024年工作计划".into(),
        subtitle: Some("（征求意见稿）".into()),
        issuer: Some("X乡人民政府".into()),
        date: Some("2024年1月5日".into()),
        blocks: vec![
            Block::heading(1, "2023年工作总结"),
            Block::heading(2, "坚持稳中求进基调，开创高质量发展新局面"),
            Block::Paragraph(vec![
                Inline::text("稳定农业产业，保持稳中有进。2023年完成粮食种植面积"),
                Inline::figure(
                    "3.76万亩",
                    Some("https://xz.example/indicators/grain_area?period=2023"),
                ),
                Inline::text("，产量"),
                Inline::figure("1.65万吨", None),
                Inline::text("；新增纳入监测户"),
                Inline::missing("新增监测户数"),
                Inline::text("。"),
            ]),
            Block::heading(3, "种植业"),
            Block::heading(4, "粮食"),
            Block::heading(4, "蔬菜"),
            Block::heading(3, "养殖业"),
            Block::heading(2, "坚持惠民生增福祉，民生事业发展新篇章"),
            Block::heading(3, "低保"),
            Block::Table {
                caption: Some("表1 2023年民生保障情况".into()),
                header: vec!["项目".into(), "户数".into(), "人数".into()],
                rows: vec![
                    vec!["城乡低保".into(), "15".into(), "22".into()],
                    vec!["低保边缘家庭".into(), "8".into(), "14".into()],
                    vec!["临时救助".into(), "16".into()],
                ],
            },
            Block::PageBreak,
            Block::heading(1, "2024年工作计划"),
            Block::heading(2, "行富民强民之举，务经济发展之实"),
            Block::paragraph("一是继续巩固拓展脱贫攻坚成果。"),
        ],
    }
}

/// Text with every character that is special in XML, HTML or typst markup.
pub const NASTY: &str =
    r#"A<b>&"c"'d' #set $x$ *bold* _em_ [a] \n <lbl> @ref `raw` ~ // /* = - + 1. }{ )("#;

/// Collapse all whitespace (pdftotext inserts line breaks and spaces).
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Remove page numbers `—n—` (after [`squash`]): pdftotext prints them in
/// the middle of a paragraph that runs over a page break. Returns the text
/// and the page numbers found.
pub fn strip_page_numbers(s: &str) -> (String, Vec<u32>) {
    let mut out = String::new();
    let mut numbers = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('—') {
        out.push_str(&rest[..i]);
        let after = &rest[i + '—'.len_utf8()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let tail = &after[digits.len()..];
        if !digits.is_empty() && tail.starts_with('—') {
            numbers.push(digits.parse().unwrap());
            rest = &tail['—'.len_utf8()..];
        } else {
            out.push('—');
            rest = after;
        }
    }
    out.push_str(rest);
    (out, numbers)
}
