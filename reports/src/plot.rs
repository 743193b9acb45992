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
    /// Drawn thin and grey under the others, so that the highlighted lines stand out.
    pub muted: bool,
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

/// The chart's palette: 14 colours that stay apart from each other (Tableau 10, its grey made navy so
/// that no policy looks like a muted line, and four more chosen away from its hues), and the same policy gets the same colour in every chart of a
/// report (callers pass the policy's index; past 14 the colours repeat, and lines are told apart
/// by the legend's order).
pub fn colour(i: usize) -> RGBColor {
    const P: [RGBColor; 14] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(20, 20, 120),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(0, 0, 0),
        RGBColor(0, 95, 60),
        RGBColor(255, 215, 0),
        RGBColor(200, 0, 200),
    ];
    P[i % P.len()]
}

/// Type sizes, chosen to stay legible when a 760-px chart is shown 500 px wide.
const CAPTION: u32 = 22;
const LABEL: u32 = 16;

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
        let root = SVGBackend::with_string(&mut svg, (760, 460)).into_drawing_area();
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
    // The title spans the whole chart; the legend goes beside the plot, never over the data.
    let root = root.titled(title, ("sans-serif", CAPTION))?;
    let (plot, legend) = root.split_horizontally(560);
    let mut chart = ChartBuilder::on(&plot)
        .margin(10)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", LABEL))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    const GREY: RGBColor = RGBColor(200, 200, 200);
    for (line, _) in lines.iter().filter(|(l, _)| l.muted) {
        chart.draw_series(LineSeries::new(line.points.iter().copied(), GREY.stroke_width(1)))?;
    }
    for (line, c) in lines.iter().filter(|(l, _)| !l.band.is_empty() && !l.muted) {
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
    for (line, c) in lines.iter().filter(|(l, _)| !l.muted) {
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(
                line.points.iter().copied(),
                6,
                4,
                BLACK.stroke_width(1),
            ))?;
        } else {
            chart.draw_series(LineSeries::new(
                line.points.iter().copied(),
                colour(*c).stroke_width(2),
            ))?;
        }
    }
    // Legend: one row per line, in the order given, with its colour (or the dashed black).
    let row = (LABEL + 8) as i32;
    for (k, (line, c)) in lines.iter().enumerate() {
        let y = 14 + row * k as i32;
        let style = if line.dashed {
            BLACK.stroke_width(1)
        } else if line.muted {
            GREY.stroke_width(3)
        } else {
            colour(*c).stroke_width(3)
        };
        legend.draw(&PathElement::new(vec![(6, y), (28, y)], style))?;
        let name: String = line.name.chars().take(24).collect();
        legend.draw(&Text::new(
            name,
            (34, y - (LABEL as i32) / 2),
            ("sans-serif", LABEL - 2),
        ))?;
    }
    root.present()
}

/// A ranking: each value as a dot with its 95% whisker, best first as given, on an axis that
/// spans the values and their intervals (not from zero, so that differences of a point show);
/// `colours[i]` is row i's colour index.
pub fn bars(title: &str, value_label: &str, bars: &[(Bar, usize)]) -> String {
    bars_from(title, value_label, bars, f64::NAN)
}

/// Like [`bars`], drawn as bars from `baseline` (1 for ratios to a bound, where the differences
/// are small); a NaN baseline draws dots on an axis that spans the data.
pub fn bars_from(title: &str, value_label: &str, bars: &[(Bar, usize)], baseline: f64) -> String {
    let mut svg = String::new();
    {
        let height = 100 + 30 * bars.len().max(1) as u32;
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
    let dots = baseline.is_nan();
    let (x0, x1) = if dots {
        let (lo, hi) = range(bars.iter().flat_map(|(b, _)| [b.low, b.high, b.mean]), false);
        // range() pads the top only; pad the bottom alike so no whisker touches the frame.
        (lo - (hi - lo) * 0.05, hi)
    } else if baseline == 0.0 {
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
        .caption(title, ("sans-serif", CAPTION))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(250)
        .build_cartesian_2d(x0..x1, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .x_desc(value_label)
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", LABEL))
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
        if dots {
            if bar.high > bar.low {
                let mut whisker = Rectangle::new(
                    [
                        (bar.low, SegmentValue::Exact(row)),
                        (bar.high, SegmentValue::Exact(row + 1)),
                    ],
                    colour.mix(0.9).filled(),
                );
                whisker.set_margin(11, 11, 0, 0);
                chart.draw_series(std::iter::once(whisker))?;
            }
            chart.draw_series(std::iter::once(Circle::new(
                (bar.mean, SegmentValue::CenterOf(row)),
                6,
                colour.filled(),
            )))?;
            continue;
        }
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
    fn the_palette_has_no_near_duplicates() {
        // Every pair of the 14 colours lies at least 75 apart in RGB, as far as Tableau's own blue
        // and cyan (76): the former palette had brown (140,86,75) 67 from its grey, which also
        // looked like a muted line.
        for i in 0..14 {
            for j in 0..i {
                let (a, b) = (colour(i), colour(j));
                let d = [(a.0, b.0), (a.1, b.1), (a.2, b.2)]
                    .iter()
                    .map(|&(x, y)| f64::from(i32::from(x) - i32::from(y)).powi(2))
                    .sum::<f64>()
                    .sqrt();
                assert!(d >= 75.0, "colours {j} and {i}: {b:?} and {a:?} are {d:.0} apart");
            }
        }
    }

    #[test]
    fn a_ranking_axis_spans_the_values_not_zero() {
        let bar = |name: &str, mean: f64| Bar {
            name: name.into(),
            mean,
            low: mean - 0.002,
            high: mean + 0.002,
        };
        let svg = bars("r", "v", &[(bar("a", 0.95), 0), (bar("b", 0.94), 1)]);
        // Every tick label is near the values, none at zero: a point's difference shows (bars
        // from zero put 0.94 and 0.95 within a pixel of each other).
        let ticks: Vec<f64> = svg.lines().filter_map(|l| l.trim().parse().ok()).collect();
        assert!(
            ticks.len() >= 3 && ticks.iter().all(|&v| v > 0.9 && v < 1.0),
            "{ticks:?}"
        );
    }

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
                    muted: false,
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
