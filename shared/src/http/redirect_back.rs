//! The authorization response on the wire (RFC 6749 4.1.2, OAuth 2.0 Form Post Response Mode):
//! `response_mode=query` is a 303 to the redirect URI with the parameters in its query (303,
//! never 307, after a post: RFC 9700 4.12); `form_post` is a 200 page whose one nonce'd script
//! submits a form of the parameters to the redirect URI (a button does it without script).

use lambda_http::{Body, Response};

use super::pages::Pages;
use crate::oauth2::{AuthorizationResponse, ResponseMode};

pub fn respond(pages: &Pages, response: &AuthorizationResponse) -> Response<Body> {
    match response.mode {
        ResponseMode::Query => super::landing::redirect(&response.url()),
        ResponseMode::FormPost => pages.form_post(response),
    }
}
