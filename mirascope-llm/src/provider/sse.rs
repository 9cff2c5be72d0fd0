//! Server-sent events, decoded in time linear in the bytes received, with a cap on one event.
//!
//! Follows the WHATWG "event stream interpretation": lines end with CRLF, LF or CR; a blank line
//! dispatches the event; `:` starts a comment; `field: value` with one leading space removed;
//! `data` lines are joined with `\n`; a leading UTF-8 BOM is skipped. `id` and `retry` are read
//! and ignored (nothing here reconnects).
//!
//! Why not eventsource-stream: it rescans and copies its buffer for every chunk, so one endless
//! line (a hostile or broken server that never sends a newline) costs time quadratic in its
//! length: 31.6 s of CPU for 4 MiB, about two hours at the 64 MiB answer limit, on the shared
//! HTTP runtime. Here each byte is looked at once, and an event (or a line) larger than the cap
//! is an error as soon as it passes the cap.
//!
//! Layer: wire formats (the crate docs list the layers).

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event` field (empty when none was sent).
    pub event: String,
    /// The `data` lines joined with `\n`.
    pub data: String,
}

/// What can go wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseError {
    /// One event (its lines together, or one line alone) passed the cap.
    TooLarge { limit: usize },
    /// A line is not UTF-8.
    NotUtf8,
}

/// The decoder: feed it bytes as they arrive, take the events.
#[derive(Debug)]
pub(crate) struct SseDecoder {
    /// The unfinished line.
    line: Vec<u8>,
    /// The last line ended with CR: an LF that follows belongs to it.
    after_cr: bool,
    /// Still at the start of the stream (a BOM may follow).
    at_start: bool,
    event: String,
    data: String,
    /// Whether any `data` line came (an event with no data is not dispatched).
    has_data: bool,
    /// The most bytes one event (or line) may have.
    limit: usize,
}

impl SseDecoder {
    /// A decoder whose events (and lines) may have at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            event: String::new(),
            data: String::new(),
            has_data: false,
            limit,
        }
    }

    /// The bytes held for the event being built.
    fn held(&self) -> usize {
        self.line.len() + self.event.len() + self.data.len()
    }

    /// Decodes `bytes`, appending the events they complete to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        if self.at_start {
            // A BOM may arrive split across chunks: hold up to two bytes until it is decided.
            self.line.extend_from_slice(bytes);
            if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
                return Ok(());
            }
            self.at_start = false;
            let held = std::mem::take(&mut self.line);
            let rest = held.strip_prefix(BOM).unwrap_or(&held);
            return self.feed_lines(rest, out);
        }
        self.feed_lines(bytes, out)
    }

    fn feed_lines(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        // A CR ended the last line: an LF right after it is part of that line break.
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            if self.held() + end > self.limit {
                return Err(SseError::TooLarge { limit: self.limit });
            }
            self.line.extend_from_slice(&bytes[..end]);
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out)?;
            self.line = line;
            self.line.clear();
            let cr = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            if cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        if self.held() + bytes.len() > self.limit {
            return Err(SseError::TooLarge { limit: self.limit });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// One complete line.
    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                if self.data.ends_with('\n') {
                    self.data.pop();
                }
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    data: std::mem::take(&mut self.data),
                });
            } else {
                self.event.clear();
            }
            self.has_data = false;
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            // `id` and `retry` concern reconnection, which nothing here does; unknown fields
            // are ignored, as the standard says.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]], limit: usize) -> Result<Vec<SseEvent>, SseError> {
        let mut d = SseDecoder::new(limit);
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out)?;
        }
        Ok(out)
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn the_standard_cases() {
        let all = b"\xEF\xBB\xBF: comment\nevent: a\ndata: one\ndata:two\n\ndata: x\r\n\r\ndata: y\r\rid: 3\nretry: 5\ndata\n\nevent: empty\n\ndata: z\r\n\n";
        let expected = vec![
            ev("a", "one\ntwo"),
            ev("", "x"),
            ev("", "y"),
            ev("", ""),
            ev("", "z"),
        ];
        assert_eq!(decode(&[all], 1 << 20).unwrap(), expected);
        // The same bytes one at a time: the split never changes the events.
        let bytes: Vec<&[u8]> = all.chunks(1).collect();
        assert_eq!(decode(&bytes, 1 << 20).unwrap(), expected);
        for cut in 0..all.len() {
            let (a, b) = all.split_at(cut);
            assert_eq!(decode(&[a, b], 1 << 20).unwrap(), expected, "cut at {cut}");
        }
    }

    #[test]
    fn an_unfinished_event_is_not_dispatched() {
        assert_eq!(decode(&[b"data: x\n"], 100).unwrap(), vec![]);
    }

    #[test]
    fn an_endless_line_fails_at_the_cap_in_linear_time() {
        let mut d = SseDecoder::new(1 << 20);
        let mut out = Vec::new();
        let chunk = vec![b'a'; 8192];
        let mut fed = 0;
        let err = loop {
            match d.feed(&chunk, &mut out) {
                Ok(()) => fed += chunk.len(),
                Err(e) => break e,
            }
        };
        assert_eq!(err, SseError::TooLarge { limit: 1 << 20 });
        assert!(fed <= 1 << 20);
    }

    #[test]
    fn many_small_lines_make_one_large_event() {
        let line = b"data: 0123456789\n";
        let mut d = SseDecoder::new(1000);
        let mut out = Vec::new();
        let mut result = Ok(());
        for _ in 0..100 {
            result = d.feed(line, &mut out);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SseError::TooLarge { limit: 1000 }));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(decode(&[b"data: \xFF\n\n"], 100), Err(SseError::NotUtf8));
    }
}
