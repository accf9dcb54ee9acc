//! Serves a folder of static files (the built dashboard) at `/`, so the relay alone brings the
//! dashboard up. Only plain names are served: no `..`, no hidden files, no percent-escapes; a
//! path without an extension that names no file gets `index.html`, for the app's own routes.

use std::path::{Path, PathBuf};

use axum::{
    http::{HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use selfos_proto::handshake::Audience;

/// The dashboard's content security policy: it may run its WASM and open sockets to this relay
/// (`audience`, the origin its challenges name) and nowhere else; nothing else leaves the page.
pub(crate) fn policy(audience: &Audience) -> HeaderValue {
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
         connect-src 'self' {audience}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    );
    // An audience is a parsed origin (scheme, host, port): always a valid header value.
    HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'none'"))
}

/// The file under `root` that `uri` names, if it is one we serve.
fn resolve(root: &Path, uri: &Uri) -> Option<PathBuf> {
    let path = uri.path().strip_prefix('/')?;
    let plain = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@' | b'+'))
    };
    if path.is_empty() {
        return Some(root.join("index.html"));
    }
    if !path.split('/').all(plain) {
        return None;
    }
    let file = root.join(path);
    if file.is_file() {
        Some(file)
    } else if Path::new(path).extension().is_none() {
        Some(root.join("index.html"))
    } else {
        None
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Answers a GET for a static file, with the content security policy `csp`, or 404.
pub(crate) async fn serve(root: &Path, uri: &Uri, csp: HeaderValue) -> Response {
    let Some(file) = resolve(root, uri) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(bytes) = tokio::fs::read(&file).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Vite names built assets by content hash: they never change under one name.
    let cache = if uri.path().starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&file)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_under_the_root_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("assets")).unwrap();
        std::fs::write(root.join("index.html"), "index").unwrap();
        std::fs::write(root.join("assets/app-1a2b.js"), "js").unwrap();
        let at = |p: &str| resolve(root, &p.parse().unwrap());
        assert_eq!(at("/"), Some(root.join("index.html")));
        assert_eq!(
            at("/assets/app-1a2b.js"),
            Some(root.join("assets/app-1a2b.js"))
        );
        // The app's own routes get the app.
        assert_eq!(at("/conflicts"), Some(root.join("index.html")));
        for refused in [
            "/assets/missing.js",
            "/../Cargo.toml",
            "/assets/../index.html",
            "/.env",
            "/%2e%2e/secret",
            "/a//b",
            "/assets\\app.js",
        ] {
            assert_eq!(at(refused), None, "{refused}");
        }
    }

    #[test]
    fn types_match_what_browsers_require() {
        // Streaming WASM compilation requires exactly application/wasm.
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
        assert!(content_type(Path::new("x.js")).starts_with("text/javascript"));
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
    }
}
