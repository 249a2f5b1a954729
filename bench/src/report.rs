//! Figures, the table printed at the end, and `results.json`.

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::stats::Summary;

/// What a figure's numbers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Nanoseconds, printed as µs, ms or s.
    Nanos,
    /// Bytes, printed as MiB.
    Bytes,
    /// Events or frames per second.
    PerSec,
    /// Bytes per second, printed as MB/s.
    BytesPerSec,
    /// A plain count.
    Count,
    /// A share of one CPU, in percent.
    CpuPercent,
}

impl Unit {
    /// `value` for people.
    pub fn show(self, value: f64) -> String {
        match self {
            Unit::Nanos if value >= 1e9 => format!("{:.2} s", value / 1e9),
            Unit::Nanos if value >= 1e6 => format!("{:.2} ms", value / 1e6),
            Unit::Nanos => format!("{:.1} µs", value / 1e3),
            Unit::Bytes => format!("{:.1} MiB", value / (1024.0 * 1024.0)),
            Unit::PerSec if value >= 1e6 => format!("{:.2} M/s", value / 1e6),
            Unit::PerSec => format!("{:.1} k/s", value / 1e3),
            Unit::BytesPerSec => format!("{:.0} MB/s", value / 1e6),
            Unit::Count => format!("{value:.0}"),
            Unit::CpuPercent => format!("{value:.3} %"),
        }
    }
}

/// Which statistic of podsup's samples a target is checked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// The median.
    P50,
    /// The largest sample.
    Max,
}

/// What a figure must reach.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Information only.
    None,
    /// podsup ÷ floor at most this (latencies).
    RatioAtMost(f64),
    /// podsup ÷ floor at least this (throughputs).
    RatioAtLeast(f64),
    /// podsup's statistic at most this, in the figure's unit.
    AtMost(f64, Stat),
}

/// One row: podsup's samples against the floor's, measured in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Short id for scripts (`restart.exec.100`).
    pub id: String,
    /// The row's title.
    pub name: String,
    /// Unit of every sample.
    pub unit: Unit,
    /// podsup's samples.
    pub podsup: Vec<f64>,
    /// The floor's samples (empty when there is no floor).
    pub floor: Vec<f64>,
    /// What it must reach.
    pub target: Target,
    /// How it was measured, or why it is what it is.
    pub note: String,
}

/// A figure with its verdict, as written to JSON.
#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    figure: &'a Figure,
    podsup_summary: Option<Summary>,
    floor_summary: Option<Summary>,
    ratio: Option<f64>,
    pass: Option<bool>,
}

impl Figure {
    /// A figure with no target and no note.
    pub fn new(id: impl Into<String>, name: impl Into<String>, unit: Unit) -> Figure {
        Figure {
            id: id.into(),
            name: name.into(),
            unit,
            podsup: Vec::new(),
            floor: Vec::new(),
            target: Target::None,
            note: String::new(),
        }
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Figure {
        self.target = target;
        self
    }

    /// Sets the note.
    pub fn note(mut self, note: impl Into<String>) -> Figure {
        self.note = note.into();
        self
    }

    /// podsup p50 ÷ floor p50.
    pub fn ratio(&self) -> Option<f64> {
        let p = Summary::of(&self.podsup)?;
        let f = Summary::of(&self.floor)?;
        (f.p50 != 0.0).then(|| p.p50 / f.p50)
    }

    /// Whether the target is met; `None` without a target or without samples.
    pub fn pass(&self) -> Option<bool> {
        let p = Summary::of(&self.podsup)?;
        match self.target {
            Target::None => None,
            Target::RatioAtMost(x) => self.ratio().map(|r| r <= x),
            Target::RatioAtLeast(x) => self.ratio().map(|r| r >= x),
            Target::AtMost(x, Stat::P50) => Some(p.p50 <= x),
            Target::AtMost(x, Stat::Max) => Some(p.max <= x),
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::None => "—".into(),
            Target::RatioAtMost(x) => format!("≤ {x}× floor"),
            Target::RatioAtLeast(x) => format!("≥ {:.0} % of floor", x * 100.0),
            Target::AtMost(x, Stat::P50) => format!("≤ {}", self.unit.show(x)),
            Target::AtMost(x, Stat::Max) => format!("max ≤ {}", self.unit.show(x)),
        }
    }
}

/// The table printed at the end of a run.
pub fn table(figures: &[Figure]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "figure",
        "n",
        "p50",
        "p90",
        "p99",
        "max",
        "floor p50",
        "ratio",
        "target",
        "result",
    ]);
    for f in figures {
        let p = Summary::of(&f.podsup);
        let show = |v: Option<f64>| v.map_or_else(|| "—".into(), |v| f.unit.show(v));
        let floor = Summary::of(&f.floor).map(|s| s.p50);
        let result = match f.pass() {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "",
        };
        let row = vec![
            Cell::new(&f.name),
            Cell::new(p.as_ref().map_or(0, |s| s.n)),
            Cell::new(show(p.as_ref().map(|s| s.p50))),
            Cell::new(show(p.as_ref().map(|s| s.p90))),
            Cell::new(show(p.as_ref().map(|s| s.p99))),
            Cell::new(show(p.as_ref().map(|s| s.max))),
            Cell::new(show(floor)),
            Cell::new(f.ratio().map_or_else(|| "—".into(), |r| format!("{r:.2}×"))),
            Cell::new(f.target_text()),
            Cell::new(result),
        ];
        table.add_row(row);
    }
    for col in 1..8 {
        if let Some(column) = table.column_mut(col) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string()
}

/// The JSON document of a run.
pub fn json(figures: &[Figure], context: serde_json::Value) -> serde_json::Value {
    let rows: Vec<Row<'_>> = figures
        .iter()
        .map(|figure| Row {
            figure,
            podsup_summary: Summary::of(&figure.podsup),
            floor_summary: Summary::of(&figure.floor),
            ratio: figure.ratio(),
            pass: figure.pass(),
        })
        .collect();
    serde_json::json!({ "context": context, "figures": rows })
}
