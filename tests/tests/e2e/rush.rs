//! A rush: many people at once. Requests wait their turn as tasks, a few at a time on the
//! database, so the server's threads stay few; past its waiting places it says at once that
//! it is busy (503, Retry-After, in Vietnamese) and recovers as soon as the rush passes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use baocao::gate::GateLimits;

use crate::helpers::*;

/// The server's threads: every thread of this process but the clients' (named `client-…`).
fn server_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| !name.starts_with("client-"))
        .count()
}

/// `n` clients at once, each asking for `path` once; the statuses, and the most server
/// threads seen meanwhile.
fn rush(
    client: &Client,
    path: &str,
    n: usize,
) -> (Vec<(u16, serde_json::Value, Option<String>)>, usize) {
    let start = Arc::new(Barrier::new(n + 1));
    let done = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let (client, path, start) = (client.clone(), path.to_owned(), start.clone());
            std::thread::Builder::new()
                .name(format!("client-{i}"))
                .spawn(move || {
                    start.wait();
                    let (status, headers) = client.headers(&path);
                    let retry = headers
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_owned());
                    let body = if status == 200 {
                        serde_json::Value::Null
                    } else {
                        client.get(&path).1
                    };
                    (status, body, retry)
                })
                .unwrap()
        })
        .collect();
    start.wait();
    // Watched from here, once every client thread has started: one that has not yet taken its
    // name goes by the test's and would be counted as the server's.
    let watcher = {
        let (done, most) = (done.clone(), most.clone());
        std::thread::Builder::new()
            .name("client-watch".into())
            .spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let n = server_threads();
                    most.fetch_max(n, Ordering::Relaxed);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            })
            .unwrap()
    };
    let answers = clients.into_iter().map(|c| c.join().unwrap()).collect();
    done.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    (answers, most.load(Ordering::Relaxed))
}

#[test]
fn past_its_places_a_rush_hears_busy_at_once_and_the_server_recovers() {
    // Tight places: one job at a time, two admitted; forty people at once.
    let app = TestApp::spawn_with(|s| {
        s.gate = GateLimits {
            running: 1,
            admitted: 2,
        };
    });
    let province = app.login(PROVINCE);
    let path = format!("/api/v1/rounds/{}/rollup/{PROVINCE}", app.round_id);
    let (answers, _) = rush(&province, &path, 40);
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(
        !busy.is_empty(),
        "forty at once past two places: someone hears busy"
    );
    assert!(
        answers.iter().all(|a| a.0 == 200 || a.0 == 503),
        "{answers:?}"
    );
    for (_, _, retry) in &busy {
        assert_eq!(retry.as_deref(), Some("2"), "503 says when to try again");
    }
    // The rush over, the server serves again.
    let (status, body) = province.get(&path);
    assert_eq!(
        status, 200,
        "the rush over, the server serves again: {body}"
    );
}

#[test]
fn three_hundred_at_once_are_all_served_on_a_bounded_number_of_threads() {
    let app = TestApp::spawn();
    let district = app.login(DISTRICT);
    let before = server_threads();
    let path = format!("/api/v1/rounds/{}/rollup/{DISTRICT}", app.round_id);
    let (answers, most) = rush(&district, &path, 300);
    let failed: Vec<_> = answers.iter().filter(|a| a.0 != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of 300 failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    // Each of the server's workers keeps at most 18 blocking threads (16 database jobs run at
    // once); 300 waiting requests are tasks, not threads.
    assert!(
        most < before + 48,
        "the server's threads grew from {before} to {most} for 300 waiting requests"
    );
}

#[test]
fn a_busy_answer_is_vietnamese_and_changes_nothing() {
    let app = TestApp::spawn_with(|s| {
        s.gate = GateLimits {
            running: 1,
            admitted: 1,
        };
    });
    let commune = app.login(COMMUNE);
    let path = app.report_path(COMMUNE);
    let body =
        serde_json::json!({ "values": full_values(7), "sections": full_sections(), "version": 0 });
    // Fifty saves of the same draft at once: each either saved (one wins the version, the others
    // are told it moved on) or told the server is busy; none fails otherwise.
    let start = Arc::new(Barrier::new(50));
    let saves: Vec<_> = (0..50)
        .map(|i| {
            let (commune, path, body, start) =
                (commune.clone(), path.clone(), body.clone(), start.clone());
            std::thread::Builder::new()
                .name(format!("client-{i}"))
                .spawn(move || {
                    start.wait();
                    commune.put(&path, &body)
                })
                .unwrap()
        })
        .collect();
    let answers: Vec<(u16, serde_json::Value)> =
        saves.into_iter().map(|s| s.join().unwrap()).collect();
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(!busy.is_empty());
    for (_, b) in &busy {
        assert_eq!(b["error"], "busy");
        assert!(
            b["message"].as_str().unwrap().contains("Máy chủ đang bận"),
            "{b}"
        );
    }
    assert_eq!(
        answers.iter().filter(|a| a.0 == 200).count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|a| matches!(a.0, 200 | 409 | 503)),
        "{answers:?}"
    );
    let (_, stored) = commune.get(&path);
    assert_eq!(stored["version"], 1, "one save, stored once");
}
