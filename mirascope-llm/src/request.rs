//! Data layer: [`CallRequest`], everything about one call except the model. The wire formats
//! encode it, the call layer sends it, and the observation layer (`genai/`) describes it, so it
//! lives below all three.

use std::borrow::Cow;

use crate::content::Message;
use crate::format::{Format, ResolvedFormat};
use crate::params::Params;
use crate::tool::Tool;

/// Everything about one call except the model.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallRequest {
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub format: Option<Format>,
    pub params: Params,
    pub resolved_format: Option<ResolvedFormat>,
    pub conversation_id: Option<String>,
    /// Send params outside their provider's documented range (`unchecked_params()`).
    pub unchecked_params: bool,
}

impl CallRequest {
    /// The messages as sent: with the format's instructions added to the system message.
    ///
    /// Follows Python Mirascope's `encode_request` (every provider's `_utils/encode.py`), which
    /// returns `_base_utils.add_system_instructions(messages, format.formatting_instructions)`;
    /// those become the response's messages, so a resume re-sends them, while the call's own
    /// span shows the messages as the user passed them.
    pub(crate) fn sent_messages(&self) -> Cow<'_, [Message]> {
        match &self.resolved_format {
            Some(f) => Cow::Owned(f.apply_instructions(&self.messages)),
            None => Cow::Borrowed(&self.messages),
        }
    }
}
