//! PDFs made by the server: a small layout of headings, lines and tables on A4 pages, written
//! with krilla in two fonts compiled into the binary (DejaVu Sans Condensed for Latin text,
//! Droid Sans Fallback for Chinese; see `fonts/README.md`), so both print correctly on
//! machines without fonts. Text is measured with the fonts' own advances and each run drawn
//! in the font that has its glyphs; each PDF embeds only the glyphs it uses (krilla subsets).
//!
//! Layout first (what goes where on which page), then drawing: a page's content is known
//! before the page is opened.

use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font, TextDirection};

const CJK: &[u8] = include_bytes!("../fonts/DroidSansFallbackFull.ttf");
const LATIN: &[u8] = include_bytes!("../fonts/DejaVuSansCondensed.ttf");

/// The two faces, parsed once, for measuring.
static FACES: std::sync::LazyLock<Option<(ttf_parser::Face<'static>, ttf_parser::Face<'static>)>> =
    std::sync::LazyLock::new(|| {
        Some((
            ttf_parser::Face::parse(LATIN, 0).ok()?,
            ttf_parser::Face::parse(CJK, 0).ok()?,
        ))
    });

/// Whether `c` is drawn in the Latin font (it has the glyph), else in the CJK one.
fn latin(c: char) -> bool {
    FACES
        .as_ref()
        .is_some_and(|(l, _)| c == ' ' || l.glyph_index(c).is_some())
}

/// The advance of `c` at `size`, from the font that draws it.
fn advance(c: char, size: f32) -> f32 {
    let Some((l, k)) = FACES.as_ref() else {
        return size;
    };
    let face = if latin(c) { l } else { k };
    let units = face
        .glyph_index(c)
        .and_then(|g| face.glyph_hor_advance(g))
        .map_or(f32::from(face.units_per_em()), f32::from);
    units / f32::from(face.units_per_em()) * size
}
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;

/// What a PDF says, block by block.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// A heading that starts a new page (every record begins on its own page).
    Title(String),
    /// A smaller heading.
    Heading(String),
    /// Text, wrapped to the page.
    Text(String),
    /// A table: headers and rows, wrapped within equal columns.
    Table(Vec<String>, Vec<Vec<String>>),
    /// A horizontal bar chart: per label, a value and a reference drawn as a mark (e.g. the
    /// share delivered against the share promised), on a scale from 0 to `max`.
    Bars {
        /// Bars: label, value, reference.
        bars: Vec<(String, f64, Option<f64>)>,
        /// The scale's end.
        max: f64,
        /// What the value and the reference are (the legend).
        legend: String,
    },
}

/// One thing drawn on a page.
enum Mark {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Rule {
        y: f32,
    },
    /// A filled rectangle in an RGB colour.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        rgb: (u8, u8, u8),
    },
}

/// The width of `text` at `size`.
fn width(text: &str, size: f32) -> f32 {
    text.chars().map(|c| advance(c, size)).sum()
}

/// `text` cut into runs of one font: (is Latin, the run).
fn runs(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let l = latin(c);
        match out.last_mut() {
            Some((kind, run)) if *kind == l => run.push(c),
            _ => out.push((l, c.to_string())),
        }
    }
    out
}

/// `text` broken into lines no wider than `max` at `size` (by character: Chinese has no
/// spaces to break at; Latin words may break too, which keeps long hashes inside a cell).
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for c in para.chars() {
            let mut next = line.clone();
            next.push(c);
            if width(&next, size) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line.push(c);
            } else {
                line = next;
            }
        }
        lines.push(line);
    }
    lines
}

/// Lays the blocks out on pages.
fn layout(blocks: &[Block]) -> Vec<Vec<Mark>> {
    let mut pages: Vec<Vec<Mark>> = vec![Vec::new()];
    let mut y = MARGIN;
    let usable = WIDTH - 2.0 * MARGIN;
    let need = |pages: &mut Vec<Vec<Mark>>, y: &mut f32, h: f32| {
        if *y + h > HEIGHT - MARGIN && *y > MARGIN {
            pages.push(Vec::new());
            *y = MARGIN;
        }
    };
    for (i, b) in blocks.iter().enumerate() {
        match b {
            Block::Title(t) => {
                if i > 0 && y > MARGIN {
                    pages.push(Vec::new());
                    y = MARGIN;
                }
                for line in wrap(t, 18.0, usable) {
                    y += 24.0;
                    pages.last_mut().expect("a page").push(Mark::Text {
                        x: MARGIN,
                        y,
                        size: 18.0,
                        text: line,
                    });
                }
                y += 8.0;
            }
            Block::Heading(t) => {
                need(&mut pages, &mut y, 40.0);
                y += 10.0;
                for line in wrap(t, 13.0, usable) {
                    y += 17.0;
                    pages.last_mut().expect("a page").push(Mark::Text {
                        x: MARGIN,
                        y,
                        size: 13.0,
                        text: line,
                    });
                }
                y += 4.0;
            }
            Block::Text(t) => {
                for line in wrap(t, 10.0, usable) {
                    need(&mut pages, &mut y, 14.0);
                    y += 14.0;
                    pages.last_mut().expect("a page").push(Mark::Text {
                        x: MARGIN,
                        y,
                        size: 10.0,
                        text: line,
                    });
                }
            }
            Block::Table(headers, rows) => {
                let cols = headers.len().max(1);
                let col = usable / cols as f32;
                let size = 8.0;
                let lead = 10.5;
                let row = |pages: &mut Vec<Vec<Mark>>, y: &mut f32, cells: &[String]| {
                    let wrapped: Vec<Vec<String>> =
                        cells.iter().map(|c| wrap(c, size, col - 4.0)).collect();
                    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
                    let h = lines as f32 * lead + 4.0;
                    need(pages, y, h);
                    let top = *y;
                    for (j, cell) in wrapped.iter().enumerate() {
                        for (k, line) in cell.iter().enumerate() {
                            pages.last_mut().expect("a page").push(Mark::Text {
                                x: MARGIN + j as f32 * col,
                                y: top + (k + 1) as f32 * lead,
                                size,
                                text: line.clone(),
                            });
                        }
                    }
                    *y = top + h;
                    pages
                        .last_mut()
                        .expect("a page")
                        .push(Mark::Rule { y: *y - 1.0 });
                };
                y += 4.0;
                row(&mut pages, &mut y, headers);
                for r in rows {
                    row(&mut pages, &mut y, r);
                }
                y += 6.0;
            }
            Block::Bars { bars, max, legend } => {
                let label_w = usable * 0.3;
                let track = usable - label_w - 40.0;
                let scale = |v: f64| (v.clamp(0.0, max.max(1e-9)) / max.max(1e-9)) as f32 * track;
                need(&mut pages, &mut y, 30.0);
                y += 14.0;
                pages.last_mut().expect("a page").push(Mark::Text {
                    x: MARGIN,
                    y,
                    size: 8.0,
                    text: legend.clone(),
                });
                y += 6.0;
                for (label, value, reference) in bars {
                    need(&mut pages, &mut y, 16.0);
                    let p = pages.last_mut().expect("a page");
                    let top = y + 3.0;
                    p.push(Mark::Text {
                        x: MARGIN,
                        y: top + 8.0,
                        size: 8.0,
                        text: wrap(label, 8.0, label_w - 4.0)
                            .into_iter()
                            .next()
                            .unwrap_or_default(),
                    });
                    let x0 = MARGIN + label_w;
                    p.push(Mark::Rect {
                        x: x0,
                        y: top,
                        w: track,
                        h: 10.0,
                        rgb: (235, 235, 235),
                    });
                    let behind = reference.is_some_and(|r| *value < r);
                    p.push(Mark::Rect {
                        x: x0,
                        y: top,
                        w: scale(*value).max(0.5),
                        h: 10.0,
                        rgb: if behind {
                            (200, 60, 50)
                        } else {
                            (50, 120, 190)
                        },
                    });
                    if let Some(r) = reference {
                        p.push(Mark::Rect {
                            x: x0 + scale(*r) - 0.75,
                            y: top - 2.0,
                            w: 1.5,
                            h: 14.0,
                            rgb: (0, 0, 0),
                        });
                    }
                    p.push(Mark::Text {
                        x: x0 + track + 4.0,
                        y: top + 8.0,
                        size: 8.0,
                        text: format!("{value:.1}"),
                    });
                    y += 16.0;
                }
                y += 6.0;
            }
        }
    }
    pages
}

/// A PDF answer: `make` runs off the async threads (drawing and subsetting the font is CPU
/// work); the PDF is shown inline under `name`, or a 500 is answered and the cause logged.
pub(crate) async fn answer(
    name: String,
    make: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let failed = |e: String| {
        tracing::error!(error = %e, pdf = %name, "a PDF could not be made");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the PDF could not be made",
        )
            .into_response()
    };
    match tokio::task::spawn_blocking(make).await {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => failed(e),
        Err(e) => failed(e.to_string()),
    }
}

/// The PDF of `blocks`, or why it could not be written.
pub(crate) fn render(blocks: &[Block]) -> Result<Vec<u8>, String> {
    let cjk = Font::new(CJK.into(), 0).ok_or("the CJK font does not load")?;
    let latin_font = Font::new(LATIN.into(), 0).ok_or("the Latin font does not load")?;
    let mut doc = Document::new();
    for marks in layout(blocks) {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or("page size")?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        for m in marks {
            match m {
                Mark::Text { x, y, size, text } => {
                    let mut at = x;
                    for (is_latin, run) in runs(&text) {
                        let font = if is_latin { &latin_font } else { &cjk };
                        surface.draw_text(
                            Point::from_xy(at, y),
                            font.clone(),
                            size,
                            &run,
                            false,
                            TextDirection::Auto,
                        );
                        at += width(&run, size);
                    }
                }
                Mark::Rect { x, y, w, h, rgb } => {
                    let mut p = PathBuilder::new();
                    if let Some(rect) = krilla::geom::Rect::from_xywh(x, y, w, h) {
                        p.push_rect(rect);
                    }
                    if let Some(path) = p.finish() {
                        surface.set_fill(Some(krilla::paint::Fill {
                            paint: krilla::color::rgb::Color::new(rgb.0, rgb.1, rgb.2).into(),
                            ..krilla::paint::Fill::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_fill(Some(krilla::paint::Fill::default()));
                    }
                }
                Mark::Rule { y } => {
                    let mut p = PathBuilder::new();
                    p.move_to(MARGIN, y);
                    p.line_to(WIDTH - MARGIN, y);
                    if let Some(path) = p.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width: 0.4,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                        surface.set_fill(Some(krilla::paint::Fill::default()));
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_by_width_and_tables_break_across_pages() {
        let lines = wrap("公益服务方案（内容、频次、职工覆盖面）", 10.0, 60.0);
        assert!(lines.len() > 1 && lines.iter().all(|l| width(l, 10.0) <= 60.0));
        let rows: Vec<Vec<String>> = (0..200)
            .map(|i| vec![i.to_string(), "组织".into()])
            .collect();
        let pages = layout(&[
            Block::Title("开标记录".into()),
            Block::Table(vec!["序号".into(), "投标人".into()], rows),
            Block::Title("评标报告".into()),
        ]);
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let pdf = render(&[Block::Title("开标记录 Opening record".into())]).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            pdf.len() < 200_000,
            "the font is subset: {} bytes",
            pdf.len()
        );
    }
}
