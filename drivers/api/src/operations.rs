//! The operation table: how a driver offers its vendor operations to scripts without knowing
//! Rhai. Each [`Operation`] is one manual action with its own guard rails, callable alone:
//! a *read* (command + pure parser → a map), a *check* (a read + a verdict →
//! `#{check, ok, detail, remedy}`, never an error for a failed verdict) or a *change* (reads
//! its precondition, sends, reads its effect back; a change that leaves the cluster
//! unprotected registers its recovery routine before it sends). The engine turns every
//! entry into a script method on its object (`cluster.prepare_migration(guest, target)`),
//! and the driver's [`crate::Site::operation`] dispatches a call to the entry's function
//! over JSON values. The shared object traits keep only the cross-vendor surface.

use serde_json::Value;

use crate::{Error, ErrorKind, Result};

/// The global an operation hangs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    /// `cluster`
    Cluster,
    /// `fence`
    Fence,
    /// `hypervisor`
    Hypervisor,
    /// `package`
    Package,
}

impl Object {
    /// The global's name in scripts.
    pub fn name(self) -> &'static str {
        match self {
            Object::Cluster => "cluster",
            Object::Fence => "fence",
            Object::Hypervisor => "hypervisor",
            Object::Package => "package",
        }
    }
}

/// What an operation does to the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Reads only: a command and a pure parser.
    Read,
    /// Reads and judges: returns a verdict map, never throws for a failed verdict.
    Check,
    /// Changes the site (guard rails, recovery registration, read-back).
    Change,
}

impl OpKind {
    /// The kind's word in docs (`read`, `check`, `change`).
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Read => "read",
            OpKind::Check => "check",
            OpKind::Change => "change",
        }
    }
}

/// The script type of a parameter (what the engine accepts and converts to JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// An object map (options).
    Map,
    /// An array of strings (host names).
    Strings,
}

impl ParamType {
    /// The type's name in signatures.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Str => "String",
            ParamType::Int => "i64",
            ParamType::Map => "Map",
            ParamType::Strings => "Array",
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name in docs and errors.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
}

/// A string parameter.
pub const fn s(name: &'static str) -> Param {
    Param {
        name,
        ty: ParamType::Str,
    }
}

/// An integer parameter.
pub const fn int(name: &'static str) -> Param {
    Param {
        name,
        ty: ParamType::Int,
    }
}

/// An array-of-strings parameter.
pub const fn strings(name: &'static str) -> Param {
    Param {
        name,
        ty: ParamType::Strings,
    }
}

/// An options-map parameter.
pub const fn map(name: &'static str) -> Param {
    Param {
        name,
        ty: ParamType::Map,
    }
}

/// What the engine needs to know of an operation to make it a script method (no function:
/// the engine calls [`crate::Site::operation`], which finds the driver's entry).
#[derive(Debug, Clone, Copy)]
pub struct OperationSpec {
    /// The global it hangs on.
    pub object: Object,
    /// The method's name.
    pub name: &'static str,
    /// Its parameters, in order (the receiver not included). Overloads are separate entries.
    pub params: &'static [Param],
    /// The script type it returns (`Map`, `Array`, `i64`).
    pub ret: &'static str,
    /// Its doc comment (markdown, one line per `///` line): the REPL's help and the book.
    pub doc: &'static str,
    /// Read, check or change.
    pub kind: OpKind,
}

/// One entry of a driver's table: the spec and the function over JSON values, given the
/// driver's own state `T`.
pub struct Operation<T: ?Sized + 'static> {
    /// What scripts see.
    pub spec: OperationSpec,
    /// The action: arguments in the spec's order, converted to JSON.
    pub call: fn(&T, &[Value]) -> Result<Value>,
}

/// One table entry (drivers write their tables as lists of these).
pub const fn op<T: ?Sized + 'static>(
    object: Object,
    name: &'static str,
    params: &'static [Param],
    ret: &'static str,
    kind: OpKind,
    doc: &'static str,
    call: fn(&T, &[Value]) -> Result<Value>,
) -> Operation<T> {
    Operation {
        spec: OperationSpec {
            object,
            name,
            params,
            ret,
            doc,
            kind,
        },
        call,
    }
}

/// The specs of a driver's table (what the engine registers, with no site at hand).
pub fn specs_of<T: ?Sized>(table: &[Operation<T>]) -> Vec<OperationSpec> {
    table.iter().map(|o| o.spec).collect()
}

/// Find the entry of `table` for `object.name(args…)` and call it on `target`.
pub fn dispatch<T: ?Sized>(
    table: &[Operation<T>],
    target: &T,
    object: Object,
    name: &str,
    args: &[Value],
) -> Result<Value> {
    match table.iter().find(|op| {
        op.spec.object == object && op.spec.name == name && op.spec.params.len() == args.len()
    }) {
        Some(op) => (op.call)(target, args),
        None => Err(unsupported(object, name, args.len())),
    }
}

/// The error for an operation the site's driver does not offer.
pub fn unsupported(object: Object, name: &str, arity: usize) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "{}.{name} with {arity} argument(s) is not offered by this site's driver",
            object.name()
        ),
    )
}

/// Argument `i` as a string (the engine converted it from the spec's type).
pub fn arg_str(args: &[Value], i: usize) -> Result<&str> {
    args.get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::usage(format!("argument {} must be a string", i + 1)))
}

/// Argument `i` as strings (an array whose every element is a string).
pub fn arg_strings(args: &[Value], i: usize) -> Result<Vec<String>> {
    let arr = args
        .get(i)
        .and_then(Value::as_array)
        .ok_or_else(|| Error::usage(format!("argument {} must be an array of strings", i + 1)))?;
    arr.iter()
        .enumerate()
        .map(|(n, v)| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                Error::usage(format!(
                    "argument {}: element {n} is {v}; every element must be a string",
                    i + 1
                ))
            })
        })
        .collect()
}

/// Argument `i` as an integer.
pub fn arg_int(args: &[Value], i: usize) -> Result<i64> {
    args.get(i)
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::usage(format!("argument {} must be an integer", i + 1)))
}

/// Argument `i` as an options map, checked against the allowed keys (`func` names the
/// operation in the error).
pub fn arg_opts<'a>(
    args: &'a [Value],
    i: usize,
    allowed: &[&str],
    func: &str,
) -> Result<&'a serde_json::Map<String, Value>> {
    let m = args
        .get(i)
        .and_then(Value::as_object)
        .ok_or_else(|| Error::usage(format!("{func}: argument {} must be a map", i + 1)))?;
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Error::usage(format!(
                "{func}: unknown option `{k}`; the options are: {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(m)
}

/// A whole number of seconds from an options map (`None` when absent), refused when it is
/// not a positive integer.
pub fn opt_secs(
    m: &serde_json::Map<String, Value>,
    key: &str,
    func: &str,
) -> Result<Option<std::time::Duration>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(std::time::Duration::from_secs(n))),
            _ => Err(Error::usage(format!(
                "{func}: option `{key}` must be a whole number of seconds above 0, not {v}"
            ))),
        },
    }
}

/// A string from an options map (`None` when absent).
pub fn opt_str<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &str,
    func: &str,
) -> Result<Option<&'a str>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(Error::usage(format!(
            "{func}: option `{key}` must be a string, not {v}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(i64);

    const TABLE: &[Operation<Thing>] = &[
        Operation {
            spec: OperationSpec {
                object: Object::Cluster,
                name: "plus",
                params: &[int("n")],
                ret: "i64",
                doc: "Add.",
                kind: OpKind::Read,
            },
            call: |t, a| Ok(Value::from(t.0 + arg_int(a, 0)?)),
        },
        Operation {
            spec: OperationSpec {
                object: Object::Cluster,
                name: "plus",
                params: &[int("n"), int("m")],
                ret: "i64",
                doc: "Add two.",
                kind: OpKind::Read,
            },
            call: |t, a| Ok(Value::from(t.0 + arg_int(a, 0)? + arg_int(a, 1)?)),
        },
    ];

    #[test]
    fn dispatch_picks_the_overload_by_arity_and_object() {
        let t = Thing(1);
        let one = dispatch(TABLE, &t, Object::Cluster, "plus", &[2.into()]);
        assert_eq!(one.ok(), Some(Value::from(3)));
        let two = dispatch(TABLE, &t, Object::Cluster, "plus", &[2.into(), 3.into()]);
        assert_eq!(two.ok(), Some(Value::from(6)));
        let e = dispatch(TABLE, &t, Object::Fence, "plus", &[2.into()]).err();
        assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Unsupported));
    }

    #[test]
    fn options_are_checked_by_name() {
        let args = [serde_json::json!({"deadline": 5, "typo": 1})];
        let e = arg_opts(&args, 0, &["deadline"], "cluster.wait").err();
        assert!(e.is_some_and(|e| e.message.contains("unknown option `typo`")));
        let args = [serde_json::json!({"deadline": 0})];
        let m = arg_opts(&args, 0, &["deadline"], "x").ok();
        assert!(m.is_some_and(|m| opt_secs(m, "deadline", "x").is_err()));
    }
}
