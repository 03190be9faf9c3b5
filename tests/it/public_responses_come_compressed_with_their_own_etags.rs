//! A phone on a slow network asks for the page with `Accept-Encoding: br` and gets brotli that
//! decodes to exactly the plain page; gzip likewise; a client that says nothing gets the plain
//! body. Each variant has its own ETag (a cache holding the brotli body gets 304 only for
//! brotli), and every answer says `Vary: Accept-Encoding`.

use crate::support::app::TestApp;
use crate::support::{config::TestConfig, emulator, REGIONS};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};
use std::io::Read;

struct Got {
    status: u16,
    encoding: Option<String>,
    etag: String,
    vary: Option<String>,
    body: Vec<u8>,
}

async fn get(app: &TestApp, path: &str, accept: Option<&str>, etag: Option<&str>) -> Got {
    let mut req = reqwest::Client::new().get(format!("{}{path}", app.url()));
    if let Some(a) = accept {
        req = req.header(ACCEPT_ENCODING, a);
    }
    if let Some(e) = etag {
        req = req.header(IF_NONE_MATCH, e);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    let h = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Got {
        status: resp.status().as_u16(),
        encoding: h(CONTENT_ENCODING),
        etag: h(ETAG).unwrap_or_default(),
        vary: h(VARY),
        body: resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brotli_and_gzip_decode_to_the_plain_body_and_each_variant_has_its_etag() {
    let emu = emulator(&REGIONS).await;
    let app = TestApp::spawn(TestConfig::new(&emu, &REGIONS)).await;
    for path in ["/", "/api/v2/summary.json", "/history.atom", "/history.rss"] {
        let plain = get(&app, path, None, None).await;
        assert_eq!(
            (plain.status, plain.encoding.as_deref()),
            (200, None),
            "{path}"
        );
        assert_eq!(plain.vary.as_deref(), Some("Accept-Encoding"), "{path}");

        let br = get(&app, path, Some("gzip, deflate, br"), None).await;
        assert_eq!(br.encoding.as_deref(), Some("br"), "{path}");
        assert_eq!(
            br.etag,
            format!("{}-br\"", plain.etag.trim_end_matches('"')),
            "{path}: same generation"
        );
        let mut decoded = Vec::new();
        brotli_decompressor::Decompressor::new(&br.body[..], 4096)
            .read_to_end(&mut decoded)
            .unwrap_or_else(|e| panic!("{path}: brotli: {e}"));
        assert_eq!(
            decoded, plain.body,
            "{path}: brotli decodes to the plain body"
        );
        assert!(
            br.body.len() * 3 < plain.body.len() || plain.body.len() < 2000,
            "{path}: {} of {} bytes",
            br.body.len(),
            plain.body.len()
        );

        let gz = get(&app, path, Some("gzip"), None).await;
        assert_eq!(gz.encoding.as_deref(), Some("gzip"), "{path}");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..])
            .read_to_end(&mut decoded)
            .unwrap_or_else(|e| panic!("{path}: gzip: {e}"));
        assert_eq!(
            decoded, plain.body,
            "{path}: gzip decodes to the plain body"
        );

        let again = get(&app, path, Some("br"), Some(&br.etag)).await;
        assert_eq!(
            (again.status, again.body.len()),
            (304, 0),
            "{path}: the brotli ETag is fresh for brotli"
        );
        assert_eq!(again.etag, br.etag);
        let other = get(&app, path, None, Some(&br.etag)).await;
        assert_eq!(other.status, 200, "{path}: but not for the plain body");
        let refused = get(&app, path, Some("br;q=0, gzip;q=0"), None).await;
        assert_eq!(refused.encoding, None, "{path}: q=0 refuses");
    }
    app.stop().await;
}
