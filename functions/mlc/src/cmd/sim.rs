//! `mlc sim <system> --port N`: one vendor simulator, standalone, for users and tests. The first
//! line of output is one JSON object with `system`, `base_url` and the demo `credentials`.

pub async fn run(system: &str, port: u16) -> anyhow::Result<()> {
    mlc_sim::run_standalone(system, port).await?;
    Ok(())
}
