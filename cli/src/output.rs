//! Text or JSON output, and errors the way users should read them.

use meridian_sdk::client::SdkError;
use serde_json::{json, Map, Value};

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
        Value::Array(items) if items.iter().all(Value::is_object) => items.iter().map(|i| format!("\n  {}", text(i))).collect(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => fields.iter().map(|(k, v)| format!("{} {}", k.replace('_', " "), text(v))).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

pub fn print(json_mode: bool, record: &Record) {
    if json_mode {
        println!("{}", serde_json::to_string_pretty(&record.to_json()).unwrap());
    } else {
        print!("{}", record.to_text());
    }
}

pub fn print_json(value: &Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap());
}

pub fn error(json_mode: bool, e: &anyhow::Error) {
    let sdk = e.downcast_ref::<SdkError>();
    if json_mode {
        let mut v = json!({ "error": format!("{e:#}") });
        if let Some(SdkError::Program { failure, .. }) = sdk {
            v["code"] = json!(failure.code);
            v["name"] = json!(failure.name);
        }
        eprintln!("{}", serde_json::to_string_pretty(&v).unwrap());
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
        let r = Record::new().with("history", json!([{"slot": 7, "by": ["order", "liquidation"]}, {"slot": 3, "by": []}]));
        assert_eq!(r.to_text(), "history:  \n  by order, liquidation, slot 7\n  by none, slot 3\n");
    }
}
