//! Generates the ONNX protobuf types from `proto/onnx.proto` (ONNX's own schema, Apache-2.0) with prost; protox
//! compiles the schema in Rust, so building needs no `protoc` binary and no network.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let descriptors = protox::compile(["proto/onnx.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
