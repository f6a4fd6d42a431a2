//! `mlc demo`: every flow against the built-in simulators, on the embedded store.

use crate::home::Globals;
use crate::output::Out;

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {}

pub async fn run(_g: &Globals, _out: Out, _args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("the demo arrives with the Cin7 → Deltek flow (issue 5), which is being built")
}
