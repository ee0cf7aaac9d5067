//! The pages in a real browser: headless Chromium driven through ChromeDriver's W3C WebDriver
//! protocol (a handful of JSON calls, spoken here directly over HTTP).

use std::io::Cursor;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use serde_json::{Value, json};

use crate::helpers::*;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub(crate) struct Browser {
    agent: ureq::Agent,
    session: String,
    driver: Child,
    downloads: PathBuf,
    _profile: tempfile::TempDir,
    _downloads: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.session).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub(crate) fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is not installed: run ./scripts/test, which installs it");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                },
            },
        }}});
        let mut res = agent
            .post(format!("{base}/session"))
            .send_json(&caps)
            .unwrap();
        let body: Value = res.body_mut().read_json().unwrap();
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {body}"));
        Browser {
            agent,
            session: format!("{base}/session/{id}"),
            driver,
            downloads: downloads.path().to_path_buf(),
            _profile: profile,
            _downloads: downloads,
        }
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let mut res = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("POST", body) => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
            _ => unreachable!(),
        }
        .unwrap();
        let status = res.status();
        let value: Value = res.body_mut().read_json().unwrap();
        assert!(status.is_success(), "{method} {path}: {value}");
        value["value"].clone()
    }

    pub(crate) fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub(crate) fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_owned()
    }

    pub(crate) fn exists(&self, css: &str) -> bool {
        let v = self.call(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        );
        !v.as_array().unwrap().is_empty()
    }

    pub(crate) fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Clicks an element once it is scrolled to the middle of the window, as a person would
    /// see it: WebDriver alone scrolls it to the bottom edge, under the form's sticky buttons.
    pub(crate) fn click(&self, css: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "arguments[0].scrollIntoView({ block: 'center' });",
                "args": [{ ELEMENT: id }],
            })),
        );
        self.call("POST", &format!("/element/{id}/click"), None);
    }

    pub(crate) fn fill(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/clear"), None);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Waits for an element: a click that submits a form returns before the next page loads.
    pub(crate) fn wait_for(&self, css: &str) {
        let started = Instant::now();
        while !self.exists(css) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{css} never appeared on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a script in the page and returns its value.
    pub(crate) fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    pub(crate) fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_owned()
    }

    /// Sets the window to `width` x `height` CSS pixels, as a phone's screen would be.
    pub(crate) fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Saves a picture of the window to `$BAOCAO_SCREENSHOTS/name.png` when that variable is
    /// set, for a person to look at; a test run without it takes none.
    pub(crate) fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("BAOCAO_SCREENSHOTS") else {
            return;
        };
        use base64::Engine as _;
        // The whole page, not just the window: the window is stretched to the page's height
        // for the picture and then put back.
        let rect = self.call("GET", "/window/rect", None);
        let chrome =
            rect["height"].as_f64().unwrap() - self.eval("return innerHeight").as_f64().unwrap();
        let page = self
            .eval("return document.documentElement.scrollHeight")
            .as_f64()
            .unwrap();
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": rect["width"], "height": (page + chrome).min(8000.0) })),
        );
        let data = self.call("GET", "/screenshot", None);
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": rect["width"], "height": rect["height"] })),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }

    pub(crate) fn login(&self, base: &str, user: &str) {
        self.go(&format!("{base}/dang-nhap"));
        self.fill("#username", user);
        self.fill("#password", "demo");
        self.click("button[type=submit]");
        self.wait_for("table.list");
        assert!(
            self.url().ends_with("/ky-bao-cao"),
            "after login: {}",
            self.url()
        );
    }

    pub(crate) fn logout(&self) {
        // On a phone the button is behind «Menu».
        if self.eval("return document.querySelector('header nav').offsetHeight === 0") == true {
            self.click("header label[for=menu-toggle]");
        }
        self.click("header form button");
        self.wait_for("#username");
    }

    fn wait_for_download(&self) -> PathBuf {
        let started = Instant::now();
        loop {
            let done: Vec<PathBuf> = std::fs::read_dir(&self.downloads)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            if let [file] = done.as_slice()
                && file.extension().is_some_and(|e| e == "xlsx")
            {
                return file.clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no download: {done:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Types a report into the form the way a person would: numbers with a decimal comma,
/// radio buttons for yes/no, the list for a choice.
fn fill_report(browser: &Browser, values: &Value) {
    for (key, value) in values.as_object().unwrap() {
        match value {
            Value::Bool(b) => browser.click(&format!(
                "input[name='v.{key}'][value='{}']",
                if *b { "co" } else { "khong" }
            )),
            Value::String(option) => browser.click(&format!("#v-{key} option[value='{option}']")),
            Value::Number(n) => {
                browser.fill(&format!("#v-{key}"), &n.to_string().replace('.', ","))
            }
            other => panic!("{key}: {other}"),
        }
    }
    for (key, text) in full_sections().as_object().unwrap() {
        browser.fill(&format!("#s-{key}"), text.as_str().unwrap());
    }
}

fn total_members(path: &Path) -> f64 {
    let bytes = std::fs::read(path).unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range("Tổng hợp").unwrap();
    let col = (0..60)
        .find(|&c| {
            sheet
                .get_value((9, c))
                .is_some_and(|d| d.to_string().starts_with("Số thành viên của Tổ"))
        })
        .unwrap();
    let row = (10..40)
        .find(|&r| {
            sheet
                .get_value((r, 1))
                .is_some_and(|d| matches!(d, calamine::Data::String(s) if s == "Tổng cộng"))
        })
        .unwrap();
    match sheet.get_value((row, col)) {
        Some(calamine::Data::Float(f)) => *f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_commune_fixes_a_wrong_field_and_submits_and_the_province_counts_it() {
    let app = TestApp::spawn();
    let browser = Browser::start();

    // The commune logs in, opens the round and fills the form with one wrong figure.
    browser.login(&app.base, COMMUNE);
    assert!(
        browser
            .text("main")
            .contains("Báo cáo định kỳ công tác khoa giáo")
    );
    browser.click(&format!("a[href='/ky-bao-cao/{}']", app.round_id));
    browser.wait_for("form.report");
    assert!(browser.url().contains(&format!("/bao-cao/{COMMUNE}")));
    let values = full_values(11);
    fill_report(&browser, &values);
    browser.fill("#v-so_nu", "mười hai");
    browser.click("#submit");
    browser.wait_for("#form-error");

    // The error stands beside its field; what was typed is kept; nothing was submitted.
    let error = browser.text("#err-so_nu");
    assert!(
        error.contains("«Số thành viên nữ» phải là một số"),
        "{error}"
    );
    assert!(browser.exists("#field-so_nu.has-error"));
    assert!(!browser.exists("#err-so_thanh_vien"));
    assert_eq!(browser.text("#report-status"), "Chưa lập");
    let kept = browser.find("#v-so_thanh_vien");
    let kept = browser.call("GET", &format!("/element/{kept}/property/value"), None);
    assert_eq!(kept, "11");
    // The summary above the form has the focus, counts the problems and leads to the field.
    assert_eq!(browser.eval("return document.activeElement.id"), "summary");
    assert!(browser.text("#summary").contains("Có 1 lỗi cần sửa"));
    browser.screenshot("desktop-commune-form-error");
    browser.click("#summary a[href='#v-so_nu']");
    assert_eq!(browser.eval("return document.activeElement.id"), "v-so_nu");

    // Fixed, saved, and submitted once confirmed.
    browser.fill("#v-so_nu", "5");
    browser.click("#submit");
    browser.wait_for("#confirm-yes");
    assert_eq!(
        browser.eval("return document.activeElement.id"),
        "confirm-yes"
    );
    // The round's title already says its period: it is not said twice.
    let asked = browser.text("main");
    assert!(
        asked.contains("Kỳ báo cáo: Báo cáo định kỳ công tác khoa giáo năm 2025\n"),
        "{asked}"
    );
    browser.screenshot("desktop-confirm");
    browser.click("#confirm-yes");
    browser.wait_for("#notice");
    assert!(browser.text("#notice").contains("Đã nộp báo cáo"));
    assert_eq!(browser.text("#report-status"), "Đã nộp, chờ tiếp nhận");
    assert!(
        !browser.exists("#submit"),
        "a submitted report is no longer a form"
    );
    browser.logout();

    // The province sees the commune counted, provisionally, and downloads the workbook.
    browser.login(&app.base, PROVINCE);
    browser.click(&format!("a[href='/ky-bao-cao/{}']", app.round_id));
    browser.wait_for("#completeness");
    assert!(browser.url().contains(&format!("/don-vi/{PROVINCE}")));
    let row = browser.text("#completeness tbody tr:nth-child(4)");
    assert!(row.starts_with("Huyện Quỳnh Phụ"), "{row}");
    assert!(row.contains("1/35 0 0 34 2,9%"), "{row}");
    browser.click("#provisional");
    browser.wait_for(".badge.warn");
    let total = browser.text("#rollup tbody tr:nth-child(2) td.total");
    assert_eq!(total, "11");
    browser.screenshot("desktop-province-unit");
    browser.click(&format!(
        "a[href='/ky-bao-cao/{}/don-vi/{DISTRICT}?tam-tinh=1']",
        app.round_id
    ));
    browser.wait_for(&format!(
        "a[href='/ky-bao-cao/{}/bao-cao/{COMMUNE}']",
        app.round_id
    ));
    let commune_column = browser.text("#rollup thead");
    assert!(commune_column.contains("Xã An Khê"));
    browser.go(&format!(
        "{}/ky-bao-cao/{}/don-vi/{PROVINCE}?tam-tinh=1",
        app.base, app.round_id
    ));
    browser.wait_for("#download");
    browser.click("#download");
    let file = browser.wait_for_download();
    assert_eq!(total_members(&file), 11.0);
}

#[test]
fn a_new_person_logs_in_with_the_slip_and_must_choose_a_password_first() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    let (status, created) = district.post(
        "/api/v1/accounts",
        &json!({ "unit": COMMUNE, "username": "lan.ankhe", "full_name": "Trần Thị Lan" }),
    );
    assert_eq!(status, 201, "{created}");
    let slip = created["password"].as_str().unwrap().to_owned();
    let browser = Browser::start();
    let base = &app.base;
    browser.go(&format!("{base}/dang-nhap"));
    browser.fill("#username", "lan.ankhe");
    browser.fill("#password", &slip);
    browser.click("button[type=submit]");
    browser.wait_for("#forced");
    assert!(
        browser.url().ends_with("/doi-mat-khau"),
        "{}",
        browser.url()
    );
    // Anywhere else leads back here until the password is changed.
    browser.go(&format!("{base}/ky-bao-cao"));
    browser.wait_for("#forced");
    // A weak password is refused beside its field.
    browser.fill("#current", &slip);
    browser.fill("#new", "12345678910");
    browser.fill("#again", "12345678910");
    browser.click("#change-password");
    browser.wait_for("#form-error");
    assert!(
        browser
            .text(".has-error .error-text")
            .contains("ít nhất 10")
            || browser.text(".has-error .error-text").contains("dễ đoán")
    );
    browser.fill("#current", &slip);
    browser.fill("#new", "hoa sen trắng ao làng 24");
    browser.fill("#again", "hoa sen trắng ao làng 24");
    browser.click("#change-password");
    browser.wait_for("table.list");
    assert!(browser.url().ends_with("/ky-bao-cao"), "{}", browser.url());
    assert!(browser.text("header").contains("Trần Thị Lan"));
}

#[test]
fn what_was_typed_but_not_saved_is_offered_back_in_the_same_tab() {
    let app = TestApp::spawn();
    let browser = Browser::start();
    browser.login(&app.base, COMMUNE);
    let form = format!("{}/ky-bao-cao/{}/bao-cao/{COMMUNE}", app.base, app.round_id);
    browser.go(&form);
    browser.wait_for("form.report");
    // Typed, then the page left before saving (as when a save meets a busy or restarted
    // server, or the session ends): the form offers it back.
    browser.fill("#v-luot_nguoi_nghe", "1.250");
    browser.fill("#s-ket_qua", "Tổ đã tổ chức 12 buổi tuyên truyền.");
    browser.go(&form);
    browser.wait_for("#typed-back");
    let kept = browser.find("#v-luot_nguoi_nghe");
    let before = browser.call("GET", &format!("/element/{kept}/property/value"), None);
    assert_eq!(before, "", "the page shows what the server has");
    browser.click("#typed-restore");
    let kept = browser.find("#v-luot_nguoi_nghe");
    assert_eq!(
        browser.call("GET", &format!("/element/{kept}/property/value"), None),
        "1.250"
    );
    assert!(!browser.exists("#typed-back"));
    // Saved, it is no longer offered.
    browser.click("#save");
    browser.wait_for("#notice");
    browser.go(&form);
    browser.wait_for("form.report");
    assert!(
        !browser.exists("#typed-back"),
        "saved: nothing to offer back"
    );
    let (_, stored) = app.login(COMMUNE).get(&app.report_path(COMMUNE));
    assert_eq!(stored["values"]["luot_nguoi_nghe"], 1250);
    assert_eq!(
        stored["sections"]["ket_qua"],
        "Tổ đã tổ chức 12 buổi tuyên truyền."
    );
}
