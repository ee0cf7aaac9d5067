//! A small HTTP/1.1 client for a bench's many clients at once: each client a task, all of them
//! on one thread (a tokio runtime of one thread), so that the clients' own CPU, spent on the
//! same two cores as the server's, stays a small part of what is measured. A thread per client
//! (ureq) cost about 0.4 ms of CPU per request, a third as much as the server's work.
//!
//! It speaks only what the benches need: a request with a cookie and a JSON body, on one
//! kept-alive connection, and an answer with a `Content-Length` (what the server sends for
//! JSON); anything else is an error, never a guess.

use std::io::{Error, ErrorKind, Result};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers are read in pieces of this size; an answer's head may not grow past `MAX_HEAD`.
const CHUNK: usize = 16 << 10;
const MAX_HEAD: usize = 64 << 10;

pub struct Connection {
    stream: TcpStream,
    host: String,
    /// What was read past the last answer (nothing, as the server does not pipeline).
    buf: Vec<u8>,
    limit: Duration,
}

fn broken(what: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidData, what.into())
}

impl Connection {
    /// Connects to `host` (`127.0.0.1:PORT`); every step after it must end within `limit`.
    pub async fn open(host: &str, limit: Duration) -> Result<Connection> {
        let stream = tokio::time::timeout(limit, TcpStream::connect(host))
            .await
            .map_err(|_| Error::from(ErrorKind::TimedOut))??;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            host: host.to_owned(),
            buf: Vec::with_capacity(CHUNK),
            limit,
        })
    }

    /// Sends `method path` with `cookie` and the JSON `body`; the answer's status and body.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        cookie: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        tokio::time::timeout(self.limit, self.exchange(&request))
            .await
            .map_err(|_| Error::from(ErrorKind::TimedOut))?
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(broken("an answer's head too long"));
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| broken("an answer's head not UTF-8"))?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| broken("no status in an answer"))?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| broken("an answer without Content-Length"))?;
        while self.buf.len() < head_end + length {
            self.fill().await?;
        }
        let rest = self.buf.split_off(head_end + length);
        let body = self.buf.split_off(head_end);
        self.buf = rest;
        Ok((status, body))
    }

    async fn fill(&mut self) -> Result<()> {
        let at = self.buf.len();
        self.buf.resize(at + CHUNK, 0);
        let n = self.stream.read(&mut self.buf[at..]).await?;
        self.buf.truncate(at + n);
        if n == 0 {
            return Err(Error::from(ErrorKind::UnexpectedEof));
        }
        Ok(())
    }
}
