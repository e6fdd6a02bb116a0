//! Print the font families the PDF writer resolved for the body text.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let r = xiangzhi_document::PdfRenderer::new(&xiangzhi_document::PdfConfig::default())?;
    println!("{}", r.body_fonts());
    Ok(())
}
