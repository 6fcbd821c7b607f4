//! The ONNX protobuf messages (`ModelProto`, `GraphProto`, `NodeProto`, ...), generated at build time from
//! `proto/onnx.proto` by prost (see build.rs).
#![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic, reason = "generated code")]

include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
