//! Python's `str()` / `repr()` and `json.dumps` of JSON values, where Mirascope (Python) puts
//! them on the wire: `json.dumps` for non-string tool results (2.8.2
//! `encode_tool_output_content`) and for Anthropic and Google tool-call arguments, `str()` in the
//! schema constraints Anthropic's encoder writes into descriptions. Wire compatibility needs the
//! same text.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use serde_json::Value;

/// Python's `str(value)`: strings bare, everything else as its repr.
pub fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr(value)` for the JSON-shaped value.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(value, &mut out);
    out
}

/// Python's `json.dumps(value)` with default settings: `", "` and `": "` separators, non-ASCII
/// escaped as `\uXXXX` (how Mirascope serializes Anthropic and Google tool-call arguments).
pub fn py_json_dumps(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

/// Python's `json.dumps(value, separators=(",", ":"))`: compact, non-ASCII escaped (how the
/// OpenTelemetry GenAI utilities write `gen_ai.*` JSON, `util/genai/utils.py::gen_ai_json_dumps`).
pub fn py_json_dumps_compact(value: &Value) -> String {
    let mut out = String::new();
    write_json_sep(value, ",", ":", &mut out);
    out
}

/// Python's `json.dumps(value, indent=2)`: each member on its own line, indented by two spaces
/// a level, `","` and `": "` separators, empty containers as `[]` / `{}`, non-ASCII escaped and
/// floats written as Python writes them (how Mirascope writes the schema into JSON-mode
/// instructions, `formatting/format.py::Format.formatting_instructions`).
pub fn py_json_dumps_indented(value: &Value) -> String {
    let mut out = String::new();
    write_json_indented(value, 0, &mut out);
    out
}

fn write_json_indented(value: &Value, level: usize, out: &mut String) {
    let newline = |out: &mut String, level: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', 2 * level));
    };
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                write_json_indented(v, level + 1, out);
            }
            newline(out, level);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                write_json_str(k, out);
                out.push_str(": ");
                write_json_indented(v, level + 1, out);
            }
            newline(out, level);
            out.push('}');
        }
        other => write_json(other, out),
    }
}

fn write_json(value: &Value, out: &mut String) {
    write_json_sep(value, ", ", ": ", out);
}

fn write_json_sep(value: &Value, item: &str, key: &str, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) if f.is_finite() => out.push_str(&float_repr(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_json_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write_json_sep(v, item, key, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write_json_str(k, out);
                out.push_str(key);
                write_json_sep(v, item, key, out);
            }
            out.push('}');
        }
    }
}

fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&float_repr(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_str_repr(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(k, out);
                out.push_str(": ");
                write_repr(v, out);
            }
            out.push('}');
        }
    }
}

/// Python's float repr: shortest round-trip digits, `.0` on integral values, exponent form
/// outside `[1e-4, 1e16)`.
fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

fn write_str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python() {
        assert_eq!(py_str(&json!("plain")), "plain");
        assert_eq!(
            py_str(
                &json!({"error": {"message": "Invalid 'temperature'", "param": null, "ok": true, "n": 2, "f": 1.0}})
            ),
            r#"{'error': {'message': "Invalid 'temperature'", 'param': None, 'ok': True, 'n': 2, 'f': 1.0}}"#
        );
        assert_eq!(
            py_repr(&json!(["a\nb", 0.5, 1e20, 1e-5])),
            r"['a\nb', 0.5, 1e+20, 1e-05]"
        );
        assert_eq!(py_repr(&json!("it's \"q\"")), r#"'it\'s "q"'"#);
        assert_eq!(py_repr(&json!("72°F")), "'72°F'");
        assert_eq!(
            py_json_dumps(&json!({"location": "Tōkyō", "n": [1, 2.5, true, null]})),
            r#"{"location": "T\u014dky\u014d", "n": [1, 2.5, true, null]}"#
        );
    }
}

#[cfg(test)]
mod indented_tests {
    use super::py_json_dumps_indented;
    use serde_json::json;

    /// The bytes of Python's `json.dumps(v, indent=2)` for the same value.
    #[test]
    fn matches_python_json_dumps_with_indent_2() {
        let v = json!({"title": "Café", "properties": {"n": {"type": "number", "minimum": 1e-05}},
                       "required": ["n"], "empty": {}, "none": []});
        assert_eq!(
            py_json_dumps_indented(&v),
            "{\n  \"title\": \"Caf\\u00e9\",\n  \"properties\": {\n    \"n\": {\n      \"type\": \"number\",\n      \"minimum\": 1e-05\n    }\n  },\n  \"required\": [\n    \"n\"\n  ],\n  \"empty\": {},\n  \"none\": []\n}"
        );
    }
}

/// Python's truthiness of a JSON value (`bool(value)`).
pub fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}
