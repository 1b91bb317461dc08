//! `/openapi.json` (the embedded OpenAPI document) and `/docs`: a self-contained page built
//! from it at first request (no CDN, nothing downloaded) listing every operation, with a small
//! form to try each one against this server.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chorus_protocol::plexichat_rest::SPEC_JSON;
use std::sync::OnceLock;

pub async fn openapi() -> Response {
    let mut r = SPEC_JSON.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page() -> String {
    let doc: serde_json::Value = serde_json::from_str(SPEC_JSON).unwrap_or_default();
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let mut ops = String::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                    continue;
                }
                let m = method.to_uppercase();
                let summary = op["summary"].as_str().unwrap_or("");
                let body = op["requestBody"]["content"]["application/json"]["examples"]
                    .as_object()
                    .and_then(|e| e.values().next())
                    .map(|e| e["value"].to_string())
                    .unwrap_or_default();
                let statuses: Vec<&str> = op["responses"]
                    .as_object()
                    .map(|r| r.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let public = op["security"].as_array().is_some_and(|s| s.is_empty());
                ops.push_str(&format!(
                    "<details><summary><b class=m>{m}</b> <code>{p}</code> {s}{lock}</summary>\
                     <form onsubmit=\"return send(this)\"><input name=m type=hidden value=\"{m}\">\
                     <input name=p size=70 value=\"{p}\"><br><textarea name=b rows=3 cols=70>{b}</textarea><br>\
                     <button>Send</button> <small>answers: {st}</small><pre></pre></form></details>\n",
                    p = esc(path),
                    s = esc(summary),
                    lock = if public { "" } else { " 🔒" },
                    b = esc(&body),
                    st = statuses.join(", "),
                ));
            }
        }
    }
    format!(
        "<!doctype html><meta charset=utf-8><title>{t}</title>\
         <style>body{{font:14px sans-serif;max-width:60em;margin:2em auto}}.m{{display:inline-block;width:4em}}details{{margin:.3em 0}}pre{{background:#f4f4f4}}</style>\
         <h1>{t}</h1><p>The OpenAPI document: <a href=/openapi.json>/openapi.json</a>. \
         Token for 🔒 operations: <input id=tok size=60 placeholder=\"session or bot token\"></p>{ops}\
         <script>async function send(f){{const h={{'Content-Type':'application/json'}};const t=document.getElementById('tok').value;\
         if(t)h.Authorization='Bearer '+t;const o={{method:f.m.value,headers:h}};if(f.m.value!=='GET'&&f.b.value)o.body=f.b.value;\
         const r=await fetch(f.p.value,o);f.querySelector('pre').textContent=r.status+'\\n'+await r.text();return false}}</script>",
        t = esc(title)
    )
}

pub async fn docs() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let mut r = PAGE.get_or_init(page).clone().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}
