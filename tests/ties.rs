//! Exact ties never fall to an index: a model whose block-0 heads are copies of each other stops a GOHSP run with
//! exit 2, naming the tied heads, when the budget must remove one of them (graph, weight-norm heads, magnitude).

mod common;

use common::{MICRO, gohsp, results_root};
use gohsp::model::host::NamedTensors;
use gohsp::model::init::init_tensors;
use gohsp::model::io::save_tensors;
use gohsp::model::shape::VitShape;

/// The micro spec's shape (dim 32, 2 blocks of 2 heads, MLP 64) with seeded weights, block 0's head 1 an exact copy
/// of its head 0 (q, k and v rows, their biases, and proj columns).
fn twin_heads() -> NamedTensors {
    let shape = VitShape::uniform(28, 7, 1, 10, 32, 2, 2, 2.0);
    let mut tensors = init_tensors(&shape, 3);
    let block = shape.blocks[0];
    let (d, a, dh) = (shape.dim, block.attn_dim(), block.head_dim);
    let (rows0, rows1) = (block.head_rows(0), block.head_rows(1));
    let qkv = tensors.get_mut("blocks.0.attn.qkv.weight").unwrap();
    for (&from, &to) in rows0.iter().zip(&rows1) {
        let row: Vec<f32> = qkv.data[from * d..(from + 1) * d].to_vec();
        qkv.data[to * d..(to + 1) * d].copy_from_slice(&row);
    }
    let bias = tensors.get_mut("blocks.0.attn.qkv.bias").unwrap();
    rows0.iter().zip(&rows1).for_each(|(&from, &to)| bias.data[to] = bias.data[from]);
    let proj = tensors.get_mut("blocks.0.attn.proj.weight").unwrap();
    for r in 0..d {
        for j in 0..dh {
            proj.data[r * a + dh + j] = proj.data[r * a + j];
        }
    }
    tensors
}

#[test]
fn twin_heads_that_the_budget_must_split_stop_the_run_with_exit_2_naming_them() {
    let (dir, results) = (tempfile::tempdir().unwrap(), results_root());
    let weights = dir.path().join("twins.safetensors");
    save_tensors(&twin_heads(), &[], &weights).unwrap();
    let weights_set = format!("model.weights={}", weights.display());
    // At 60% sparsity the budget removes one head of each block (every block keeps at least one).
    let args = ["run", MICRO, "--set", &weights_set, "--set", "sparsity=0.6"];
    for method in ["gohsp", "gohsp-magnitude-heads", "magnitude"] {
        let method_set = format!("method={method}");
        let mut with_method = args.to_vec();
        with_method.extend(["--set", &method_set]);
        let out = gohsp(results.path(), &with_method);
        out.expect_code(2);
        let failure = out.stderr.lines().find(|l| l.contains("FAILED")).unwrap_or_else(|| panic!("{}", out.stderr));
        assert!(failure.contains("block 0 head 0, block 0 head 1"), "{method}: {failure}");
        assert!(failure.contains("decided by their index") && failure.contains("hint:"), "{method}: {failure}");
    }
}
