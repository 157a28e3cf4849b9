//! Prints the discovery evaluation (`cargo xtask eval-discovery`): recall@1, recall@5 and
//! MRR of pflow's ranking and of plain BM25 over `eval/library.json` for the queries of
//! `eval/queries.json`. `--misses` also lists the queries pflow did not rank first.

#![allow(clippy::print_stdout)] // a report for the terminal
#![allow(unreachable_pub)] // the harness is shared with a test, through `#[path]`

#[path = "../eval/harness.rs"]
mod harness;

fn main() {
    let misses = std::env::args().any(|a| a == "--misses");
    let (report, _, _) = harness::report(misses);
    print!("{report}");
}
