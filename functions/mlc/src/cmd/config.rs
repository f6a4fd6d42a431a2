//! `mlc config`: check the configuration and print what the SAM stack needs from it.
//!
//! On AWS the functions read the connections and flows from the template parameter
//! `ConnectorConfig` (the JSON form of `mlc.toml`, without credentials), enable flows from
//! `EnabledFlows`, and schedule each flow from its `<Flow>Cadence` parameter. This command derives
//! all three from the same `mlc.toml` used locally, so the two homes cannot drift apart.

use anyhow::bail;
use mlc_flows::Config;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::output::Out;

#[derive(Debug, Serialize)]
struct StackParameters {
    /// The `ConnectorConfig` parameter: the configuration as one line of JSON.
    connector_config: String,
    /// The `EnabledFlows` parameter.
    enabled_flows: String,
    /// `<Flow>Cadence` parameter → EventBridge rate expression.
    cadences: BTreeMap<String, String>,
}

/// The template's parameter name for a flow's cadence: `cin7-deltek-ap` → `Cin7DeltekApCadence`.
pub fn cadence_parameter(flow: &str) -> String {
    let mut name: String = flow
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect();
    name.push_str("Cadence");
    name
}

/// The configuration as the functions get it: the data directory means nothing there (the
/// server's body cap still applies).
pub fn stack_config(config: &Config) -> Config {
    Config { data_dir: None, ..config.clone() }
}

pub fn run(config: &Config, origin: Option<&str>, out: Out) -> anyhow::Result<()> {
    let Some(origin) = origin else {
        bail!("no configuration found: pass --config FILE (or set MLC_CONFIG, or create ./mlc.toml)");
    };
    config.check(origin)?;
    let aws = stack_config(config);
    let enabled: Vec<&str> = config.flows.iter().filter(|(_, f)| f.enabled).map(|(n, _)| n.as_str()).collect();
    let params = StackParameters {
        connector_config: serde_json::to_string(&aws)?,
        enabled_flows: enabled.join(","),
        cadences: config
            .flows
            .iter()
            .filter(|(_, f)| f.enabled)
            .map(|(n, f)| (cadence_parameter(n), f.every.rate_expression()))
            .collect(),
    };
    out.emit(&params, || {
        println!(
            "{origin} is valid: {} connections, {} flows ({} enabled)",
            config.connections.len(),
            config.flows.len(),
            enabled.len()
        );
        // Overrides on the command line replace samconfig.toml's, so Stage is repeated.
        let mut line =
            format!("sam deploy --parameter-overrides Stage=<stage> 'EnabledFlows={}'", params.enabled_flows);
        for (name, rate) in &params.cadences {
            line.push_str(&format!(" '{name}={rate}'"));
        }
        line.push_str(&format!(" '{}'", format!("ConnectorConfig={}", params.connector_config).replace('\'', "'\\''")));
        println!("\nThe stack's parameters for this configuration, ready to deploy:\n\n{line}");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadence_parameters_match_the_template() {
        assert_eq!(cadence_parameter("cin7-deltek-ap"), "Cin7DeltekApCadence");
        assert_eq!(cadence_parameter("cin7-deltek-vendors"), "Cin7DeltekVendorsCadence");
        let template = include_str!("../../../../infra/template.yaml");
        for kind in mlc_flows::catalog::kinds() {
            let p = cadence_parameter(kind.name);
            assert!(
                template.contains(&format!("  {p}:")),
                "infra/template.yaml has no {p} parameter for {}",
                kind.name
            );
        }
    }

    #[test]
    fn connector_config_round_trips_through_json() {
        let text = "data_dir = \"/var/lib/mlc\"\n[connections.deltek]\nsystem = \"deltek\"\nbase_url = \"https://x.deltekfirst.com/X/api\"\ndatabase = \"C1\"\n[connections.cin7]\nsystem = \"cin7\"\nbase_url = \"https://inventory.dearsystems.com/ExternalApi/v2/\"\n[flows.cin7-deltek-ap]\nsource = \"cin7\"\ntarget = \"deltek\"\nevery = \"15m\"\n";
        let c = Config::parse(text, "t.toml").unwrap();
        let aws = stack_config(&c);
        assert_eq!(aws.data_dir, None);
        let back: Config = serde_json::from_str(&serde_json::to_string(&aws).unwrap()).unwrap();
        back.check("json").unwrap();
        assert_eq!(back.flows["cin7-deltek-ap"].every.rate_expression(), "rate(15 minutes)");
        assert_eq!(back.connections, c.connections);
    }
}
