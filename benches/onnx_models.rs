//! Writes the models the ONNX Runtime latency bench times: DeiT-Tiny and vit_mnist, dense and GOHSP-pruned at 40%
//! sparsity (the same shapes as the throughput bench), as ONNX files, with `models.json` giving each one's MACs and
//! parameters. `cargo bench --bench onnx_models -- DIR` (default `target/onnx-bench`); then
//! `python3 benches/onnx_latency.py DIR` (`just bench-onnx` runs both).

use gohsp::export::onnx::onnx_model;
use gohsp::model::cost::{macs_per_image, param_count};
use gohsp::model::init::init_tensors;
use gohsp::model::manifest::PrunedManifest;
use gohsp::model::presets::preset;
use prost::Message;
use serde_json::json;
use std::path::PathBuf;

#[path = "common/gohsp40.rs"]
mod gohsp40;

fn main() {
    // `cargo bench` passes `--bench` to harness-less targets; the first other argument is the folder.
    let dir = std::env::args().skip(1).find(|a| !a.starts_with("--")).map_or("target/onnx-bench".into(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let mut listed = Vec::new();
    for (name, classes) in [("deit_tiny", 1000), ("vit_mnist", 10)] {
        let shape = preset(name, classes).expect("known preset");
        let tensors = init_tensors(&shape, 0);
        let (pruned_shape, pruned_tensors) = gohsp40::prune(&shape, &tensors, 0.0);
        for (variant, shape, tensors) in [("dense", &shape, &tensors), ("gohsp40", &pruned_shape, &pruned_tensors)] {
            let file = dir.join(format!("{name}_{variant}.onnx"));
            let proto = onnx_model(shape, tensors, &PrunedManifest::dense(shape.clone()), None);
            std::fs::write(&file, proto.encode_to_vec()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            listed.push(json!({
                "model": name, "variant": variant, "file": file.file_name().unwrap().to_str(),
                "macs": macs_per_image(shape), "params": param_count(shape),
                "image": [shape.in_chans, shape.image_size, shape.image_size],
                "heads": shape.blocks.iter().map(|b| b.heads).collect::<Vec<_>>(),
                "mlp": shape.blocks.iter().map(|b| b.mlp).collect::<Vec<_>>(),
            }));
            println!("wrote {} ({} MACs per image)", file.display(), macs_per_image(shape));
        }
    }
    let index = dir.join("models.json");
    std::fs::write(&index, serde_json::to_vec_pretty(&listed).expect("serialises")).expect("models.json written");
    println!("wrote {}", index.display());
}
