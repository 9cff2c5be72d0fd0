//! Sessions: group the traces of one conversation or user session. The session's id and
//! attributes land on every trace and span opened inside it (`mirascope.ops.session.id`,
//! `mirascope.ops.session.attributes`).

use mirascope_llm::genai::keys;
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde_json::Value;

/// The header that carries a session id between services.
pub const SESSION_HEADER_NAME: &str = "Mirascope-Session-Id";

/// A session: an id (a UUID unless given) and optional attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionContext {
    /// The id.
    pub id: String,
    /// Attributes, recorded as JSON.
    pub attributes: Option<Value>,
}

impl SessionContext {
    /// A session with this id: `ops::SessionContext::new("conv-1")`.
    pub fn new(id: impl Into<String>) -> Self {
        SessionContext {
            id: id.into(),
            attributes: None,
        }
    }

    /// A session with a new UUID as its id.
    pub fn generated() -> Self {
        Self::new(uuid::Uuid::new_v4().to_string())
    }

    /// The session with attributes (any JSON: `json!({"user": "u-1"})`), recorded on every span
    /// inside it as `mirascope.ops.session.attributes`.
    pub fn attributes(mut self, attributes: impl Into<Value>) -> Self {
        self.attributes = Some(attributes.into());
        self
    }
}

thread_local! {
    static STACK: RefCell<Vec<SessionContext>> = const { RefCell::new(Vec::new()) };
}

/// Enters a session with this id on this thread until the guard drops (the outer session comes
/// back then, also when unwinding from a panic). For async code use [`in_session`].
///
/// ```
/// use mirascope_ops as ops;
/// use serde_json::json;
/// {
///     let _s = ops::session("conv-1").attributes(json!({"user": "u-1"}));
///     let current = ops::current_session().unwrap();
///     assert_eq!(current.id, "conv-1");
///     assert_eq!(current.attributes, Some(json!({"user": "u-1"})));
/// }
/// assert!(ops::current_session().is_none());
/// ```
pub fn session(id: impl Into<String>) -> SessionGuard {
    enter_session(SessionContext::new(id))
}

/// [`session`] with a new UUID as its id.
pub fn new_session() -> SessionGuard {
    enter_session(SessionContext::generated())
}

/// Enters a session built beforehand (or taken from another task) on this thread until the
/// guard drops.
pub fn enter_session(ctx: SessionContext) -> SessionGuard {
    let depth = STACK.with(|s| {
        let mut s = s.borrow_mut();
        s.push(ctx.clone());
        s.len() - 1
    });
    SessionGuard {
        ctx,
        depth,
        _not_send: PhantomData,
    }
}

/// Restores the outer session when dropped.
#[derive(Debug)]
#[must_use = "the session ends when the guard drops"]
pub struct SessionGuard {
    ctx: SessionContext,
    /// This session's place on the thread's stack.
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl SessionGuard {
    /// The session.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Sets the session's attributes (any JSON), for the spans opened from now on.
    pub fn attributes(mut self, attributes: impl Into<Value>) -> Self {
        let attributes = attributes.into();
        self.ctx.attributes = Some(attributes.clone());
        STACK.with(|s| {
            if let Some(entry) = s.borrow_mut().get_mut(self.depth) {
                entry.attributes = Some(attributes);
            }
        });
        self
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        STACK.with(|s| {
            s.borrow_mut().truncate(self.depth);
        });
    }
}

/// The innermost session, if any.
pub fn current_session() -> Option<SessionContext> {
    STACK.with(|s| s.borrow().last().cloned())
}

/// Runs a future inside a session: the session is current whenever the future runs, on any
/// thread of any executor (also inside `tokio::spawn`).
///
/// ```
/// # async fn run() {
/// use mirascope_ops as ops;
/// let ctx = ops::SessionContext::new("conv-1");
/// ops::in_session(ctx, async { assert_eq!(ops::current_session().unwrap().id, "conv-1") }).await;
/// # }
/// ```
pub fn in_session<F: Future>(ctx: SessionContext, fut: F) -> InSession<F> {
    InSession {
        ctx,
        fut: Box::pin(fut),
    }
}

/// Carries the current session (if any) into a future, e.g. before `tokio::spawn`.
pub fn with_current_session<F: Future>(fut: F) -> WithSession<F> {
    WithSession {
        ctx: current_session(),
        fut: Box::pin(fut),
    }
}

/// A future run inside a session.
#[derive(Debug)]
pub struct InSession<F> {
    ctx: SessionContext,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for InSession<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _g = enter_session(self.ctx.clone());
        self.fut.as_mut().poll(cx)
    }
}

/// A future carrying the session that was current when it was made.
#[derive(Debug)]
pub struct WithSession<F> {
    ctx: Option<SessionContext>,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for WithSession<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _g = self.ctx.clone().map(enter_session);
        self.fut.as_mut().poll(cx)
    }
}

/// Records the current session on a span that declares the session fields.
pub(crate) fn record_on(span: &tracing::Span) {
    if let Some(s) = current_session() {
        span.record(keys::MIRASCOPE_OPS_SESSION_ID, s.id.as_str());
        if let Some(a) = &s.attributes {
            span.record(keys::MIRASCOPE_OPS_SESSION_ATTRIBUTES, a.to_string());
        }
    }
}
