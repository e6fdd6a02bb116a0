//! HTML preview: escaping, provenance links, missing markers.

mod common;

use common::{NASTY, sample_document};
use xiangzhi_document::{Block, Document, Inline, html};

#[test]
fn everything_is_escaped() {
    let mut doc = Document::new(NASTY);
    doc.subtitle = Some("<script>alert(1)</script>".into());
    doc.blocks
        .push(Block::heading(1, "<img src=x onerror=alert(1)>"));
    doc.blocks.push(Block::Paragraph(vec![
        Inline::text(NASTY),
        Inline::figure(
            "<b>5</b>",
            Some("https://xz.example/a?b=1&c=\"2\"><script>"),
        ),
        Inline::missing("<i>户数</i>"),
    ]));
    doc.blocks.push(Block::Table {
        caption: Some("<caption>".into()),
        header: vec!["<th>".into()],
        rows: vec![vec!["a&b".into()]],
    });
    let h = html::render(&doc);
    assert!(!h.contains("<script"), "{h}");
    assert!(!h.contains("<img"));
    assert!(!h.contains("<b>"));
    assert!(!h.contains("<i>"));
    assert!(h.contains("A&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;"));
    assert!(h.contains(r#"href="https://xz.example/a?b=1&amp;c=&quot;2&quot;&gt;&lt;script&gt;""#));
    assert!(h.contains("<td>a&amp;b</td>"));
    // Only our own tags remain.
    let tags: std::collections::BTreeSet<&str> = h
        .split('<')
        .skip(1)
        .map(|t| t.split([' ', '>']).next().unwrap().trim_start_matches('/'))
        .collect();
    let allowed = [
        "article", "h1", "h2", "p", "a", "mark", "table", "caption", "thead", "tr", "th", "tbody",
        "td",
    ];
    for t in &tags {
        assert!(allowed.contains(t), "unexpected tag <{t}> in {h}");
    }
}

#[test]
fn figures_link_to_provenance_and_missing_is_marked() {
    let h = html::render(&sample_document());
    assert!(h.contains(
        r#"<a class="figure" href="https://xz.example/indicators/grain_area?period=2023">3.76万亩</a>"#
    ));
    assert!(h.contains(r#"<span class="figure">1.65万吨</span>"#));
    assert!(h.contains(r#"<mark class="missing">【缺数据：新增监测户数】</mark>"#));
    assert!(h.contains(r#"<h2 class="level-1">一、2023年工作总结</h2>"#));
    assert!(h.contains(r#"<h5 class="level-4">（2）蔬菜</h5>"#));
    assert!(h.contains(r#"<hr class="page-break">"#));
    assert!(h.contains(r#"<p class="date">2024年1月5日</p>"#));
}

#[test]
fn relative_links_stay_and_unsafe_links_are_dropped() {
    let mut doc = Document::new("t");
    doc.blocks.push(Block::Paragraph(vec![
        Inline::figure("12户", Some("/records/1")),
        Inline::figure("3人", Some("javascript:alert(1)")),
        Inline::figure("4人", Some("//evil.example/")),
    ]));
    let h = html::render(&doc);
    assert!(h.contains(r#"<a class="figure" href="/records/1">12户</a>"#));
    assert!(h.contains(r#"<span class="figure">3人</span>"#));
    assert!(h.contains(r#"<span class="figure">4人</span>"#));
    assert!(!h.contains("javascript"));
}
