//! Server-rendered SVG charts (no JavaScript): a value over time as a line with its axes, for the network detail page's signal chart and the system page.
//!
//! The SVG is served as its own `image/svg+xml` response and shown with `<img>`, where a
//! browser runs no script whatever the file holds. Every text in it is made here from numbers
//! and still goes through [`xml_escape`].

use std::fmt::Write as _;

use super::format;
use crate::model::TimeUs;

/// Plot size in CSS pixels (the image scales to the screen's width).
const W: f64 = 640.0;
const H: f64 = 220.0;
/// Margins for the axis labels.
const LEFT: f64 = 44.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 28.0;

/// What to draw: points (time, value), a fixed value range with grid lines every `step`, and
/// the unit for the y labels.
pub struct LineChart<'a> {
    pub points: &'a [(TimeUs, f64)],
    pub y_min: f64,
    pub y_max: f64,
    pub y_step: f64,
    pub unit: &'a str,
    /// Said in the middle of an empty chart.
    pub empty_text: &'a str,
    /// For screen readers (`<title>`).
    pub title: &'a str,
}

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl LineChart<'_> {
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(4096);
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11" role="img"><title>{}</title>"#,
            xml_escape(self.title)
        );
        s.push_str(r##"<rect width="100%" height="100%" fill="#fff"/>"##);
        let (lo, hi) = if self.y_max > self.y_min {
            (self.y_min, self.y_max)
        } else {
            (self.y_min - 1.0, self.y_min + 1.0)
        };
        let plot_w = W - LEFT - RIGHT;
        let plot_h = H - TOP - BOTTOM;
        let y_of = |v: f64| TOP + plot_h * (1.0 - (v.clamp(lo, hi) - lo) / (hi - lo));
        // Horizontal grid with labels.
        if self.y_step > 0.0 {
            let mut v = (lo / self.y_step).ceil() * self.y_step;
            while v <= hi + 1e-9 {
                let y = y_of(v);
                let _ = write!(
                    s,
                    r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
                    W - RIGHT,
                    LEFT - 4.0,
                    y + 4.0,
                    xml_escape(&format!("{v:.0}{}", self.unit))
                );
                v += self.y_step;
            }
        }
        let _ = write!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>"##
        );
        if self.points.is_empty() {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">{}</text></svg>"##,
                LEFT + plot_w / 2.0,
                TOP + plot_h / 2.0,
                xml_escape(self.empty_text)
            );
            return s;
        }
        let mut pts: Vec<(TimeUs, f64)> = self.points.to_vec();
        pts.sort_by_key(|p| p.0);
        let (t0, t1) = (pts[0].0, pts[pts.len() - 1].0);
        let span = (t1 - t0).max(1) as f64;
        let x_of = |t: TimeUs| {
            if t1 == t0 {
                LEFT + plot_w / 2.0
            } else {
                LEFT + plot_w * ((t - t0) as f64 / span)
            }
        };
        // Time labels: start and end (and the middle when there is room for it).
        let mut ticks = vec![(t0, "start")];
        if t1 > t0 {
            ticks.push((t0 + (t1 - t0) / 2, "middle"));
            ticks.push((t1, "end"));
        }
        for (t, anchor) in ticks {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" text-anchor="{anchor}" fill="#555">{}</text>"##,
                x_of(t),
                H - 8.0,
                xml_escape(&format::time_full(t)[11..])
            );
        }
        s.push_str(r##"<polyline fill="none" stroke="#0366d6" stroke-width="2" points=""##);
        for (t, v) in &pts {
            let _ = write!(s, "{:.1},{:.1} ", x_of(*t), y_of(*v));
        }
        s.push_str(r#""/>"#);
        if pts.len() <= 60 {
            for (t, v) in &pts {
                let _ = write!(
                    s,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#0366d6"/>"##,
                    x_of(*t),
                    y_of(*v)
                );
            }
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TimeUs = 1_795_737_600_000_000;

    #[test]
    fn a_line_through_every_point_within_the_plot() {
        let pts = [
            (T, -80.0),
            (T + 60_000_000, -40.0),
            (T + 120_000_000, -60.0),
        ];
        let svg = LineChart {
            points: &pts,
            y_min: -100.0,
            y_max: -20.0,
            y_step: 20.0,
            unit: "",
            empty_text: "none",
            title: "signal <&>",
        }
        .render();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>signal &lt;&amp;&gt;</title>"));
        let poly = svg.split("points=\"").nth(1).unwrap();
        let poly = &poly[..poly.find('"').unwrap()];
        let xy: Vec<(f64, f64)> = poly
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(xy.len(), 3);
        // Left edge, middle, right edge; -40 is above -60 is above -80 (SVG y grows down).
        assert_eq!(xy[0].0, LEFT);
        assert_eq!(xy[2].0, W - RIGHT);
        assert!(xy[1].1 < xy[2].1 && xy[2].1 < xy[0].1);
        // -100 ... -20 every 20: five grid labels; times as HH:MM:SS.
        assert_eq!(svg.matches("stroke=\"#ddd\"").count(), 5);
        assert!(svg.contains(">00:00:00<") && svg.contains(">00:02:00<"));
    }

    #[test]
    fn empty_chart_says_so() {
        let svg = LineChart {
            points: &[],
            y_min: 0.0,
            y_max: 100.0,
            y_step: 50.0,
            unit: "%",
            empty_text: "no readings",
            title: "t",
        }
        .render();
        assert!(svg.contains(">no readings<"));
        assert!(!svg.contains("polyline"));
        assert!(svg.contains(">50%<"));
    }
}
