//! Text or JSON output, and errors the way users should read them.
//!
//! The format is one setting for the whole run (`--output`, set once in `main` by [`set_format`]):
//! commands only say whether they print for machines (`ctx.json`); pretty or compact JSON follows.

use clap::ValueEnum;
use meridian_sdk::client::SdkError;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// `--output`, as the Solana CLI names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people (the default).
    #[default]
    Display,
    /// Pretty-printed JSON.
    Json,
    /// JSON, one line per document.
    JsonCompact,
}

impl Format {
    pub fn is_json(self) -> bool {
        self != Format::Display
    }
}

static FORMAT: OnceLock<Format> = OnceLock::new();

/// Sets the run's output format (the first call wins).
pub fn set_format(format: Format) {
    let _ = FORMAT.set(format);
}

fn compact() -> bool {
    FORMAT.get() == Some(&Format::JsonCompact)
}

/// A JSON document as the run's format prints it: pretty, or one line for `json-compact`.
pub fn to_json_string(value: &Value) -> String {
    match compact() {
        true => serde_json::to_string(value).unwrap(),
        false => serde_json::to_string_pretty(value).unwrap(),
    }
}

/// Fields in the order a person should read them.
#[derive(Default)]
pub struct Record(Vec<(&'static str, Value)>);

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Record {
        self.0.push((key, value.into()));
        self
    }

    pub fn push(&mut self, key: &'static str, value: impl Into<Value>) {
        self.0.push((key, value.into()));
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<Map<_, _>>())
    }

    /// "key: value" lines, keys aligned, underscores as spaces.
    pub fn to_text(&self) -> String {
        let width = self.0.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
        self.0.iter().map(|(k, v)| format!("{:<width$}  {}\n", format!("{}:", k.replace('_', " ")), text(v))).collect()
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        Value::Array(items) if items.is_empty() => "none".to_string(),
        // a table: one object per line, under the key
        Value::Array(items) if items.iter().all(Value::is_object) => {
            items.iter().map(|i| format!("\n  {}", text(i))).collect()
        }
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => {
            fields.iter().map(|(k, v)| format!("{} {}", k.replace('_', " "), text(v))).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

pub fn print(json_mode: bool, record: &Record) {
    if json_mode {
        println!("{}", to_json_string(&record.to_json()));
    } else {
        print!("{}", record.to_text());
    }
}

pub fn print_json(value: &Value) {
    println!("{}", to_json_string(value));
}

pub fn error(json_mode: bool, e: &anyhow::Error) {
    let sdk = e.downcast_ref::<SdkError>();
    if json_mode {
        let mut v = json!({ "error": format!("{e:#}") });
        if let Some(SdkError::Program { failure, .. }) = sdk {
            v["code"] = json!(failure.code);
            v["name"] = json!(failure.name);
        }
        eprintln!("{}", to_json_string(&v));
    } else {
        eprintln!("error: {e:#}");
        if let Some(err) = sdk {
            if std::env::var_os("MERIDIAN_LOGS").is_some() {
                for line in err.logs() {
                    eprintln!("  {line}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_order_and_reads_lists() {
        let r = Record::new()
            .with("vault_balance", "1.5")
            .with("paused", json!(["deposits", "trading"]))
            .with("flags", json!([]));
        assert_eq!(r.to_text(), "vault balance:  1.5\npaused:         deposits, trading\nflags:          none\n");
        assert_eq!(r.to_json(), json!({"vault_balance": "1.5", "paused": ["deposits", "trading"], "flags": []}));
    }

    #[test]
    fn text_puts_a_list_of_objects_one_per_line() {
        let r =
            Record::new().with("history", json!([{"slot": 7, "by": ["order", "liquidation"]}, {"slot": 3, "by": []}]));
        assert_eq!(r.to_text(), "history:  \n  by order, liquidation, slot 7\n  by none, slot 3\n");
    }
}
