//! Application-monitor specifications (`appmon=<name>:<command>:<timeout>:<restart>:<halt_timeout>`).
