//! Standalone simulator: `mlc-sim <system> [--port N]`. Prints one JSON line with the base URL
//! and credentials, then serves until Ctrl-C (the same as `mlc sim <system> --port N`).

fn usage() -> ! {
    eprintln!("usage: mlc-sim <{}> [--port N]", mlc_sim::systems().join("|"));
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some(system) = args.next() else { usage() };
    let mut port = 0u16;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" | "-p" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    if let Err(e) = mlc_sim::run_standalone(&system, port).await {
        eprintln!("mlc-sim: {e}");
        std::process::exit(1);
    }
}
