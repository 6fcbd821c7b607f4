//! Tests of `fetch` against a tiny HTTP/1.1 server on 127.0.0.1 that answers a fixed list of requests, then exits.

use super::*;
use md5::{Digest, Md5};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Serve `responses` (raw bytes), one per connection, in order, then stop; gives up after 10 s without a client.
fn serve(responses: Vec<Vec<u8>>) -> (String, JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut served = 0;
        for response in responses {
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break Some(stream),
                    Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                    Err(_) => break None,
                }
            };
            let Some(mut stream) = stream else { break };
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = stream.write_all(&response);
            served += 1;
        }
        served
    });
    (base, handle)
}

/// A 200 response whose Content-Length header says `declared` bytes; the connection closes after `body`.
fn response(body: &[u8], declared: usize) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    [head.as_bytes(), body].concat()
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A gzipped tar holding `cifar-10-batches-bin/data_batch_1.bin` with some bytes.
fn tarball() -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    let data = vec![7u8; 3073];
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, "cifar-10-batches-bin/data_batch_1.bin", data.as_slice()).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn good_checksums_give_unpacked_and_kept_files_and_a_marker() {
    let (archive, labels) = (tarball(), b"idx label bytes".to_vec());
    let (base, server) = serve(vec![response(&archive, archive.len()), response(&labels, labels.len())]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cifar10");
    let table = [
        Source::new(&format!("{base}/cifar-10-binary.tar.gz"), &md5_hex(&archive), Unpack::TarGz),
        Source::new(&format!("{base}/t10k-labels-idx1-ubyte.gz"), &md5_hex(&labels).to_uppercase(), Unpack::Keep),
    ];
    assert_eq!(fetch_sources(&table, &root).unwrap(), root);
    assert_eq!(server.join().unwrap(), 2);
    assert_eq!(names(&root), [".complete", "cifar-10-batches-bin", "t10k-labels-idx1-ubyte.gz"]);
    assert_eq!(std::fs::read(root.join("cifar-10-batches-bin/data_batch_1.bin")).unwrap(), vec![7u8; 3073]);
    assert_eq!(std::fs::read(root.join("t10k-labels-idx1-ubyte.gz")).unwrap(), labels);
    // Complete: a second fetch makes no request (nothing listens any more).
    assert_eq!(fetch_sources(&table, &root).unwrap(), root);
}

#[test]
fn bad_checksum_is_an_error_naming_url_and_digests_and_leaves_no_file() {
    let body = b"not what was published".to_vec();
    let (base, server) = serve(vec![response(&body, body.len())]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/train-images-idx3-ubyte.gz");
    let expected = "0123456789abcdef0123456789abcdef";
    let err = fetch_sources(&[Source::new(&url, expected, Unpack::Keep)], dir.path()).unwrap_err();
    server.join().unwrap();
    let text = err.to_string();
    assert!(text.contains(&url) && text.contains(expected) && text.contains(&md5_hex(&body)), "{text}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn interrupted_transfer_is_an_error_and_leaves_no_partial_file() {
    let body = vec![1u8; 100];
    let (base, server) = serve(vec![response(&body, 1000)]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/cifar-100-binary.tar.gz");
    let err = fetch_sources(&[Source::new(&url, &md5_hex(&body), Unpack::TarGz)], dir.path()).unwrap_err();
    server.join().unwrap();
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn official_table_covers_the_four_datasets_and_refuses_others() {
    let cifar = sources("cifar10").unwrap();
    assert_eq!(cifar[0].file_name(), "cifar-10-binary.tar.gz");
    assert_eq!((cifar[0].md5.as_str(), cifar[0].unpack), ("c32a1d4ab5d03f1284b67883e8d87530", Unpack::TarGz));
    let fashion = sources("fashion_mnist").unwrap();
    assert_eq!(fashion.len(), 4);
    assert!(fashion.iter().all(|s| s.unpack == Unpack::Keep && s.url.starts_with("http://fashion-mnist.s3")));
    assert!(sources("mnist").unwrap()[0].url.starts_with("https://ossci-datasets.s3.amazonaws.com/mnist/"));
    assert_eq!(sources("cifar100").unwrap()[0].md5, "03b5dce01913d631647c71ecec9e9cb8");
    let err = sources("imagenet").unwrap_err().to_string();
    assert!(err.contains("image-net.org"), "{err}");
}
