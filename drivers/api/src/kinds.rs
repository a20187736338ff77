//! `hascript parse <kind>` for every driver: a driver lists its parsers once
//! ([`KindParsers`]), and [`parse_kind`] / [`parse_kind_json`] turn a kind and a text into
//! the JSON that mirrors the product, with the same errors for every driver.

use serde::Serialize;

/// A driver's table of parsers behind `hascript parse <kind>`.
pub trait KindParsers {
    /// The driver's error for output that could not be read.
    type Error;
    /// A parsed output of any kind (an untagged enum), serialised as the JSON.
    type Parsed: Serialize;
    /// The kinds the driver knows: `(kind, description)`.
    const KINDS: &'static [(&'static str, &'static str)];
    /// Parse `text` as the output of `kind`; `None` for a kind not in [`Self::KINDS`].
    fn parse_any(kind: &str, text: &str) -> Option<Result<Self::Parsed, Self::Error>>;
    /// An error about the whole of `command`'s output (line 0).
    fn error(command: &str, message: String) -> Self::Error;
}

fn parsed<P: KindParsers>(kind: &str, text: &str) -> Result<P::Parsed, P::Error> {
    P::parse_any(kind, text).unwrap_or_else(|| {
        let known: Vec<&str> = P::KINDS.iter().map(|(k, _)| *k).collect();
        Err(P::error(
            "hascript parse",
            format!("unknown kind {kind:?}; known kinds: {}", known.join(", ")),
        ))
    })
}

/// Parse `text` as the output of `kind` (one of the driver's [`KindParsers::KINDS`]) into
/// the JSON that mirrors the product. An unknown kind is an error on line 0 listing the
/// kinds.
///
/// Note: `serde_json::Value` objects keep their keys sorted unless serde_json's
/// `preserve_order` feature is on; [`parse_kind_json`] keeps the product's order.
pub fn parse_kind<P: KindParsers>(kind: &str, text: &str) -> Result<serde_json::Value, P::Error> {
    let parsed = parsed::<P>(kind, text)?;
    serde_json::to_value(&parsed).map_err(|e| P::error(kind, format!("cannot build the JSON: {e}")))
}

/// As [`parse_kind`], serialised to a JSON string (pretty when `pretty`) that keeps object
/// keys in the product's order.
pub fn parse_kind_json<P: KindParsers>(
    kind: &str,
    text: &str,
    pretty: bool,
) -> Result<String, P::Error> {
    let parsed = parsed::<P>(kind, text)?;
    let out = if pretty {
        serde_json::to_string_pretty(&parsed)
    } else {
        serde_json::to_string(&parsed)
    };
    out.map_err(|e| P::error(kind, format!("cannot build the JSON: {e}")))
}

/// Serialise `(key, value)` pairs as map entries (used with `#[serde(flatten)]` so that extra
/// columns and record keys appear in the product's order).
pub fn ser_pairs<S>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
{
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two kinds: `pairs` (`k=v` lines, kept in order) and `fail` (always an error).
    struct Demo;

    #[derive(Serialize)]
    struct Pairs(#[serde(serialize_with = "ser_pairs")] Vec<(String, String)>);

    impl KindParsers for Demo {
        type Error = String;
        type Parsed = Pairs;
        const KINDS: &'static [(&'static str, &'static str)] =
            &[("pairs", "k=v lines"), ("fail", "never reads")];
        fn parse_any(kind: &str, text: &str) -> Option<Result<Pairs, String>> {
            match kind {
                "pairs" => Some(Ok(Pairs(
                    text.lines()
                        .filter_map(|l| l.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ))),
                "fail" => Some(Err(Self::error("fail", "unreadable".into()))),
                _ => None,
            }
        }
        fn error(command: &str, message: String) -> String {
            format!("{command}: {message}")
        }
    }

    #[test]
    fn the_json_keeps_the_products_order_and_errors_name_the_kinds() {
        let text = "zeta=1\nalpha=2\n";
        assert_eq!(
            parse_kind_json::<Demo>("pairs", text, false).as_deref(),
            Ok(r#"{"zeta":"1","alpha":"2"}"#)
        );
        assert_eq!(
            parse_kind_json::<Demo>("pairs", "a=1", true).as_deref(),
            Ok("{\n  \"a\": \"1\"\n}")
        );
        assert_eq!(
            parse_kind::<Demo>("pairs", text),
            Ok(serde_json::json!({"alpha": "2", "zeta": "1"}))
        );
        assert_eq!(
            parse_kind::<Demo>("fail", text),
            Err("fail: unreadable".to_string())
        );
        let unknown = r#"hascript parse: unknown kind "nope"; known kinds: pairs, fail"#;
        assert_eq!(parse_kind::<Demo>("nope", text), Err(unknown.to_string()));
        assert_eq!(
            parse_kind_json::<Demo>("nope", text, false),
            Err(unknown.to_string())
        );
    }
}
