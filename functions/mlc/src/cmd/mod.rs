//! One module per `mlc` subcommand (or family of them).

pub mod config;
pub mod console;
pub mod credentials;
pub mod cursor;

pub mod items;
pub mod mappings;
pub mod names;
pub mod ping;
pub mod run;
pub mod sim;
pub mod suggest;
pub mod target;
pub mod tieout;
pub mod x12;
