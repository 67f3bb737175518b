//! The reference tables of docs/, generated from the IDL: every instruction with its arguments and
//! accounts (docs/instructions.md) and every error with its code (docs/errors.md).
//! `cargo run -p xtask -- docs` rewrites them; a program test fails while the committed ones differ.
use serde_json::Value;

/// The generated part of a document lies between these two lines.
pub const BEGIN: &str = "<!-- generated from the IDL by `cargo run -p xtask -- docs`; do not edit -->";
pub const END: &str = "<!-- end of generated table -->";

/// The documents holding a generated table, relative to the workspace root, and their tables.
pub fn tables(idl: &Value) -> [(&'static str, String); 2] {
    [("docs/instructions.md", instruction_table(idl)), ("docs/errors.md", error_table(idl))]
}

fn type_name(t: &Value) -> String {
    match t {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            if let Some(d) = o.get("defined") {
                return d["name"].as_str().unwrap_or("?").to_string();
            }
            if let Some(a) = o.get("array") {
                return format!("[{}; {}]", type_name(&a[0]), a[1]);
            }
            if let Some(v) = o.get("vec") {
                return format!("Vec<{}>", type_name(v));
            }
            if let Some(v) = o.get("option") {
                return format!("Option<{}>", type_name(v));
            }
            "?".to_string()
        }
        _ => "?".to_string(),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn docs(v: &Value) -> String {
    let lines: Vec<&str> = v["docs"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    cell(&lines.join(" "))
}

fn account(a: &Value) -> String {
    let mut flags = Vec::new();
    if a["signer"].as_bool() == Some(true) {
        flags.push("signer".to_string());
    }
    if a["writable"].as_bool() == Some(true) {
        flags.push("writable".to_string());
    }
    if a.get("pda").is_some() {
        flags.push("PDA".to_string());
    }
    if let Some(address) = a["address"].as_str() {
        flags.push(format!("= `{address}`"));
    }
    let name = a["name"].as_str().unwrap_or("?");
    if flags.is_empty() {
        format!("`{name}`")
    } else {
        format!("`{name}` ({})", flags.join(", "))
    }
}

/// One row per instruction, in the program's order: its arguments, its accounts in order (with
/// signer, writable, PDA and fixed-address marks) and its doc comment.
pub fn instruction_table(idl: &Value) -> String {
    let mut out =
        String::from("| instruction | arguments | accounts, in order | what it does |\n| --- | --- | --- | --- |\n");
    for ix in idl["instructions"].as_array().into_iter().flatten() {
        let args: Vec<String> = ix["args"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| format!("`{}: {}`", a["name"].as_str().unwrap_or("?"), type_name(&a["type"])))
            .collect();
        let accounts: Vec<String> = ix["accounts"].as_array().into_iter().flatten().map(account).collect();
        let returns = ix.get("returns").map(|r| format!(" (returns `{}`)", type_name(r))).unwrap_or_default();
        out += &format!(
            "| `{}` | {} | {} | {}{} |\n",
            ix["name"].as_str().unwrap_or("?"),
            if args.is_empty() { "none".to_string() } else { args.join(", ") },
            accounts.join("<br>"),
            docs(ix),
            returns
        );
    }
    out
}

/// One row per error: its number, name and message.
pub fn error_table(idl: &Value) -> String {
    let mut out = String::from("| code | name | message |\n| ---: | --- | --- |\n");
    for e in idl["errors"].as_array().into_iter().flatten() {
        out += &format!(
            "| {} | `{}` | {} |\n",
            e["code"],
            e["name"].as_str().unwrap_or("?"),
            cell(e["msg"].as_str().unwrap_or(""))
        );
    }
    out
}

/// The generated table of `doc`, if it has the markers.
pub fn generated(doc: &str) -> Option<&str> {
    let start = doc.find(BEGIN)? + BEGIN.len() + 1;
    let end = doc[start..].find(END)? + start;
    Some(&doc[start..end])
}

/// `doc` with its generated table replaced by `table`.
pub fn splice(doc: &str, table: &str) -> Option<String> {
    let start = doc.find(BEGIN)? + BEGIN.len() + 1;
    let end = doc[start..].find(END)? + start;
    Some(format!("{}{}{}", &doc[..start], table, &doc[end..]))
}
