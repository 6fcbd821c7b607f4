//! One verified download: stream a URL into `<file>.part` with an md5 digest and a progress bar (on a terminal only),
//! and rename it into place only when the transfer is complete and the digest matches; otherwise remove it.

use crate::error::{GohspError, IoContext, Result};
use indicatif::{ProgressBar, ProgressStyle};
use md5::{Digest, Md5};
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An HTTP agent with connect and read time-outs; it honours `HTTPS_PROXY`/`HTTP_PROXY` unless `loopback` (ureq 2
/// ignores `NO_PROXY`, so a local test server must not be sent to a proxy).
pub(crate) fn http_agent(loopback: bool) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .try_proxy_from_env(!loopback)
        .build()
}

/// Download `url` to `dest`, checking its md5 against `expected_md5` (hex, any case). Nothing is left at `dest` or
/// `dest.part` when the transfer fails or the digest differs.
pub(crate) fn download_verified(agent: &ureq::Agent, url: &str, expected_md5: &str, dest: &Path) -> Result<()> {
    let part = part_path(dest);
    let outcome = stream_to_file(agent, url, &part);
    let actual = match outcome {
        Ok(digest) => digest,
        Err(err) => {
            let _ = std::fs::remove_file(&part);
            return Err(err);
        }
    };
    if !actual.eq_ignore_ascii_case(expected_md5) {
        std::fs::remove_file(&part).at_path(&part)?;
        let message = format!("checksum mismatch for {url}: expected md5 {expected_md5}, got {actual}");
        return Err(GohspError::input(dest, message, "the download was removed; run the command again"));
    }
    std::fs::rename(&part, dest).at_path(dest)
}

/// `<dest>.part`.
pub(crate) fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Stream the body of `url` into `part`; return its md5 as lowercase hex. A body shorter than its Content-Length is
/// an error.
fn stream_to_file(agent: &ureq::Agent, url: &str, part: &Path) -> Result<String> {
    let failed =
        |message: String| GohspError::input(part, message, "check the network connection and run the command again");
    let response = agent
        .get(url)
        .set("Accept-Encoding", "identity")
        .call()
        .map_err(|err| failed(format!("cannot download {url}: {err}")))?;
    let declared: Option<u64> = response.header("Content-Length").and_then(|value| value.trim().parse().ok());
    let bar = progress_bar(declared, url);
    let mut reader = response.into_reader();
    let mut file = File::create(part).at_path(part)?;
    let (mut hasher, mut received, mut buffer) = (Md5::new(), 0u64, vec![0u8; 1 << 16]);
    loop {
        let count = reader
            .read(&mut buffer)
            .map_err(|err| failed(format!("transfer of {url} interrupted after {received} bytes: {err}")))?;
        if count == 0 {
            break;
        }
        hasher.update(&buffer[..count]);
        file.write_all(&buffer[..count]).at_path(part)?;
        received += count as u64;
        bar.set_position(received);
    }
    bar.finish_and_clear();
    if let Some(expected) = declared.filter(|&expected| expected != received) {
        return Err(failed(format!("transfer of {url} interrupted: {received} of {expected} bytes")));
    }
    file.sync_all().at_path(part)?;
    Ok(hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect())
}

/// A byte-count bar (a spinner without a known length) on stderr when it is a terminal; hidden otherwise.
fn progress_bar(length: Option<u64>, url: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match length {
        Some(length) => (ProgressBar::new(length), "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"),
        None => (ProgressBar::new_spinner(), "{msg} {spinner} {bytes} {bytes_per_sec}"),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_path_appends_a_suffix() {
        assert_eq!(part_path(Path::new("/d/x.tar.gz")), PathBuf::from("/d/x.tar.gz.part"));
    }

    #[test]
    fn unreachable_server_is_an_error_that_leaves_no_file() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f.gz");
        let url = format!("http://127.0.0.1:{port}/f.gz");
        let err = download_verified(&http_agent(true), &url, "00", &dest).unwrap_err();
        assert!(err.to_string().contains(&url), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
