//! SVG charts with plotters: lines (one per policy) and ranked bars with confidence whiskers.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// One line of a line chart.
pub struct Line {
    /// Legend label.
    pub name: String,
    /// Points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Dashed reference line (a bound) rather than a measured series.
    pub dashed: bool,
    /// A 95% interval around the line, drawn as a translucent band: `(x, low, high)` in x order
    /// (empty: none).
    pub band: Vec<(f64, f64, f64)>,
}

/// One bar of a bar chart: a mean with its 95% interval.
pub struct Bar {
    /// Label.
    pub name: String,
    /// Mean.
    pub mean: f64,
    /// Interval.
    pub low: f64,
    /// Interval.
    pub high: f64,
}

/// The chart's palette: distinguishable, and the same policy gets the same colour in every chart
/// of a report (callers pass the policy's index).
pub fn colour(i: usize) -> RGBColor {
    const P: [RGBColor; 12] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(0, 0, 128),
        RGBColor(128, 64, 0),
    ];
    P[i % P.len()]
}

fn range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    (lo, hi + (hi - lo) * 0.05)
}

/// A line chart; `colours[i]` is line i's colour index.
pub fn lines(title: &str, x_label: &str, y_label: &str, lines: &[(Line, usize)]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 420)).into_drawing_area();
        let (x0, x1) = range(
            lines.iter().flat_map(|(l, _)| l.points.iter().map(|p| p.0)),
            false,
        );
        let (y0, y1) = range(
            lines.iter().flat_map(|(l, _)| {
                l.points
                    .iter()
                    .map(|p| p.1)
                    .chain(l.band.iter().flat_map(|b| [b.1, b.2]))
            }),
            true,
        );
        draw_lines(&root, title, x_label, y_label, lines, (x0, x1), (y0, y1))
            .expect("drawing into a string cannot fail");
    }
    svg
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[(Line, usize)],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (line, c) in lines.iter().filter(|(l, _)| !l.band.is_empty()) {
        // The band's outline: up along the high ends, back along the low ends.
        let outline: Vec<(f64, f64)> = line
            .band
            .iter()
            .map(|b| (b.0, b.2))
            .chain(line.band.iter().rev().map(|b| (b.0, b.1)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(
            outline,
            colour(*c).mix(0.18).filled(),
        )))?;
    }
    for (line, c) in lines {
        let colour = colour(*c);
        let style = colour.stroke_width(2);
        let series = if line.dashed {
            chart.draw_series(DashedLineSeries::new(
                line.points.iter().copied(),
                6,
                4,
                BLACK.stroke_width(1),
            ))?
        } else {
            chart.draw_series(LineSeries::new(line.points.iter().copied(), style))?
        };
        let legend_style = if line.dashed { BLACK.stroke_width(1) } else { style };
        series
            .label(line.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], legend_style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(("sans-serif", 12))
        .draw()?;
    root.present()
}

/// Horizontal bars, best first as given, with 95% whiskers; `colours[i]` is bar i's colour index.
pub fn bars(title: &str, value_label: &str, bars: &[(Bar, usize)]) -> String {
    bars_from(title, value_label, bars, 0.0)
}

/// Like [`bars`], drawn from `baseline` (1 for ratios to a bound, where the differences are small).
pub fn bars_from(title: &str, value_label: &str, bars: &[(Bar, usize)], baseline: f64) -> String {
    let mut svg = String::new();
    {
        let height = 90 + 26 * bars.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        draw_bars(&root, title, value_label, bars, baseline).expect("drawing into a string cannot fail");
    }
    svg
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    value_label: &str,
    bars: &[(Bar, usize)],
    baseline: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (x0, x1) = if baseline == 0.0 {
        range(bars.iter().flat_map(|(b, _)| [b.low, b.high, b.mean]), true)
    } else {
        let (_, hi) = range(
            bars.iter()
                .flat_map(|(b, _)| [b.low, b.high, b.mean])
                .chain([baseline]),
            false,
        );
        (baseline, hi)
    };
    let n = bars.len().max(1) as i32;
    let names: Vec<String> = bars.iter().map(|(b, _)| b.name.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(210)
        .build_cartesian_2d(x0..x1, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .x_desc(value_label)
        .y_labels(bars.len().max(1))
        .y_label_formatter(&|v| match v {
            // Row 0 is drawn at the top.
            SegmentValue::CenterOf(i) => names.get((n - 1 - *i) as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (k, (bar, c)) in bars.iter().enumerate() {
        let row = n - 1 - k as i32;
        let colour = colour(*c);
        let mut rect = Rectangle::new(
            [
                (x0.max(baseline).min(bar.mean), SegmentValue::Exact(row)),
                (bar.mean, SegmentValue::Exact(row + 1)),
            ],
            colour.mix(0.75).filled(),
        );
        rect.set_margin(4, 4, 0, 0);
        chart.draw_series(std::iter::once(rect))?;
        if bar.high > bar.low {
            // The whisker is a thin bar over the same segment, so it sits on the bar's middle.
            let mut whisker = Rectangle::new(
                [
                    (bar.low.max(x0), SegmentValue::Exact(row)),
                    (bar.high, SegmentValue::Exact(row + 1)),
                ],
                BLACK.filled(),
            );
            whisker.set_margin(12, 12, 0, 0);
            chart.draw_series(std::iter::once(whisker))?;
        }
    }
    root.present()
}

/// The SVG without its XML declaration, for inlining in HTML.
pub fn inline(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels() {
        let svg = lines(
            "t",
            "x axis",
            "y axis",
            &[(
                Line {
                    name: "first-fit".into(),
                    points: vec![(0.0, 1.0), (1.0, 2.0)],
                    dashed: false,
                    band: vec![(0.0, 0.5, 1.5), (1.0, 1.5, 2.5)],
                },
                0,
            )],
        );
        assert!(svg.contains("<svg") && svg.contains("first-fit") && svg.contains("x axis"));
        assert!(svg.contains("<polygon"), "the band is drawn");
        let svg = bars(
            "r",
            "v",
            &[(
                Bar {
                    name: "best-fit".into(),
                    mean: 2.0,
                    low: 1.5,
                    high: 2.5,
                },
                1,
            )],
        );
        assert!(svg.contains("best-fit") && svg.contains("<rect"));
    }
}
