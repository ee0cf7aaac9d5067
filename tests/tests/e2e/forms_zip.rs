//! A district hands out the offline forms of all its communes at once (one .zip) and takes
//! them back filled through the bulk upload.

use std::io::{Cursor, Read, Write};

use serde_json::json;

use crate::helpers::*;
use crate::offline::{filled, python_fill};

#[test]
fn a_district_downloads_every_communes_form_in_one_zip_and_uploads_them_filled() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    let path = format!("/api/v1/rounds/{}/form/{DISTRICT}.zip", app.round_id);
    let (_, headers) = district.headers(&path);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("mau-nhap-{DISTRICT}-ky-{}.zip", app.round_id))
    );
    let (status, ctype, bytes) = district.get_bytes(&path);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ctype, "application/zip");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    // Quỳnh Phụ's 35 communes, each named by code and name without marks.
    assert_eq!(names.len(), 35, "{names:?}");
    assert!(
        names.contains(&format!("{COMMUNE}-xa-an-khe.xlsx")),
        "{names:?}"
    );
    let mut forms = std::collections::HashMap::new();
    for name in &names {
        let mut bytes = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
        forms.insert(name.clone(), bytes);
    }

    // Two filled, zipped again, uploaded by the district: each becomes its commune's draft.
    let dir = tempfile::tempdir().unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for code in [COMMUNE, COMMUNE_2] {
        let name = names.iter().find(|n| n.starts_with(code)).unwrap();
        let filled = python_fill(dir.path(), &forms[name], &json!({ "values": filled() }));
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&filled).unwrap();
    }
    let upload = out.finish().unwrap().into_inner();
    let (status, body) = district.post_bytes(
        &format!("/api/v1/rounds/{}/bulk/{DISTRICT}", app.round_id),
        upload,
    );
    assert_eq!(status, 200, "{body}");
    let stored: Vec<bool> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stored"].as_bool().unwrap())
        .collect();
    assert_eq!(stored, [true, true], "{body}");
    for code in [COMMUNE, COMMUNE_2] {
        let (_, report) = district.get(&app.report_path(code));
        assert_eq!(report["values"]["so_thanh_vien"], 9, "{code}");
    }

    // Nobody else's (the same answer as for a unit that does not exist); and a commune has
    // no communes below it.
    assert_eq!(app.login(OTHER_DISTRICT).get_bytes(&path).0, 403);
    assert_eq!(app.login(COMMUNE).get_bytes(&path).0, 403);
    let missing = format!("/api/v1/rounds/{}/form/99999.zip", app.round_id);
    assert_eq!(district.get_bytes(&missing).0, 403);
    let own = format!("/api/v1/rounds/{}/form/{COMMUNE}.zip", app.round_id);
    assert_eq!(app.login(COMMUNE).get_bytes(&own).0, 404);
}
