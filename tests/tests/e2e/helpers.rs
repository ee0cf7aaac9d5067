//! `TestApp`: the real server, on a free port, over a fresh database, loaded with Thái Bình's
//! real units and one account per unit. The database is a SQLite file in a temporary
//! directory or, when `BAOCAO_TEST_POSTGRES` names a PostgreSQL cluster
//! (`postgres://user@host:port`), a new database of its own on that cluster, dropped after.

use std::net::TcpListener;
use std::path::PathBuf;

use diesel::RunQueryDsl;

use baocao::config::Settings;
use baocao::seed;
use baocao::startup::{Application, prepare};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const PROVINCE: &str = "34";
/// Huyện Quỳnh Phụ and two of its communes.
pub const DISTRICT: &str = "338";
pub const COMMUNE: &str = "12475";
pub const COMMUNE_2: &str = "12478";
/// Huyện Hưng Hà and one of its communes: another subtree.
pub const OTHER_DISTRICT: &str = "339";
pub const OTHER_COMMUNE: &str = "12589";

pub struct TestApp {
    pub base: String,
    /// The database's URL (a file path on SQLite).
    pub database: String,
    pub round_id: i64,
    /// The server's clock: tests stop it at an exact instant to judge deadlines.
    pub clock: baocao::clock::Clock,
    db: std::sync::Arc<Database>,
}

/// A fresh database for one test: a file in a temporary directory, or a database on the
/// PostgreSQL cluster that `BAOCAO_TEST_POSTGRES` names, dropped when the test ends.
pub struct Database {
    pub url: String,
    _dir: TempDir,
    postgres: Option<(String, String)>,
}

impl Database {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Database {
        match std::env::var("BAOCAO_TEST_POSTGRES") {
            Ok(cluster) if !cluster.is_empty() => Database::on_cluster(&cluster),
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                Database {
                    url: dir.path().join("baocao.db").to_string_lossy().into_owned(),
                    _dir: dir,
                    postgres: None,
                }
            }
        }
    }

    /// A new, empty database on the test's PostgreSQL cluster, whichever backend the suite runs
    /// on: `./scripts/test` starts one and names it in `BAOCAO_TEST_PG_CLUSTER`.
    pub fn on_postgres() -> Database {
        let cluster = std::env::var("BAOCAO_TEST_PG_CLUSTER")
            .or_else(|_| std::env::var("BAOCAO_TEST_POSTGRES"))
            .expect(
                "this test needs a PostgreSQL cluster: run ./scripts/test, which starts one, or set BAOCAO_TEST_PG_CLUSTER=postgres://user@host:port",
            );
        Database::on_cluster(&cluster)
    }

    fn on_cluster(cluster: &str) -> Database {
        let dir = tempfile::tempdir().expect("temp dir");
        let cluster = cluster.trim_end_matches('/').to_owned();
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let mut admin = admin_connection(&cluster);
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .expect("drop an old test database");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the test database");
        Database {
            url: format!("{cluster}/{name}"),
            _dir: dir,
            postgres: Some((cluster, name)),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((cluster, name)) = &self.postgres {
            let mut admin = admin_connection(cluster);
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

static NEXT_DB: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn admin_connection(cluster: &str) -> diesel::PgConnection {
    use diesel::Connection;
    diesel::PgConnection::establish(&format!("{cluster}/postgres")).expect("the test cluster")
}

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../report-schemas/schemas")
}

/// A test server's settings on `database`: a free port, the repository's templates.
fn settings_for(database: &str) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database: database.to_owned(),
        schemas: Some(schemas_dir()),
        ..Settings::default()
    }
}

impl TestApp {
    /// Units and accounts only, and a round of the periodic template opened by the province
    /// over HTTP, with deadlines a month ahead.
    pub fn spawn() -> TestApp {
        TestApp::spawn_at(None)
    }

    /// [`TestApp::spawn`], told the public URL people reach it at.
    pub fn spawn_at(public_url: Option<&str>) -> TestApp {
        let public_url = public_url.map(str::to_owned);
        TestApp::spawn_with(move |settings| settings.public_url = public_url)
    }

    /// [`TestApp::spawn`] with settings of its own.
    pub fn spawn_with(tune: impl FnOnce(&mut Settings)) -> TestApp {
        let mut app = TestApp::start(false, tune);
        let province = app.login(PROVINCE);
        let deadline = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
        let (status, body) = province.post(
            "/api/v1/rounds",
            &json!({
                "template": "dinh-ky",
                "period_type": "year",
                "year": 2025,
                "commune_deadline": deadline,
                "district_deadline": deadline + chrono::Duration::days(5),
            }),
        );
        assert_eq!(status, 201, "{body}");
        app.round_id = body["id"].as_i64().expect("round id");
        app
    }

    /// With `--demo` data: the demo round and its filed reports.
    pub fn spawn_demo() -> TestApp {
        let mut app = TestApp::start(true, |_| {});
        app.round_id = 1;
        app
    }

    /// An empty database set up for the province with GSO code `province`, as `baocao setup`
    /// does, with the administrator `admin` whose password is `password`: no other account.
    pub fn set_up(province: &str, password: &str) -> TestApp {
        TestApp::set_up_from(&baocao::setup::Source::Province(province), password)
    }

    /// [`TestApp::set_up`] from any source of units (a province, a file, the whole country).
    pub fn set_up_from(source: &baocao::setup::Source, password: &str) -> TestApp {
        let db = Database::new();
        let (state, _) = prepare(&settings_for(&db.url)).expect("prepare");
        {
            let mut conn = state.pool.get().expect("connection");
            let admin = baocao::setup::Admin {
                username: "admin".into(),
                full_name: "Quản trị hệ thống".into(),
            };
            baocao::setup::setup(&mut conn, source, &admin, || Ok(password.to_owned()))
                .expect("setup");
        }
        TestApp::serve(state, db)
    }

    fn start(demo: bool, tune: impl FnOnce(&mut Settings)) -> TestApp {
        let db = Database::new();
        let mut settings = Settings {
            demo,
            ..settings_for(&db.url)
        };
        tune(&mut settings);
        let (state, _) = prepare(&settings).expect("prepare");
        if !demo {
            let mut conn = state.pool.get().expect("connection");
            seed::load_units(&mut conn, seed::THAI_BINH_UNITS).expect("units");
            seed::demo_accounts(&mut conn).expect("accounts");
        }
        TestApp::serve(state, db)
    }

    /// Serves `state` (over `db`) on a free port, on a thread of its own.
    pub fn serve(state: baocao::AppState, db: Database) -> TestApp {
        TestApp::serve_shared(state, std::sync::Arc::new(db))
    }

    fn serve_shared(state: baocao::AppState, db: std::sync::Arc<Database>) -> TestApp {
        let clock = state.clock.clone();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::with_listener(state, listener).expect("server");
                app.run().await.expect("server run");
            });
        });
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            database: db.url.clone(),
            round_id: 0,
            clock,
            db,
        }
    }

    /// A server over `db` as it is (no units or accounts are loaded).
    pub fn open(db: Database) -> TestApp {
        let (state, _) = prepare(&settings_for(&db.url)).expect("prepare");
        TestApp::serve(state, db)
    }

    /// A second server, of its own (its own pool, caches and writer), on this one's database:
    /// as behind a load balancer.
    pub fn another_server(&self) -> TestApp {
        let (state, _) = prepare(&settings_for(&self.database)).expect("prepare the second server");
        let mut other = TestApp::serve_shared(state, self.db.clone());
        other.round_id = self.round_id;
        other
    }

    pub fn client(&self) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Client {
            agent,
            base: self.base.clone(),
            extra: Vec::new(),
        }
    }

    /// A client logged in as the account of `unit_code` (password "demo").
    pub fn login(&self, unit_code: &str) -> Client {
        let client = self.client();
        let (status, body) = client.post(
            "/api/v1/login",
            &json!({ "username": unit_code, "password": "demo" }),
        );
        assert_eq!(status, 200, "login {unit_code}: {body}");
        client
    }

    /// Applies the real 2025 reorganisation of Thái Bình (into Hưng Yên, 33) to the running
    /// server's database file, as `baocao units reorganise` does.
    pub fn reorganise_2025(&self) -> baocao::reorg::Summary {
        let pool = baocao::db::connect(&self.database).expect("database");
        let mut conn = pool.get().expect("connection");
        let mapping = include_str!("../../../seeds/thai_binh_2025_mapping.csv");
        baocao::reorg::reorganise(
            &mut conn,
            mapping,
            chrono::NaiveDate::from_ymd_opt(2025, 7, 1).expect("a date"),
            &baocao::reorg::Placement {
                code: "33".into(),
                name: "Tỉnh Hưng Yên".into(),
            },
        )
        .expect("reorganisation")
    }

    /// Stops the server's clock at a Vietnam wall-clock time.
    pub fn set_vietnam_time(&self, y: i32, m: u32, d: u32, h: u32, min: u32, sec: u32) {
        let local = chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, sec))
            .expect("a real time");
        self.clock.set(Some(baocao::domain::vn::from_local(local)));
    }

    pub fn report_path(&self, unit: &str) -> String {
        format!("/api/v1/rounds/{}/reports/{unit}", self.round_id)
    }
}

#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// Headers every request carries (e.g. a foreign `Origin`, as a forged request has).
    extra: Vec<(String, String)>,
}

/// A page's answer: its status, Location header and HTML.
fn page_of(mut res: ureq::http::Response<ureq::Body>) -> (u16, String, String) {
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        res.status().as_u16(),
        location,
        res.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn read(mut res: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

impl Client {
    /// The same client (same cookies) talking to another server (see
    /// [`TestApp::another_server`]).
    pub fn at(&self, server: &TestApp) -> Client {
        let mut other = self.clone();
        other.base = server.base.clone();
        other
    }

    /// The same client (same cookies), every request of it also carrying `name: value`.
    pub fn with_header(&self, name: &str, value: &str) -> Client {
        let mut other = self.clone();
        other.extra.push((name.to_owned(), value.to_owned()));
        other
    }

    fn extra_headers<B>(&self, mut req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        for (name, value) in &self.extra {
            req = req.header(name, value);
        }
        req
    }

    /// A JSON post's status and response headers.
    pub fn post_headers(&self, path: &str, body: &Value) -> (u16, ureq::http::HeaderMap) {
        let res = self
            .extra_headers(self.agent.post(format!("{}{path}", self.base)))
            .send_json(body)
            .expect("POST");
        (res.status().as_u16(), res.headers().clone())
    }

    /// A page's status and response headers.
    pub fn headers(&self, path: &str) -> (u16, ureq::http::HeaderMap) {
        let res = self
            .extra_headers(self.agent.get(format!("{}{path}", self.base)))
            .call()
            .expect("GET");
        (res.status().as_u16(), res.headers().clone())
    }
    pub fn get(&self, path: &str) -> (u16, Value) {
        read(
            self.extra_headers(self.agent.get(format!("{}{path}", self.base)))
                .call()
                .expect("GET"),
        )
    }

    pub fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let mut res = self
            .extra_headers(self.agent.get(format!("{}{path}", self.base)))
            .call()
            .expect("GET");
        let status = res.status().as_u16();
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = res
            .body_mut()
            .with_config()
            .limit(100 << 20)
            .read_to_vec()
            .expect("body");
        (status, ctype, bytes)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        read(
            self.extra_headers(self.agent.post(format!("{}{path}", self.base)))
                .send_json(body)
                .expect("POST"),
        )
    }

    pub fn post_empty(&self, path: &str) -> (u16, Value) {
        read(
            self.extra_headers(self.agent.post(format!("{}{path}", self.base)))
                .send_empty()
                .expect("POST"),
        )
    }

    pub fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        read(
            self.extra_headers(self.agent.put(format!("{}{path}", self.base)))
                .send_json(body)
                .expect("PUT"),
        )
    }

    /// The anti-forgery token a page carries in its forms, as a browser has it from the page.
    pub fn csrf_from(&self, page: &str) -> String {
        let (_, _, html) = self.page(page);
        html.split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }

    /// Where a form's token comes from: the login page for the login, else any signed-in page.
    fn csrf_for(&self, path: &str) -> String {
        self.csrf_from(if path == "/dang-nhap" {
            "/dang-nhap"
        } else {
            "/ky-bao-cao"
        })
    }

    /// A form post, as a browser sends it from one of our pages (with the page's anti-forgery
    /// token); returns the status, the Location header and the body.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let token = self.csrf_for(path);
        let mut fields = fields.to_vec();
        fields.push(("_csrf", &token));
        self.post_form_raw(path, &fields)
    }

    /// A form post, with its page's token, whose answer is a file: status, type, bytes.
    pub fn post_form_download(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, Vec<u8>) {
        let token = self.csrf_for(path);
        let mut fields = fields.to_vec();
        fields.push(("_csrf", &token));
        let mut res = self
            .extra_headers(self.agent.post(format!("{}{path}", self.base)))
            .send_form(fields.iter().copied())
            .expect("POST form");
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = res
            .body_mut()
            .with_config()
            .limit(10 << 20)
            .read_to_vec()
            .expect("body");
        (res.status().as_u16(), ctype, bytes)
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        read(
            self.extra_headers(self.agent.delete(format!("{}{path}", self.base)))
                .call()
                .expect("DELETE"),
        )
    }

    /// A form body sent as it is (already encoded), with the page's token put first.
    pub fn post_encoded(&self, path: &str, encoded: &str) -> (u16, String, String) {
        let token = self.csrf_for(path);
        let res = self
            .extra_headers(self.agent.post(format!("{}{path}", self.base)))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("_csrf={token}&{encoded}"))
            .expect("POST form");
        page_of(res)
    }

    /// A form post exactly as given: no token added.
    pub fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let res = self
            .extra_headers(self.agent.post(format!("{}{path}", self.base)))
            .send_form(fields.iter().copied())
            .expect("POST form");
        page_of(res)
    }

    /// A page: its status, Location header and HTML.
    pub fn page(&self, path: &str) -> (u16, String, String) {
        let res = self
            .extra_headers(self.agent.get(format!("{}{path}", self.base)))
            .call()
            .expect("GET page");
        page_of(res)
    }

    /// A browser's file upload: one file field in a multipart form.
    pub fn post_file(
        &self,
        path: &str,
        field: &str,
        name: &str,
        bytes: &[u8],
    ) -> (u16, String, String) {
        let boundary = "----baocao-test-boundary-7MA4YWxkTrZu0gW";
        let token = self.csrf_for(path);
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let res = self
            .extra_headers(self.agent.post(format!("{}{path}", self.base)))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..])
            .expect("POST file");
        page_of(res)
    }

    /// A file as the request body.
    pub fn post_bytes(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        read(
            self.extra_headers(self.agent.post(format!("{}{path}", self.base)))
                .header(
                    "content-type",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
                .send(&body[..])
                .expect("POST bytes"),
        )
    }

    /// A raw body with a JSON content type, for malformed input.
    pub fn put_raw(&self, path: &str, body: &str) -> (u16, Value) {
        read(
            self.extra_headers(self.agent.put(format!("{}{path}", self.base)))
                .header("content-type", "application/json")
                .send(body)
                .expect("PUT"),
        )
    }
}

/// A complete, valid periodic report for a team of `members`.
pub fn full_values(members: i64) -> Value {
    json!({
        "so_thanh_vien": members,
        "so_kiem_nhiem": members - 1,
        "so_nu": members / 2,
        "so_dai_hoc": members / 3,
        "so_tren_60": 1,
        "co_to_truong": true,
        "so_cuoc_hop": 6,
        "tt_giao_duc": 2,
        "tt_khcn": 1,
        "tt_moi_truong": 3,
        "tt_y_te": 4,
        "tt_dan_so": 1,
        "tt_vsattp": 2,
        "tt_khuyen_hoc": 1,
        "tt_xa_hoi": 0,
        "luot_nguoi_nghe": 350,
        "tin_bai_truyen_thanh": 12,
        "so_de_xuat": 3,
        "van_de_phat_sinh": 4,
        "van_de_giai_quyet": 3,
        "ct03_co_ke_hoach": true,
        "ct03_so_buoi": 2,
        "ct03_dien_hinh": 1,
        "sk_nq03_y_te": true,
        "sk_nq06_giao_duc": false,
        "kinh_phi": 12.5,
        "diem_tu_cham": 85.0,
        "muc_do_hoan_thanh": "tot"
    })
}

pub fn full_sections() -> Value {
    json!({
        "ket_qua": "Tổ đã tổ chức 6 cuộc họp và 14 buổi tuyên truyền về y tế, môi trường, giáo dục.",
        "phuong_huong": "Tiếp tục kiện toàn Tổ, đẩy mạnh tuyên truyền về vệ sinh an toàn thực phẩm."
    })
}

/// The id of the account with `username` among those `board` manages.
pub fn account_id(board: &Client, username: &str) -> i64 {
    let (status, list) = board.get("/api/v1/accounts");
    assert_eq!(status, 200, "{list}");
    list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {list}"))["id"]
        .as_i64()
        .unwrap()
}

/// Saves a full draft and submits it; returns the submitted report.
pub fn file_report(app: &TestApp, client: &Client, unit: &str, members: i64) -> Value {
    let path = app.report_path(unit);
    let (status, current) = client.get(&path);
    assert_eq!(status, 200, "{current}");
    let (status, saved) = client.put(
        &path,
        &json!({ "values": full_values(members), "sections": full_sections(), "version": current["version"] }),
    );
    assert_eq!(status, 200, "{saved}");
    let (status, submitted) = client.post(
        &format!("{path}/submit"),
        &json!({ "version": saved["version"] }),
    );
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    submitted
}
