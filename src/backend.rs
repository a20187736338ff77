//! The driver crates the CLI builds on, named in one place: the simulator
//! (`hascript_sim`) and the LDoms parsers (`hascript parse`).

pub use hascript_ldoms::parse;
pub use hascript_sim::{driver_of, scenarios, LoggedCommand, ScenarioInfo, SimError, SimSite};
