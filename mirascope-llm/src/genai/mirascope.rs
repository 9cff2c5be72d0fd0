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

/// `mirascope.response.usage`.
pub(crate) fn usage(u: &Usage) -> String {
    format!(
        r#"{{"input_tokens":{},"output_tokens":{},"cache_read_tokens":{},"cache_write_tokens":{},"reasoning_tokens":{},"total_tokens":{}}}"#,
        u.input_tokens,
        u.output_tokens,
        u.cache_read_tokens,
        u.cache_write_tokens,
        u.reasoning_tokens,
        u.total_tokens()
    )
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
}
