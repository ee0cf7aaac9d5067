//! The OpenAPI document describes the API that is actually served.

use crate::helpers::*;

#[test]
fn the_openapi_document_is_served_without_login_and_lists_every_operation() {
    let app = TestApp::spawn();
    let (status, doc) = app.client().get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/login", &["post"][..]),
        ("/api/v1/logout", &["post"]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/rounds", &["get", "post"]),
        ("/api/v1/rounds/{round}", &["get", "put"]),
        ("/api/v1/rounds/{round}/close", &["post"]),
        ("/api/v1/rounds/{round}/deadlines", &["post"]),
        ("/api/v1/rounds/{round}/reopen", &["post"]),
        ("/api/v1/rounds/{round}/history", &["get"]),
        ("/api/v1/rounds/{round}/tasks/{unit}", &["put"]),
        ("/api/v1/rounds/{round}/overdue/{unit}", &["get"]),
        ("/api/v1/rounds/{round}/quality/{unit}", &["get"]),
        ("/api/v1/rounds/{round}/series/{unit}", &["get"]),
        ("/api/v1/rounds/{round}/reports/{unit}/reopen", &["post"]),
        ("/api/v1/rounds/{round}/reports/{unit}/history", &["get"]),
        ("/api/v1/rounds/{round}/reports/{unit}", &["get", "put"]),
        ("/api/v1/rounds/{round}/reports/{unit}/submit", &["post"]),
        ("/api/v1/rounds/{round}/reports/{unit}/accept", &["post"]),
        ("/api/v1/rounds/{round}/reports/{unit}/return", &["post"]),
        ("/api/v1/rounds/{round}/rollup/{unit}", &["get"]),
        ("/api/v1/rounds/{round}/export/{file}", &["get"]),
        ("/api/v1/rounds/{round}/document/{file}", &["get"]),
        ("/api/v1/rounds/{round}/compare/{other}/{unit}", &["get"]),
        ("/api/v1/rounds/{round}/form/{file}", &["get"]),
        ("/api/v1/rounds/{round}/bulk/{unit}", &["post"]),
        ("/api/v1/rounds/{round}/reports/{unit}/upload", &["post"]),
        ("/api/v1/units/{unit}/members", &["get", "post"]),
        ("/api/v1/units/{unit}/members/{id}", &["put"]),
        ("/api/v1/units/{unit}/teams", &["get"]),
        ("/api/v1/openapi.json", &["get"]),
        ("/api/v1/accounts", &["get", "post"]),
        ("/api/v1/accounts/bulk", &["post"]),
        ("/api/v1/accounts/{id}/reset", &["post"]),
        ("/api/v1/accounts/{id}/deactivate", &["post"]),
        ("/api/v1/accounts/{id}/reactivate", &["post"]),
        ("/api/v1/password", &["put"]),
        ("/api/v1/sessions", &["get"]),
        ("/api/v1/sessions/others", &["delete"]),
        ("/api/v1/sessions/{id}", &["delete"]),
        ("/api/v1/backups", &["get"]),
        ("/api/v1/admin/audit", &["get"]),
        ("/api/v1/units", &["post"]),
        ("/api/v1/units/{unit}", &["put"]),
        ("/api/v1/units/{unit}/close", &["post"]),
    ] {
        for method in methods {
            assert!(
                paths.get(path).and_then(|p| p.get(*method)).is_some(),
                "{method} {path} is not documented"
            );
        }
    }
    // Every documented GET without parameters answers (401 at most), so none is a dead entry.
    let anon = app.client();
    for path in paths.keys().filter(|p| !p.contains('{')) {
        if paths[path].get("get").is_some() {
            let (status, _) = anon.get(path);
            assert!(status == 200 || status == 401, "{path}: {status}");
        }
    }
    // An undocumented address under the API is a JSON 404, not a page.
    let (status, body) = anon.get("/api/v1/no-such-thing");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
}
