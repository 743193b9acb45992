//! `packsim policies`: the catalogue of placement policies.

use std::io::Write;

use packing::{Family, Kind};

/// Arguments of `packsim policies`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Print each policy's full definition and reference instead of one line.
    #[arg(long)]
    long: bool,
    /// Show only the policy with this name.
    name: Option<String>,
}

/// Prints the policies, grouped by family.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let all = Kind::all();
    let mut out = std::io::stdout().lock();
    if let Some(name) = &args.name {
        // A spec's options (`best-fit@sample=2`) and sums explain their kinds.
        let kind = packing::policy::parse_kind(name.split('@').next().unwrap_or(name).trim())?;
        writeln!(
            out,
            "{kind}  [{}]\n\n{}",
            kind.family().title(),
            wrap(&kind.doc(), 96, "")
        )?;
        return Ok(());
    }
    let families = [
        Family::Satyr,
        Family::Classic,
        Family::Decreasing,
        Family::Scoring,
        Family::Baseline,
        Family::Gpu,
    ];
    let width = all.iter().map(|k| k.name().len()).max().unwrap_or(0);
    for family in families {
        writeln!(out, "{}:", family.title())?;
        for kind in all.iter().filter(|k| k.family() == family) {
            if args.long {
                writeln!(out, "  {kind}\n{}\n", wrap(&kind.doc(), 92, "      "))?;
            } else {
                writeln!(out, "  {:width$}  {}", kind.name(), kind.summary())?;
            }
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Scoring policies combine as a weighted sum of their 0-100 scores, as kube-scheduler sums\n\
         plugin scores: --policy 'kube-least-allocated*1+kube-balanced-allocation*2'.\n\
         \n\
         A scoring policy (or sum) may score only a sample of the machines where a task fits:\n\
         the first ones found from a seeded, pseudo-random start, going up through the ids.\n\
         This changes decisions, trading quality for speed on large clusters, so it is off\n\
         unless a spec asks for it:\n\
         \x20 POLICY@sample=N     N machines (Nomad's bin packing scores 2)\n\
         \x20 POLICY@sample=P%    kube-scheduler's percentageOfNodesToScore: P% of the machines,\n\
         \x20                     at least 100 (all of them when there are fewer)\n\
         \x20 POLICY@sample=kube  kube-scheduler's default: 50 - machines/125 percent, at least 5%\n\
         Compare a policy with and without it to see the cost: packsim compare -p\n\
         kube-balanced-allocation,kube-balanced-allocation@sample=kube\n\
         \n\
         `packsim policies NAME` prints one policy's full definition; --long prints them all."
    )?;
    Ok(())
}

/// Greedy word wrap with an indent on every line.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines.join("\n")
}
