//! The one choke point between driver results and Rhai: driver values become Rhai maps and
//! arrays, driver errors become catchable maps `#{kind, host, command, exit, signal,
//! stderr, message, remedy}` (absent fields are `()`), and cancellation becomes Rhai's uncatchable
//! termination.

use hascript_api::objects::Value;
use hascript_api::{Error, ErrorKind};
use rhai::{Dynamic, EvalAltResult, Map, Position};

/// The result type of every native function scripts call.
pub type RhaiRes<T> = Result<T, Box<EvalAltResult>>;

/// The token Rhai's termination carries when a run is interrupted.
pub const CANCELLED: &str = "cancelled";

fn opt_str(v: &Option<String>) -> Dynamic {
    match v {
        Some(s) => s.clone().into(),
        None => Dynamic::UNIT,
    }
}

/// The map scripts see for a driver error.
pub fn error_map(err: &Error) -> Map {
    let mut m = Map::new();
    m.insert("kind".into(), err.kind.name().into());
    m.insert("message".into(), err.message.clone().into());
    m.insert("host".into(), opt_str(&err.host));
    m.insert("command".into(), opt_str(&err.command));
    m.insert(
        "exit".into(),
        err.exit
            .map_or(Dynamic::UNIT, |e| Dynamic::from_int(e.into())),
    );
    m.insert("signal".into(), opt_str(&err.signal));
    m.insert("stderr".into(), opt_str(&err.stderr));
    m.insert("remedy".into(), opt_str(&err.remedy));
    m
}

/// Turn a driver error into the Rhai error scripts see (catchable map, or termination for
/// `Cancelled`).
pub fn throw(err: Error, pos: Position) -> Box<EvalAltResult> {
    if err.kind == ErrorKind::Cancelled {
        // The driver may say what the interruption leaves behind; carry it in the token.
        let token = if err.message == "interrupted" {
            CANCELLED.to_string()
        } else {
            err.message
        };
        return EvalAltResult::ErrorTerminated(token.into(), pos).into();
    }
    let mut m = error_map(&err);
    // Where the driver call was made, as Rhai's own error maps carry it: a script that
    // catches the error and throws it again still gets it reported where it arose.
    if let Some(line) = pos.line() {
        m.insert("line".into(), Dynamic::from_int(line as rhai::INT));
        m.insert(
            "position".into(),
            Dynamic::from_int(pos.position().unwrap_or(0) as rhai::INT),
        );
    }
    EvalAltResult::ErrorRuntime(m.into(), pos).into()
}

/// A usage error thrown at `pos`.
pub fn usage(message: impl Into<String>, pos: Position) -> Box<EvalAltResult> {
    throw(Error::usage(message), pos)
}

/// A driver value as a Rhai value.
pub fn value(v: &Value, pos: Position) -> RhaiRes<Dynamic> {
    rhai::serde::to_dynamic(v).map_err(|e| {
        throw(
            Error::new(
                ErrorKind::Parse,
                format!("cannot convert a driver value: {e}"),
            ),
            pos,
        )
    })
}

/// Lift a driver result into a Rhai result.
pub fn lift(r: hascript_api::Result<Value>, pos: Position) -> RhaiRes<Dynamic> {
    match r {
        Ok(v) => value(&v, pos),
        Err(e) => Err(throw(e, pos)),
    }
}

/// The error kind of a thrown value: the `kind` of a map whose kind is known.
pub fn kind_of(v: &Dynamic) -> Option<ErrorKind> {
    let m = v.read_lock::<Map>()?;
    let k = m.get("kind")?.clone().into_string().ok()?;
    ErrorKind::from_name(&k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_error_becomes_a_map_with_every_field() {
        let e = Error::new(ErrorKind::Command, "false failed on cd1")
            .on_host("cd1")
            .with_command("false")
            .with_exit(1);
        let m = error_map(&e);
        assert_eq!(
            m["kind"].clone().into_string().ok().as_deref(),
            Some("command")
        );
        assert_eq!(m["exit"].as_int().ok(), Some(1));
        assert!(m["stderr"].is_unit());
        assert!(m["remedy"].is_unit());
        assert_eq!(kind_of(&Dynamic::from_map(m)), Some(ErrorKind::Command));
    }

    #[test]
    fn cancelled_is_termination() {
        let r = throw(Error::cancelled(), Position::NONE);
        assert!(matches!(*r, EvalAltResult::ErrorTerminated(..)));
        assert!(!r.is_catchable());
    }
}
