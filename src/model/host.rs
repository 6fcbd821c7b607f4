//! Tensors held on the host as plain f32 vectors with timm's names and layouts: the exchange format between files and models.

use burn::tensor::{Device, Tensor, TensorData};
use std::collections::BTreeMap;

/// A dense f32 tensor in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// Tensors by timm name (`blocks.0.attn.qkv.weight`, ...), weights in timm's [out, in] layout.
pub type NamedTensors = BTreeMap<String, HostTensor>;

impl HostTensor {
    /// A tensor; panics if the value count does not match the shape.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "host tensor size mismatch");
        Self { shape, data }
    }

    /// Read a burn tensor back to the host.
    pub fn from_tensor<const D: usize>(tensor: Tensor<D>) -> Self {
        let shape = tensor.dims().to_vec();
        let data = tensor.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 tensor data");
        Self { shape, data }
    }

    /// Upload to `device` as a rank-D tensor; panics if the rank differs.
    pub fn to_tensor<const D: usize>(&self, device: &Device) -> Tensor<D> {
        assert_eq!(self.shape.len(), D, "rank mismatch");
        Tensor::from_data(TensorData::new(self.data.clone(), self.shape.clone()), device)
    }

    /// The transpose of a 2-D tensor (timm [out, in] <-> burn [in, out]).
    pub fn transposed(&self) -> Self {
        let (rows, cols) = (self.shape[0], self.shape[1]);
        let mut data = vec![0.0; self.data.len()];
        for r in 0..rows {
            for c in 0..cols {
                data[c * rows + r] = self.data[r * cols + c];
            }
        }
        Self { shape: vec![cols, rows], data }
    }

    /// Rows `rows` of a 2-D tensor (or elements of a 1-D one), in the given order.
    pub fn select_rows(&self, rows: &[usize]) -> Self {
        let width: usize = self.shape[1..].iter().product();
        let mut data = Vec::with_capacity(rows.len() * width);
        for &r in rows {
            data.extend_from_slice(&self.data[r * width..(r + 1) * width]);
        }
        let mut shape = self.shape.clone();
        shape[0] = rows.len();
        Self { shape, data }
    }

    /// Columns `cols` of a 2-D tensor, in the given order.
    pub fn select_cols(&self, cols: &[usize]) -> Self {
        self.transposed().select_rows(cols).transposed()
    }

    /// Rows of several 2-D (or 1-D) tensors stacked in order.
    pub fn concat_rows(parts: &[&HostTensor]) -> Self {
        let mut shape = parts[0].shape.clone();
        shape[0] = parts.iter().map(|p| p.shape[0]).sum();
        let data = parts.iter().flat_map(|p| p.data.iter().copied()).collect();
        Self { shape, data }
    }

    /// Number of values.
    pub fn numel(&self) -> usize {
        self.data.len()
    }
}
