//! The flow kinds ml-connector runs. Each flow file registers its kind with
//! [`crate::register_flow_kind!`] in its own file: the runtime, `mlc config` and `mlc demo` find
//! the kinds here, so adding a flow touches nothing but its file.
//!
//! A kind says which systems it joins, its mapping scope, how its options are checked (at load,
//! by every command: a typo or an out-of-range value is refused with the file and line), and how a
//! configured instance of it is built from connections into the [`RegistryBuilder`] — sharing its
//! source with every other flow on the same connection and record family.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use mlc_core::connect::{BuildError, Connections};
use mlc_core::engine::RegistryBuilder;
use mlc_core::engine::parts::{FlowDef, Source};
use serde::de::DeserializeOwned;

use crate::config::FlowSettings;

#[doc(hidden)]
pub use mlc_core::connect::linkme;

/// A flow kind, declared in its flow file.
#[derive(Debug)]
pub struct FlowKind {
    /// `cin7-deltek-ap`: what `kind = "..."` (or the flow's name) in the configuration says.
    pub name: &'static str,
    /// One line for people.
    pub description: &'static str,
    /// The systems of its source and target connections.
    pub source_system: &'static str,
    pub target_system: &'static str,
    /// Its mapping scope (`cin7-deltek`), shared with the other flows between the same systems.
    pub mapping_scope: &'static str,
    /// Check the `options` table without building anything: one line naming the bad key and
    /// what is expected.
    pub check_options: fn(&BTreeMap<String, serde_json::Value>) -> Result<(), String>,
    /// Build a configured instance into the registry.
    pub build: fn(&mut FlowContext<'_>) -> Result<(), BuildError>,
}

/// Every registered flow kind.
#[linkme::distributed_slice]
pub static FLOW_KINDS: [FlowKind];

/// Register a flow kind in its flow file: `crate::register_flow_kind!(AP, FlowKind { ... });`
#[macro_export]
macro_rules! register_flow_kind {
    ($ident:ident, $kind:expr) => {
        #[$crate::catalog::linkme::distributed_slice($crate::catalog::FLOW_KINDS)]
        #[linkme(crate = $crate::catalog::linkme)]
        static $ident: $crate::catalog::FlowKind = $kind;
    };
}

/// All flow kinds, by name.
pub fn kinds() -> Vec<&'static FlowKind> {
    let mut v: Vec<&'static FlowKind> = FLOW_KINDS.iter().collect();
    v.sort_by_key(|k| k.name);
    v
}

/// The kind of that name.
pub fn kind(name: &str) -> Option<&'static FlowKind> {
    FLOW_KINDS.iter().find(|k| k.name == name)
}

/// The kinds' names, for error messages.
pub fn kind_names() -> Vec<&'static str> {
    kinds().into_iter().map(|k| k.name).collect()
}

/// Read a flow's options table into `T` (`deny_unknown_fields`), naming the bad key. The options
/// every flow takes (`invoice_date_floor`) are read by the runtime, not by `T`.
pub fn parse_options<T: DeserializeOwned>(options: &BTreeMap<String, serde_json::Value>) -> Result<T, String> {
    let v = serde_json::Value::Object(crate::config::kind_options(options).into_iter().collect());
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// Sources already built, by key: flows on the same connection and record family share one.
#[derive(Default)]
pub struct SourcePool {
    by_key: BTreeMap<String, Arc<dyn Any + Send + Sync>>,
}

impl SourcePool {
    /// The source with this key, built by `make` the first time it is asked for.
    pub fn get_or_build<S: Source>(
        &mut self,
        key: &str,
        make: impl FnOnce() -> Result<S, BuildError>,
    ) -> Result<Arc<S>, BuildError> {
        if let Some(any) = self.by_key.get(key) {
            return any.clone().downcast::<S>().map_err(|_| {
                BuildError(format!("source {key} is already read through another kind of source; this is a bug"))
            });
        }
        let s = Arc::new(make()?);
        self.by_key.insert(key.to_string(), s.clone());
        Ok(s)
    }
}

/// What a flow kind's builder gets.
pub struct FlowContext<'a> {
    /// The flow's name in the configuration (`cin7-deltek-ap-east`).
    pub name: &'a str,
    /// The engine the flow runs in: for parts that need durable counters
    /// ([`mlc_core::Engine::sequences`]) or record acknowledgments ([`mlc_core::Engine::acknowledge`]).
    pub engine: &'a mlc_core::Engine,
    pub settings: &'a FlowSettings,
    pub connections: &'a Connections,
    pub sources: &'a mut SourcePool,
    pub registry: &'a mut RegistryBuilder,
}

impl FlowContext<'_> {
    /// The mapping scope this flow translates codes in: the configured one, else the kind's.
    pub fn mapping_scope(&self, kind: &FlowKind) -> String {
        self.settings.mapping_scope.clone().unwrap_or_else(|| kind.mapping_scope.to_string())
    }

    /// The flow's options, checked.
    pub fn options<T: DeserializeOwned>(&self) -> Result<T, BuildError> {
        parse_options(&self.settings.options).map_err(|e| BuildError(format!("options: {e}")))
    }

    /// The concrete connection behind the flow's source connection.
    pub fn source_connection<T: 'static>(&self, system: &str) -> Result<&T, BuildError> {
        self.connections.client::<T>(&self.settings.source, system)
    }

    /// The concrete connection behind the flow's target connection.
    pub fn target_connection<T: 'static>(&self, system: &str) -> Result<&T, BuildError> {
        self.connections.client::<T>(&self.settings.target, system)
    }

    /// The shared source `<source connection>/<family>`, built by `make` on first use.
    pub fn source<S: Source>(
        &mut self,
        family: &str,
        make: impl FnOnce() -> Result<S, BuildError>,
    ) -> Result<Arc<S>, BuildError> {
        let key = format!("{}/{family}", self.settings.source);
        self.sources.get_or_build(&key, make)
    }

    /// Add the flow, made of its parts.
    pub fn add<D: FlowDef>(
        &mut self,
        def: D,
        source: Arc<D::Source>,
        target: Arc<D::Target>,
    ) -> Result<(), BuildError> {
        let floor = self.settings.date_floor().map_err(|e| BuildError(format!("options: {e}")))?;
        self.registry
            .add_parts(mlc_core::engine::parts::WithDateFloor::new(def, floor), source, target)
            .map_err(BuildError)
    }
}
