//! Public bodies kept in three encodings: plain, gzip and brotli, compressed once when the
//! snapshot is published, so a request only picks one (`Accept-Encoding`, with q-values) and
//! never compresses. Each variant has its own entity tag, and every answer says
//! `Vary: Accept-Encoding` so caches keep them apart.

use bytes::Bytes;
use std::io::Write;

/// gzip level: the default trade-off (the body is compressed once per publish).
const GZIP_LEVEL: u32 = 6;
/// brotli quality: a publish happens on every change, so not the slowest 11.
const BROTLI_QUALITY: u32 = 6;
/// brotli window (log2 bytes).
const BROTLI_WINDOW: u32 = 22;

/// One body in every encoding mimic serves.
#[derive(Debug, Clone, Default)]
pub struct Encoded {
    /// As rendered.
    pub plain: Bytes,
    /// gzip of `plain`.
    pub gzip: Bytes,
    /// brotli of `plain`.
    pub br: Bytes,
}

/// An encoding a client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No `Content-Encoding`.
    Identity,
    /// `gzip`.
    Gzip,
    /// `br`.
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` token, if any.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Brotli => Some("br"),
        }
    }

    /// The entity tag of this variant of the body tagged `etag` (a quoted string).
    pub fn etag(self, etag: &str) -> String {
        match self.token() {
            None => etag.to_owned(),
            Some(t) => {
                let bare = etag.trim_end_matches('"');
                format!("{bare}-{t}\"")
            }
        }
    }
}

impl Encoded {
    /// `plain` with its compressed variants. A compressor that fails (it writes to memory, so
    /// it does not) leaves that variant empty, and the plain body is served instead.
    pub fn new(plain: impl Into<Bytes>) -> Encoded {
        let plain: Bytes = plain.into();
        let gzip = {
            let mut e = flate2::write::GzEncoder::new(
                Vec::with_capacity(plain.len() / 4),
                flate2::Compression::new(GZIP_LEVEL),
            );
            e.write_all(&plain)
                .and_then(|()| e.finish())
                .unwrap_or_default()
        };
        let br = {
            let mut out = Vec::with_capacity(plain.len() / 4);
            let written = {
                let mut w =
                    brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
                w.write_all(&plain).and_then(|()| w.flush())
            };
            if written.is_ok() {
                out
            } else {
                Vec::new()
            }
        };
        Encoded {
            plain,
            gzip: gzip.into(),
            br: br.into(),
        }
    }

    /// The body and encoding to send to a client that said `accept_encoding`.
    pub fn pick(&self, accept_encoding: Option<&str>) -> (&Bytes, Encoding) {
        match negotiate(accept_encoding) {
            Encoding::Brotli if !self.br.is_empty() => (&self.br, Encoding::Brotli),
            Encoding::Brotli | Encoding::Gzip if !self.gzip.is_empty() => {
                (&self.gzip, Encoding::Gzip)
            }
            _ => (&self.plain, Encoding::Identity),
        }
    }
}

/// The best encoding `accept` allows: brotli, then gzip, by their q-values (RFC 9110 §12.5.3;
/// `*` stands for both, `q=0` refuses), else identity.
pub fn negotiate(accept: Option<&str>) -> Encoding {
    let Some(accept) = accept else {
        return Encoding::Identity;
    };
    let (mut br, mut gzip, mut any) = (None, None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .or_else(|| p.trim().strip_prefix("Q="))
            })
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match coding.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => any = Some(q),
            _ => {}
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn accept_encoding_picks_by_q_value_and_honours_refusals() {
        for (header, want) in [
            (None, Encoding::Identity),
            (Some(""), Encoding::Identity),
            (Some("gzip, deflate, br"), Encoding::Brotli),
            (Some("gzip"), Encoding::Gzip),
            (Some("br;q=0.5, gzip;q=0.8"), Encoding::Gzip),
            (Some("br;q=0, gzip;q=0"), Encoding::Identity),
            (Some("*"), Encoding::Brotli),
            (Some("*;q=0.1, br;q=0"), Encoding::Gzip),
            (Some("identity"), Encoding::Identity),
            (Some("BR"), Encoding::Brotli),
        ] {
            assert_eq!(negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn both_variants_decode_to_the_plain_body_and_have_their_own_tags() {
        let plain = "<p>All systems operational</p>\n".repeat(500);
        let e = Encoded::new(plain.clone());
        assert!(e.gzip.len() * 5 < plain.len() && e.br.len() * 5 < plain.len());
        let mut gz = String::new();
        flate2::read::GzDecoder::new(&e.gzip[..])
            .read_to_string(&mut gz)
            .unwrap_or_else(|err| panic!("{err}"));
        let mut br = String::new();
        brotli_decompressor::Decompressor::new(&e.br[..], 4096)
            .read_to_string(&mut br)
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!((gz.as_str(), br.as_str()), (plain.as_str(), plain.as_str()));
        assert_eq!(Encoding::Brotli.etag("\"g7-1\""), "\"g7-1-br\"");
        assert_eq!(Encoding::Gzip.etag("\"g7-1\""), "\"g7-1-gzip\"");
        assert_eq!(Encoding::Identity.etag("\"g7-1\""), "\"g7-1\"");
    }
}
