//! The `piwardrive` command line: one binary for the appliance, the demo, ingest and queries.

fn main() {
    println!("piwardrive {}", env!("CARGO_PKG_VERSION"));
}
