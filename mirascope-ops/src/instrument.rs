//! The runtime switch of GenAI instrumentation: a reloadable per-layer filter in front of the
//! `mirascope.llm` OpenTelemetry layer (never a reload of the layer itself, which would break
//! `set_parent` and `context()`). Off, a model call's span costs a few nanoseconds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::error::OpsError;

static CONFIGURED: AtomicBool = AtomicBool::new(false);
static INSTRUMENTED: AtomicBool = AtomicBool::new(false);
type Switch = Box<dyn Fn(bool) -> bool + Send + Sync>;
static SWITCHES: Mutex<Vec<Switch>> = Mutex::new(Vec::new());

static DISABLED: AtomicBool = AtomicBool::new(false);

/// The environment disabled export (`OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER=none`): the
/// switch becomes a no-op.
pub(crate) fn mark_disabled() {
    DISABLED.store(true, Ordering::SeqCst);
}

pub(crate) fn mark_configured() {
    CONFIGURED.store(true, Ordering::SeqCst);
}

pub(crate) fn register_switch(f: impl Fn(bool) -> bool + Send + Sync + 'static) {
    let mut switches = SWITCHES.lock().unwrap_or_else(|e| e.into_inner());
    // Drop switches whose layer is gone (their reload handle fails).
    let on = INSTRUMENTED.load(Ordering::SeqCst);
    switches.retain(|s| s(on));
    switches.push(Box::new(f));
}

fn set(on: bool) {
    let switches = SWITCHES.lock().unwrap_or_else(|e| e.into_inner());
    INSTRUMENTED.store(on, Ordering::SeqCst);
    for s in switches.iter() {
        s(on);
    }
}

/// Turns GenAI spans on: every model call, stream and resume, async or blocking, from now on
/// produces a `chat {model_id}` CLIENT span. Errors if [`crate::configure`] (or
/// [`crate::layer`]) was not called first, as in Python Mirascope. Safe from any thread while
/// calls are in flight. A no-op (and `Ok`) when [`crate::configure_from_env`] found export
/// disabled by the environment.
pub fn instrument_llm() -> Result<(), OpsError> {
    if DISABLED.load(Ordering::SeqCst) && !CONFIGURED.load(Ordering::SeqCst) {
        // Export is disabled by the environment: nothing to switch on.
        return Ok(());
    }
    if !CONFIGURED.load(Ordering::SeqCst) {
        return Err(OpsError::NotConfigured);
    }
    set(true);
    Ok(())
}

/// Turns GenAI spans off. A call that started instrumented still ends its span normally.
pub fn uninstrument_llm() {
    set(false);
}

/// Whether GenAI spans are on.
pub fn is_llm_instrumented() -> bool {
    INSTRUMENTED.load(Ordering::SeqCst)
}
