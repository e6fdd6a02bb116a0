//! Render the reference document (the seed text, split into paragraphs) to
//! DOCX, PDF and HTML, and time each writer.
//!
//! ```text
//! cargo run --release -p xiangzhi-document --example seed -- [SEED.txt] [OUT_DIR]
//! ```
//! Defaults: `../shared/seed/000_dfb12432eec8a521.txt` beside the repository
//! and `$TMPDIR/xiangzhi-document-seed`. Look at the pages with
//! `pdftoppm -png -r 60 OUT_DIR/seed.pdf OUT_DIR/page`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use xiangzhi_document::{PdfConfig, PdfRenderer, docx, html};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seed = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(common::seed_path);
    let out = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("xiangzhi-document-seed"));
    std::fs::create_dir_all(&out)?;
    let text = std::fs::read_to_string(&seed)?;
    let doc = common::seed_document(&text);
    println!(
        "{}: {} blocks, {} characters",
        seed.display(),
        doc.blocks.len(),
        text.chars().count()
    );

    let t = Instant::now();
    let bytes = docx::render(&doc)?;
    println!("DOCX: {:>8.1} ms, {} bytes", ms(t), bytes.len());
    std::fs::write(out.join("seed.docx"), bytes)?;

    let t = Instant::now();
    let page = html::render(&doc);
    println!("HTML: {:>8.1} ms, {} bytes", ms(t), page.len());
    std::fs::write(out.join("seed.html"), page)?;

    let t = Instant::now();
    let renderer = PdfRenderer::new(&PdfConfig::default())?;
    println!("PDF font scan (once per process): {:>8.1} ms", ms(t));
    for run in 1..=3 {
        let t = Instant::now();
        let pdf = renderer.render(&doc)?;
        println!("PDF render #{run}: {:>8.1} ms, {} bytes", ms(t), pdf.len());
        std::fs::write(out.join("seed.pdf"), pdf)?;
    }
    println!("written to {}", out.display());
    Ok(())
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
