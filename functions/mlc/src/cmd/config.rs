//! `mlc config`: check the configuration and print what the SAM stack needs from it.
//!
//! On AWS the functions read the connections, flows (each with its cadence `every` and `enabled`)
//! and engine settings from the template parameter `ConnectorConfig` (the JSON form of `mlc.toml`,
//! without credentials); one scheduler tick a minute polls whichever flows are due, so nothing in
//! the template is per flow. The functions refuse to start on timings that break the rule
//! (HTTP timeout < function timeout < claim TTL < visibility timeout, attempts < receives): this
//! command derives the timing parameters that keep it for this configuration, checks them the
//! same way, and prints them with `ConnectorConfig`, so a deploy cannot start unsafe.

use std::time::Duration;

use anyhow::bail;
use mlc_flows::Config;
use mlc_flows::env::{StackTiming, http_timeout};
use serde::Serialize;

use crate::output::Out;

/// The template's defaults (`infra/template.yaml`), raised where this configuration needs more.
pub const DEFAULT_POSTER_TIMEOUT: u64 = 120;
pub const DEFAULT_VISIBILITY: u64 = 360;
pub const DEFAULT_MAX_RECEIVES: u32 = 10;

/// The stack parameters a configuration gives, by their names in the template.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct StackParameters {
    /// The configuration as one line of JSON.
    pub connector_config: String,
    pub poster_timeout: u64,
    pub poller_timeout: u64,
    pub queue_visibility_timeout: u64,
    pub max_receive_count: u32,
}

/// The configuration as the functions get it: the data directory means nothing there (the
/// server's body cap still applies).
pub fn stack_config(config: &Config) -> Config {
    Config { data_dir: None, ..config.clone() }
}

/// Timing parameters that keep the rule for `config`, checked as the functions will check them.
pub fn stack_parameters(config: &Config) -> anyhow::Result<StackParameters> {
    let engine = config.engine.engine_config();
    let http = http_timeout(config).as_secs();
    let claim = engine.lock_ttl.as_secs();
    // A minute beyond the longest HTTP call for budget waits, below the claim TTL.
    let function = DEFAULT_POSTER_TIMEOUT.max(http + 60).min(claim.saturating_sub(10)).max(http + 1);
    let params = StackParameters {
        connector_config: serde_json::to_string(&stack_config(config))?,
        poster_timeout: function,
        poller_timeout: function,
        queue_visibility_timeout: DEFAULT_VISIBILITY.max(claim + 60),
        max_receive_count: DEFAULT_MAX_RECEIVES.max(engine.max_attempts + 2),
    };
    for name in ["PosterTimeout", "PollerTimeout"] {
        let t = StackTiming {
            function_timeout: Some(Duration::from_secs(params.poster_timeout)),
            visibility_timeout: Some(Duration::from_secs(params.queue_visibility_timeout)),
            max_receives: Some(params.max_receive_count),
        };
        t.check(config, &format!("{name}={}", params.poster_timeout))?;
    }
    Ok(params)
}

/// One line per enabled flow: its kind and the cadence the scheduler tick polls it at (the
/// flow's `every`, or the default when it names none).
pub fn cadence_lines(config: &Config) -> Vec<String> {
    config
        .flows
        .iter()
        .filter(|(_, f)| f.enabled)
        .map(|(name, f)| {
            format!("  {name} ({}): polled every {} by the tick", f.kind.as_deref().unwrap_or(name), f.every)
        })
        .collect()
}

pub fn run(config: &Config, origin: Option<&str>, out: Out) -> anyhow::Result<()> {
    let Some(origin) = origin else {
        bail!("no configuration found: pass --config FILE (or set MLC_CONFIG, or create ./mlc.toml)");
    };
    config.check(origin)?;
    let params = stack_parameters(config)?;
    let enabled: Vec<&str> = config.flows.iter().filter(|(_, f)| f.enabled).map(|(n, _)| n.as_str()).collect();
    out.emit(&params, || {
        println!(
            "{origin} is valid: {} connections, {} flows ({} enabled: {})",
            config.connections.len(),
            config.flows.len(),
            enabled.len(),
            if enabled.is_empty() { "none".to_string() } else { enabled.join(", ") }
        );
        for line in cadence_lines(config) {
            println!("{line}");
        }
        println!(
            "timing: HTTP {} s < functions {} s < claim {} s < visibility {} s; {} attempts < {} receives",
            http_timeout(config).as_secs(),
            params.poster_timeout,
            config.engine.engine_config().lock_ttl.as_secs(),
            params.queue_visibility_timeout,
            config.engine.engine_config().max_attempts,
            params.max_receive_count
        );
        // Overrides on the command line replace samconfig.toml's, so Stage is repeated.
        let line = format!(
            "sam deploy --parameter-overrides Stage=<stage> PosterTimeout={} PollerTimeout={} QueueVisibilityTimeout={} MaxReceiveCount={} '{}'",
            params.poster_timeout,
            params.poller_timeout,
            params.queue_visibility_timeout,
            params.max_receive_count,
            format!("ConnectorConfig={}", params.connector_config).replace('\'', "'\\''")
        );
        println!("\nThe stack's parameters for this configuration, ready to deploy:\n\n{line}");
        println!("\nEach connection's credentials: `mlc credentials set <connection> --backend aws` (secret mlc/<stage>/<connection>).");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = "data_dir = \"/var/lib/mlc\"\n[connections.deltek]\nsystem = \"deltek\"\nbase_url = \"https://x.deltekfirst.com/X/api\"\ndatabase = \"C1\"\n[connections.cin7]\nsystem = \"cin7\"\nbase_url = \"https://inventory.dearsystems.com/ExternalApi/v2/\"\n[flows.cin7-deltek-ap]\nsource = \"cin7\"\ntarget = \"deltek\"\nevery = \"15m\"\n";

    #[test]
    fn the_printed_parameters_are_the_templates_and_its_defaults_pass() {
        let template = include_str!("../../../../infra/template.yaml");
        let c = Config::parse(TOML, "t.toml").unwrap();
        let p = stack_parameters(&c).unwrap();
        let v = serde_json::to_value(&p).unwrap();
        for name in v.as_object().unwrap().keys() {
            assert!(template.contains(&format!("\n  {name}:\n")), "infra/template.yaml has no parameter {name}");
        }
        assert_eq!(
            (p.poster_timeout, p.queue_visibility_timeout, p.max_receive_count),
            (DEFAULT_POSTER_TIMEOUT, DEFAULT_VISIBILITY, DEFAULT_MAX_RECEIVES),
            "the defaults suit the default engine settings"
        );
        for (param, default) in [
            ("PosterTimeout", DEFAULT_POSTER_TIMEOUT.to_string()),
            ("QueueVisibilityTimeout", DEFAULT_VISIBILITY.to_string()),
            ("MaxReceiveCount", DEFAULT_MAX_RECEIVES.to_string()),
        ] {
            let at = template.find(&format!("\n  {param}:\n")).unwrap();
            assert!(template[at..].lines().take(4).any(|l| l.trim() == format!("Default: {default}")), "{param}");
        }
    }

    #[test]
    fn a_configuration_that_needs_longer_timings_gets_them_and_an_impossible_one_is_refused() {
        let mut c = Config::parse(TOML, "t.toml").unwrap();
        c.engine.lock_ttl_secs = 600;
        c.engine.max_attempts = 12;
        let p = stack_parameters(&c).unwrap();
        assert_eq!((p.queue_visibility_timeout, p.max_receive_count), (660, 14));
        // A claim shorter than the longest HTTP call cannot be made safe by any stack parameter.
        c.engine.lock_ttl_secs = 30;
        let e = stack_parameters(&c).unwrap_err().to_string();
        assert!(e.contains("claim TTL") && !e.contains('\n'), "{e}");
    }

    /// The template has no per-flow parameter: every registered flow kind runs on the one tick
    /// with a default cadence, which `mlc config` prints and the stack's `ConnectorConfig` carries.
    #[test]
    fn every_flow_kind_has_a_default_cadence_that_mlc_config_prints_and_the_stack_carries() {
        let template = include_str!("../../../../infra/template.yaml");
        assert!(template.contains("rate(1 minute)"), "the template's one scheduler tick");
        let mut toml = String::new();
        let mut systems = std::collections::BTreeSet::new();
        for k in mlc_flows::catalog::kinds() {
            systems.insert(k.source_system);
            systems.insert(k.target_system);
            toml += &format!(
                "[flows.{n}]\nkind = \"{n}\"\nsource = \"{s}\"\ntarget = \"{t}\"\n",
                n = k.name,
                s = k.source_system,
                t = k.target_system
            );
            if k.name == "procore-deltek-commitments" {
                // The one kind whose options have no defaults: the GL accounts it posts to.
                toml += &format!(
                    "[flows.{}.options]\nwork_order_account = \"58100\"\npurchase_order_account = \"58200\"\noffset_account = \"29100\"\n",
                    k.name
                );
            }
            assert!(!template.contains(k.name), "infra/template.yaml still names the flow kind {}", k.name);
        }
        for s in &systems {
            toml += &format!("[connections.{s}]\nsystem = \"{s}\"\nbase_url = \"https://{s}.example.com/api/\"\n");
            toml += match *s {
                "deltek" => "database = \"C1\"\n",
                "acumatica" => "tenant = \"Company\"\n",
                "procore" => "company_id = 42\n",
                _ => "",
            };
        }
        let c = Config::parse(&toml, "kinds.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert!(c.flows.len() >= 14, "{} flow kinds registered", c.flows.len());
        let lines = cadence_lines(&c);
        let params = stack_parameters(&c).unwrap();
        let back: Config = serde_json::from_str(&params.connector_config).unwrap();
        for (name, f) in &c.flows {
            assert_eq!(f.every.0, Duration::from_secs(15 * 60), "{name}: the default cadence");
            assert!(
                lines.contains(&format!("  {name} ({name}): polled every {} by the tick", f.every)),
                "{name}: {lines:?}"
            );
            assert_eq!(back.flows[name].every, f.every, "{name}: the stack's ConnectorConfig carries the cadence");
        }
    }

    #[test]
    fn connector_config_round_trips_through_json() {
        let c = Config::parse(TOML, "t.toml").unwrap();
        let aws = stack_config(&c);
        assert_eq!(aws.data_dir, None);
        let back: Config = serde_json::from_str(&serde_json::to_string(&aws).unwrap()).unwrap();
        back.check("json").unwrap();
        assert_eq!(back.flows["cin7-deltek-ap"].every.rate_expression(), "rate(15 minutes)");
        assert_eq!(back.connections, c.connections);
    }
}
