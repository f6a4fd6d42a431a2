//! `mlc ping <connection>`: does this credential set work, and what is the API user missing?
//! One line per check; exit code 1 when any check fails.

use std::process::ExitCode;

use mlc_flows::connect_one;

use crate::home::Home;
use crate::output::Out;

pub async fn run(home: &Home, out: Out, connection: &str) -> anyhow::Result<ExitCode> {
    let conn = connect_one(&home.config, connection, home.secrets.as_ref()).await?;
    let checks = conn.ping().await;
    let all_ok = checks.iter().all(|c| c.ok);
    out.emit(
        &serde_json::json!({ "connection": connection, "system": conn.system(), "ok": all_ok, "checks": checks }),
        || {
            println!("{connection} ({})", conn.system());
            for c in &checks {
                println!("  [{}] {}: {}", if c.ok { "pass" } else { "FAIL" }, c.check, c.detail);
                if let Some(fix) = &c.fix {
                    println!("         fix: {fix}");
                }
            }
            println!("{}", if all_ok { "all checks passed" } else { "some checks failed: see the fixes above" });
        },
    )?;
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
