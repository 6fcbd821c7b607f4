//! Test helpers: deterministic random tensors from the kernels crate (which tests its kernels with the same
//! generators), and temporary spec files.

pub(crate) use gohsp_kernels::testing::*;

/// A temporary `.yaml` file holding `text` (removed when dropped).
pub(crate) fn spec_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    file
}
