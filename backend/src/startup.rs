//! Building the application from its settings: database, templates, seed data, HTTP server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder, TracingLogger};

use crate::AppState;
use crate::catalog::{self, Catalog};
use crate::config::Settings;
use crate::{db, routes, seed};

/// Everything comes from our own origin; no inline script, no framing, forms post only to us.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

/// Each request's span: its method and path, what a failure logged inside it is read with.
/// Lean on purpose: the default span's dozen fields are written out as text for every request,
/// a twentieth of what a page kept in memory costs to serve.
struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        // The fields the default builder fills in when a request ends in an error.
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        // Only a failure is written into the span; a success costs nothing more.
        let failed = match outcome {
            Ok(response) => response.response().error().is_some(),
            Err(_) => true,
        };
        if failed {
            DefaultRootSpanBuilder::on_request_end(span, outcome);
        }
    }
}

/// What a start-up did, for the operator's console.
#[derive(Debug, Default)]
pub struct Prepared {
    pub templates_added: usize,
    pub units_added: usize,
    pub accounts_added: usize,
    pub demo_round: Option<i32>,
}

/// Opens the database, applies migrations, records the templates and, with `demo`, loads the
/// demo data. Units are always loaded on an empty database, so a fresh install can log in.
pub fn prepare(settings: &Settings) -> anyhow::Result<(AppState, Prepared)> {
    let public_origin = settings.public_origin()?;
    let pool = db::connect(&settings.database)?;
    let catalog = Catalog::default();
    let mut conn = pool.get()?;
    let mut prepared = Prepared {
        templates_added: catalog::sync(&mut conn, settings.schemas_dir().as_deref())?,
        ..Prepared::default()
    };
    if settings.demo {
        prepared.units_added = seed::load_units(&mut conn, seed::THAI_BINH_UNITS)?;
        prepared.accounts_added = seed::demo_accounts(&mut conn)?;
        seed::demo_rosters(&mut conn)?;
        prepared.demo_round = seed::demo_round(&mut conn, &catalog)?;
        seed::demo_history(&mut conn, &catalog)?;
    }
    if settings.demo_national {
        prepared.demo_round = seed::national_demo(&mut conn, &catalog)?;
    }
    let built =
        crate::service::rollup::live::ensure_all(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    if built > 0 {
        tracing::info!(rounds = built, "live consolidations built");
    }
    drop(conn);
    // SQLite takes one writer at a time: the server's writes are grouped on one connection.
    // PostgreSQL writes from many connections at once, and groups commits itself.
    let writer = match db::Target::of(&settings.database) {
        db::Target::Sqlite(path) => Some(std::sync::Arc::new(db::writer::Writer::open(&path)?)),
        db::Target::Postgres(_) => None,
    };
    Ok((
        AppState {
            pool,
            catalog,
            clock: crate::clock::Clock::default(),
            limits: settings.limits,
            sessions: settings.sessions,
            writes: Default::default(),
            pages: Default::default(),
            backups: crate::backup::SharedStatus::default(),
            throttle: crate::service::throttle::LoginThrottle::new(settings.login),
            // Half the cores hash passwords; a few hundred logins may wait their turn.
            hashing: crate::service::hashing::Hashing::new(half_the_cores(), 512),
            public_origin,
            gate: crate::gate::Gate::new(settings.gate),
            writer,
        },
        prepared,
    ))
}

pub struct Application {
    port: u16,
    server: Server,
}

/// Connections waiting to be accepted, at most (the kernel may cap it lower: `somaxconn`).
/// The standard library's 128 is too few for a deadline rush: a thousand offices connecting
/// at once overflowed it, and each connection the kernel dropped was tried again only after a
/// second.
const BACKLOG: i32 = 4096;

/// Half the cores, at least one: how many threads hash passwords, and how many workers serve
/// HTTP.
fn half_the_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// A listener on `address` (`host:port`, the host a name or an address), as
/// `TcpListener::bind` makes one, with room for [`BACKLOG`] connections waiting.
fn listen(address: &str) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    use std::net::ToSocketAddrs;
    let mut last = None;
    for addr in address.to_socket_addrs()? {
        let bound = Socket::new(Domain::for_address(addr), Type::STREAM, None).and_then(|s| {
            s.set_reuse_address(true)?;
            s.bind(&addr.into())?;
            s.listen(BACKLOG)?;
            Ok(s)
        });
        match bound {
            Ok(socket) => return Ok(socket.into()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")
    }))
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server without running it.
    /// The address is taken first, before anything is written: a busy port changes nothing.
    /// Without `--demo`, the database must have been set up (`baocao setup`).
    pub fn build(settings: &Settings) -> anyhow::Result<(Application, Prepared)> {
        let listener = listen(&settings.bind).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                anyhow::anyhow!(
                    "địa chỉ {} đang được một chương trình khác dùng (có thể là một máy chủ baocao khác). Chọn địa chỉ khác bằng --bind, ví dụ --bind 127.0.0.1:8081.",
                    settings.bind
                )
            } else {
                anyhow::anyhow!("không mở được địa chỉ {} ({e}); kiểm tra lại --bind.", settings.bind)
            }
        })?;
        let (state, prepared) = prepare(settings)?;
        if !settings.demo && !settings.demo_national {
            let mut conn = state.pool.get()?;
            let admins =
                crate::setup::administrators(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
            if admins.is_empty() {
                let db = crate::db::Target::of(&settings.database).shown();
                anyhow::bail!(
                    "cơ sở dữ liệu «{db}» chưa được thiết lập: chưa có tài khoản quản trị nào, nên chưa ai đăng nhập được.\nHãy chạy trước:  baocao setup --province MÃ_TỈNH --database {db}\n(ví dụ mã 34 là Tỉnh Thái Bình, 01 là Thành phố Hà Nội), rồi chạy lại lệnh này. Muốn xem thử với dữ liệu mẫu: baocao serve --demo"
                );
            }
        }
        crate::backup::start_schedule(state.pool.clone(), &settings.backups, state.backups.clone());
        Ok((Application::with_listener(state, listener)?, prepared))
    }

    pub fn with_listener(state: AppState, listener: TcpListener) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let https = state.https();
        let state = web::Data::new(state);
        let server = HttpServer::new(move || {
            // A header a response sets itself (the stylesheet's caching) is kept.
            let mut headers = DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Referrer-Policy", "same-origin"))
                .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                // Pages and downloads are the person's own: none is kept in a cache, so Back
                // after logging out shows nothing.
                .add((header::CACHE_CONTROL, "no-store"));
            if https {
                headers = headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"));
            }
            App::new()
                .wrap(from_fn(routes::origin::same_origin_only))
                .wrap(from_fn(routes::page::keep_the_menu))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(Compress::default())
                .wrap(headers)
                .app_data(state.clone())
                .configure(routes::configure)
        })
        // HTTP is served by half the cores' worth of workers, the database jobs having the rest:
        // on two cores one worker, where two (actix's default, one a core) handed each request
        // between more threads: 5-20% fewer operations per second in a deadline rush (four
        // alternated runs), 19 threads more, and a dashboard's p99 of 6.6 ms instead of 5.2.
        .workers(half_the_cores())
        // Database work and password checks run on each worker's blocking threads; the gate
        // lets a few run at once, so a few threads suffice: a rush waits as tasks, not threads.
        .worker_max_blocking_threads(crate::db::POOL_SIZE as usize + 2)
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::time::Duration;

    /// A rush of connections nobody has accepted yet all complete: with the standard library's
    /// backlog of 128, the 129th waited for the kernel to try again a second later. (Five
    /// hundred, not a thousand: the kernel's `somaxconn` and a test's file descriptors allow it.)
    #[test]
    fn five_hundred_connections_at_once_wait_to_be_accepted_without_being_dropped() {
        let listener = super::listen("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let held: Vec<TcpStream> = (0..500)
            .map(|i| {
                TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                    .unwrap_or_else(|e| panic!("connection {i} was not taken in: {e}"))
            })
            .collect();
        assert_eq!(held.len(), 500);
    }

    #[test]
    fn a_name_or_an_address_is_listened_on_and_a_taken_port_is_refused() {
        let listener = super::listen("localhost:0").unwrap();
        let taken = super::listen(&listener.local_addr().unwrap().to_string());
        assert_eq!(
            taken.map(|_| ()).unwrap_err().kind(),
            std::io::ErrorKind::AddrInUse
        );
    }
}
