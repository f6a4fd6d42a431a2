//! `mlc mappings suggest <scope>`: propose code pairs between two systems for a person to confirm.

use std::path::Path;

use crate::home::Home;
use crate::output::Out;

pub async fn run(_home: &Home, _out: Out, scope: &str, _file: Option<&Path>) -> anyhow::Result<()> {
    anyhow::bail!("mapping suggestions for {scope} arrive with the Cin7 → Deltek flow (issue 5), which is being built")
}
