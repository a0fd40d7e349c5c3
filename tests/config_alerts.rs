//! `{ alert = .. }` entries from a configuration file post through the
//! file's `[alerters.*]`, with the message rendered from its template and
//! the URL read from a secret; a local server (127.0.0.1) receives them.
#![cfg(feature = "alerts")]

mod config_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use config_common::exclusive;
use hookflow::config::Config;
use hookflow::step;

#[step]
fn nightly_load() -> anyhow::Result<()> {
    anyhow::bail!("disk full")
}

/// Serves one HTTP request on 127.0.0.1 and sends back its path and body.
fn one_request_server() -> (u16, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .unwrap();
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        tx.send((path, String::from_utf8(body).unwrap())).unwrap();
    });
    (port, rx)
}

#[test]
fn an_alert_entry_posts_the_rendered_message_through_the_file_alerter() {
    let _g = exclusive();
    let (port, received) = one_request_server();
    // The URL comes from the environment, as `{{ secret.NAME }}`.
    std::env::set_var(
        "HOOKFLOW_CONFIG_ALERTS_TEST_URL",
        format!("http://127.0.0.1:{port}/hooks/ops"),
    );
    let config = Config::from_toml_str(
        "hookflow.toml",
        r#"
        [alerters.ops]
        kind = "webhook"
        url = "{{ secret.HOOKFLOW_CONFIG_ALERTS_TEST_URL }}"

        [steps.nightly_load]
        on_failure = [{ alert = "ops", message = "{{ hook.step_name }} failed: {{ hook.error_message }}" }]
        "#,
    )
    .unwrap();
    assert!(
        format!("{config:?}").contains("\"alert:ops\""),
        "{config:?}"
    );
    config.install();

    nightly_load().unwrap_err();
    let (path, body) = received
        .recv_timeout(Duration::from_secs(20))
        .expect("the alert reached the local server");
    assert_eq!(path, "/hooks/ops");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["message"], "nightly_load failed: disk full");
    assert_eq!(json["step_name"], "nightly_load");
    assert!(hookflow::wait_for_detached_hooks(Duration::from_secs(10)));
}

#[test]
fn a_config_error_and_the_config_never_show_a_secret_value() {
    let _g = exclusive();
    let secret = "http://127.0.0.1:9/ops-hook-credential-4fd8a1";
    std::env::set_var("HOOKFLOW_CONFIG_SECRET_TEST", secret);
    // The alerter reads the secret (which makes it known), and a mistake
    // elsewhere in the file pastes the same value where a snippet shows it.
    let text = format!(
        r#"
        [alerters.ops]
        kind = "webhook"
        url = "{{{{ secret.HOOKFLOW_CONFIG_SECRET_TEST }}}}"

        [steps.nightly_load]
        on_failure = [{{ alert = "ops" }}]
        retry_delay = "{secret}"
        "#
    );
    let err = Config::from_toml_str("hookflow.toml", &text).unwrap_err();
    let shown = format!("{err}\n{err:?}");
    assert!(shown.contains("retry_delay"), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(
        shown.contains("[secret HOOKFLOW_CONFIG_SECRET_TEST]"),
        "{shown}"
    );

    let ok = r#"
        [alerters.ops]
        kind = "webhook"
        url = "{{ secret.HOOKFLOW_CONFIG_SECRET_TEST }}"

        [steps.nightly_load]
        on_failure = [{ alert = "ops", message = "failed" }]
        "#;
    let config = Config::from_toml_str("hookflow.toml", ok).unwrap();
    assert!(!format!("{config:?}").contains(secret));
}

#[test]
fn a_bad_header_is_reported_at_its_name_or_value() {
    let text = "[alerters.hook]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/h\"\nheaders = { \"Bad Name\" = \"x\" }\n";
    let err = Config::from_toml_str("h.toml", text).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!((p.line(), p.column()), (4, 13), "{err}");
    assert!(
        p.message()
            .contains("`Bad Name` is not a valid header name"),
        "{err}"
    );

    let text = "[alerters.hook]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/h\"\nheaders = { X-Token = \"a\\nb\" }\n";
    let err = Config::from_toml_str("h.toml", text).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!((p.line(), p.column()), (4, 23), "{err}");
    assert!(
        p.message()
            .contains("the value of header `x-token` is not valid"),
        "{err}"
    );
}
