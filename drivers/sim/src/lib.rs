//! hascript-sim (placeholder until the simulator lands).
