//! Request bodies sent compressed (`Content-Encoding: zstd`), decoded as
//! they arrive.
//!
//! A bank's bulk file is large (81 GB of NDJSON for a million customers,
//! 4 GB as zstd): sent compressed, it crosses the network and the kernel a
//! twentieth as often, and the server decodes it at 2.4 GB/s on one core.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use futures_util::Stream;
use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};

/// The content codings a request body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Zstd,
}

impl Coding {
    /// The coding of a request's body, by its `Content-Encoding` header.
    pub fn of(headers: &axum::http::HeaderMap) -> Option<Coding> {
        let header = headers.get(axum::http::header::CONTENT_ENCODING);
        Coding::parse(header.map(|v| v.to_str().unwrap_or("?")))
    }

    /// The coding a `Content-Encoding` header names, or `None` if it is
    /// one finseg does not decode (or a list of several).
    pub fn parse(header: Option<&str>) -> Option<Coding> {
        match header.map(str::trim) {
            None | Some("") => Some(Coding::Identity),
            Some(c) if c.eq_ignore_ascii_case("identity") => Some(Coding::Identity),
            Some(c) if c.eq_ignore_ascii_case("zstd") => Some(Coding::Zstd),
            Some(_) => None,
        }
    }
}

/// Decoded output handed on at a time, at most: what one compressed chunk
/// expands to is not bounded by its size.
const OUT_STEP: usize = 1 << 20;

/// The decoded form of a zstd-compressed stream of chunks. A stream that
/// is not zstd, or that ends inside a frame, ends with an error.
pub struct ZstdDecoded<S> {
    inner: S,
    decoder: Decoder<'static>,
    /// The chunk being decoded and how much of it was read.
    pending: Option<(Bytes, usize)>,
    /// The last step ended a frame (and flushed it): the body may end here.
    frame_done: bool,
    /// Some compressed input arrived (an empty body is an empty body).
    any_input: bool,
    done: bool,
}

impl<S> ZstdDecoded<S> {
    pub fn new(inner: S) -> std::io::Result<Self> {
        Ok(ZstdDecoded {
            inner,
            decoder: Decoder::new()?,
            pending: None,
            frame_done: false,
            any_input: false,
            done: false,
        })
    }

    /// Decodes from the pending chunk until `OUT_STEP` bytes are out or
    /// the chunk is read and flushed. The output is written into fresh
    /// capacity, never zeroed first.
    fn decode_pending(&mut self) -> Result<Bytes, String> {
        let mut out: Vec<u8> = Vec::with_capacity(OUT_STEP);
        while let Some((chunk, read)) = &mut self.pending {
            let mut input = InBuffer::around(&chunk[*read..]);
            let written = out.len();
            let mut output = OutBuffer::around_pos(&mut out, written);
            let hint = self
                .decoder
                .run(&mut input, &mut output)
                .map_err(|e| format!("the body is not valid zstd: {e}"))?;
            let full = output.pos() == OUT_STEP;
            *read += input.pos();
            self.frame_done = hint == 0;
            // A full output may hold back more of what was read.
            if *read == chunk.len() && !full {
                self.pending = None;
            }
            if full {
                break;
            }
        }
        Ok(out.into())
    }
}

impl<S> Stream for ZstdDecoded<S>
where
    S: Stream<Item = Result<Bytes, String>> + Unpin,
{
    type Item = Result<Bytes, String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if this.pending.is_some() {
                match this.decode_pending() {
                    Ok(out) if out.is_empty() => continue,
                    Ok(out) => return Poll::Ready(Some(Ok(out))),
                    Err(e) => {
                        this.done = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    if !chunk.is_empty() {
                        this.any_input = true;
                        this.pending = Some((chunk, 0));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if this.any_input && !this.frame_done {
                        return Poll::Ready(Some(Err(
                            "the zstd body ends inside a frame (cut off?)".into(),
                        )));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn decode(chunks: Vec<Vec<u8>>) -> Result<Vec<u8>, String> {
        let inner = futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
        let mut s = ZstdDecoded::new(inner).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut out = Vec::new();
            while let Some(chunk) = s.next().await {
                let chunk = chunk?;
                assert!(chunk.len() <= OUT_STEP);
                out.extend_from_slice(&chunk);
            }
            Ok(out)
        })
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"kind\":\"user\",\"id\":\"u{i}\"}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn a_body_decodes_whatever_its_chunks() {
        let plain = text(100_000); // 3 MB: more than one output step
        let packed = zstd::bulk::compress(&plain, 3).unwrap();
        assert!(packed.len() * 20 < plain.len());
        assert_eq!(decode(vec![packed.clone()]).unwrap(), plain);
        for size in [1, 7, 4096] {
            let chunks = packed.chunks(size).map(<[u8]>::to_vec).collect();
            assert_eq!(decode(chunks).unwrap(), plain, "chunks of {size}");
        }
        // Two frames one after the other are one body.
        let second = zstd::bulk::compress(b"{\"kind\":\"user\",\"id\":\"z\"}\n", 1).unwrap();
        let mut both = packed.clone();
        both.extend_from_slice(&second);
        let mut expected = plain.clone();
        expected.extend_from_slice(b"{\"kind\":\"user\",\"id\":\"z\"}\n");
        assert_eq!(decode(vec![both]).unwrap(), expected);
        assert_eq!(decode(vec![]).unwrap(), b"");
    }

    #[test]
    fn a_cut_or_foreign_body_is_an_error() {
        let packed = zstd::bulk::compress(&text(1000), 3).unwrap();
        let cut = packed[..packed.len() - 5].to_vec();
        assert!(
            decode(vec![cut])
                .unwrap_err()
                .contains("ends inside a frame")
        );
        let err = decode(vec![b"{\"kind\":\"user\"}\n".to_vec()]).unwrap_err();
        assert!(err.contains("not valid zstd"), "{err}");
    }

    #[test]
    fn codings() {
        assert_eq!(Coding::parse(None), Some(Coding::Identity));
        assert_eq!(Coding::parse(Some("identity")), Some(Coding::Identity));
        assert_eq!(Coding::parse(Some(" ZSTD ")), Some(Coding::Zstd));
        assert_eq!(Coding::parse(Some("gzip")), None);
        assert_eq!(Coding::parse(Some("zstd, gzip")), None);
    }
}
