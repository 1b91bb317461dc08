//! The shape of the route tables generated from OpenAPI documents (see `plexichat_rest`).

use crate::de::DecodeError;

/// One operation: `GET /api/v1/users/@me`, say.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: &'static str,
    /// The path template, with `{name}` parameters: `/api/v1/channels/{channel_id}/messages`.
    pub path: &'static str,
    pub operation_id: &'static str,
    /// Callable without credentials (`security: []`).
    pub public: bool,
    /// The JSON request body, when the operation takes one.
    pub request: Option<Body>,
    /// The status of the success answer (the lowest 2xx documented).
    pub success_status: u16,
    /// Every documented answer, in document order.
    pub responses: &'static [Response],
}

impl Route {
    /// The documented answer for a status.
    pub fn response(&self, status: u16) -> Option<&'static Response> {
        self.responses.iter().find(|r| r.status == status)
    }

    /// The body of the success answer.
    pub fn success(&self) -> Option<Body> {
        self.response(self.success_status).and_then(|r| r.body)
    }
}

/// One documented answer of a route.
#[derive(Debug, Clone, Copy)]
pub struct Response {
    pub status: u16,
    /// `None`: the answer has no body.
    pub body: Option<Body>,
}

/// A JSON body: its generated type and where its schema and examples are in the document.
#[derive(Debug, Clone, Copy)]
pub struct Body {
    /// The generated Rust type (the `components/schemas` key).
    pub type_name: &'static str,
    /// JSON pointer of the schema in the embedded document.
    pub schema: &'static str,
    /// JSON pointer of the media type object (it holds the `examples`).
    pub media: &'static str,
    /// Decodes a body of this type (as strictly as `decode`) and encodes it again.
    pub reencode: fn(&str) -> Result<String, DecodeError>,
}
