//! The `mirascope.response.*` JSON attributes: Mirascope's own shapes of messages, content and
//! usage (the serde form of [`crate::Message`] and [`crate::Part`] is that shape).
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use crate::answer::Usage;
use crate::content::{Message, Part};

/// `mirascope.response.messages`: the input messages.
pub(crate) fn messages(messages: &[Message]) -> String {
    serde_json::to_string(messages).unwrap_or_else(|_| "[]".into())
}

/// `mirascope.response.content`: the answer's parts.
pub(crate) fn content(content: &[Part]) -> String {
    serde_json::to_string(content).unwrap_or_else(|_| "[]".into())
}

/// `mirascope.response.usage`: the six counts as JSON, in the order Python writes them
/// (`serialize_mirascope_usage` in `ops/_internal/instrumentation/llm/serialize.py`, Mirascope
/// 2.8.2). Written with `itoa` into one buffer sized for the longest numbers: this runs on every
/// call.
pub(crate) fn usage(u: &Usage) -> String {
    let fields: [(&str, u64); 6] = [
        ("{\"input_tokens\":", u.input_tokens),
        (",\"output_tokens\":", u.output_tokens),
        (",\"cache_read_tokens\":", u.cache_read_tokens),
        (",\"cache_write_tokens\":", u.cache_write_tokens),
        (",\"reasoning_tokens\":", u.reasoning_tokens),
        (",\"total_tokens\":", u.total_tokens()),
    ];
    let mut out = String::with_capacity(128 + 6 * 20);
    let mut digits = itoa::Buffer::new();
    for (key, n) in fields {
        out.push_str(key);
        out.push_str(digits.format(n));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_shape() {
        let u = Usage {
            input_tokens: 25,
            output_tokens: 5,
            ..Default::default()
        };
        assert_eq!(
            usage(&u),
            r#"{"input_tokens":25,"output_tokens":5,"cache_read_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":30}"#
        );
    }

    #[test]
    fn usage_is_the_json_serde_writes_for_any_counts() {
        for n in [
            0,
            1,
            9,
            10,
            12_345,
            u64::from(u32::MAX),
            Usage::MAX_TOKENS,
            u64::MAX,
        ] {
            let u = Usage {
                input_tokens: n,
                output_tokens: n / 3,
                cache_read_tokens: n / 7,
                cache_write_tokens: 1,
                reasoning_tokens: n,
            };
            let expected = serde_json::json!({
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cache_read_tokens": u.cache_read_tokens,
                "cache_write_tokens": u.cache_write_tokens,
                "reasoning_tokens": u.reasoning_tokens,
                "total_tokens": u.total_tokens(),
            });
            let got: serde_json::Value = serde_json::from_str(&usage(&u)).expect("JSON");
            assert_eq!(got, expected, "{n}");
        }
    }
}
